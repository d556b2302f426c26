"""The council's side of an initiative's review: a step the state machine refuses is refused before a note
is asked for, scores are their own event in the history, and a title close to a recognised one is flagged.

The conversations run on every channel (``people``)."""

from __future__ import annotations

import io
import sqlite3
from contextlib import closing
from pathlib import Path

import openpyxl
import pytest

from bot.domain.officers import grant_officer
from bot.domain.vn.textkeys import search_key
from messages import plain, text
from storage.database import Store
from storage.migrate import upgrade
from tests.conftest import People
from tests.helpers.campaigns import campaign_running
from tests.helpers.chat import Chat
from tests.helpers.choices import body, choices, file_content
from tests.helpers.flows import linked
from tests.helpers.memory_chat import MemoryChat
from tests.helpers.roster import HOA, NOW
from tests.test_initiatives import TITLE, fill


def said(key: str, **params: object) -> str:
    """The Vietnamese text of ``key`` with these values, as the chat shows it."""
    return plain(text("vi", key, **params))


async def submitted_and_valid(hung: Chat | MemoryChat, mai: Chat | MemoryChat, title: str = TITLE) -> None:
    """Mai submits an initiative and Hùng screens it valid: the card now offers scoring and recognition."""
    await fill(mai, title)
    await mai.press("Nộp sáng kiến")
    await hung.send("/duyet")
    await hung.press("Hợp lệ")


async def test_recognising_before_scoring_is_refused_before_the_note_is_asked(
    people: People, store: Store
) -> None:
    hung, mai = await campaign_running(people)
    await submitted_and_valid(hung, mai)
    await hung.press("Công nhận")
    assert body(hung.last) == said("problem.scores_first")
    assert said("review.ask_note_recognise") not in "\n".join(m.plain_text for m in hung.messages[-3:])
    # No note dialog was left open: the next words are not taken as a note.
    await hung.send("Rất tốt")
    assert said("problem.scores_first") not in hung.last_text
    async with store.begin() as repos:
        member = await repos.members.by_code("DV001")
        assert member is not None
        [initiative] = await repos.initiatives.of_member(member.id)
    assert initiative.status == "valid"
    # Once scored, the same button asks for the note and recognises.
    await hung.press("Chấm điểm")
    for point in ("8", "7", "9"):
        await hung.press(point)
    await hung.press("Công nhận")
    assert body(hung.last) == said("review.ask_note_recognise")
    await hung.send("Áp dụng toàn huyện")
    assert said("review.done_recognise", title=TITLE) in "\n".join(m.plain_text for m in hung.messages[-4:])


def last_with(member: Chat | MemoryChat, key: str) -> str:
    """The newest message holding the text of ``key``, without a numbered menu."""
    return next(body(m) for m in reversed(member.messages) if said(key) in m.plain_text)


@pytest.mark.telegram
@pytest.mark.zalo
async def test_scoring_is_its_own_event_in_the_history_the_notice_and_the_workbook(
    people: People, store: Store, channel_kind: str
) -> None:
    hung, mai = await campaign_running(people)
    await submitted_and_valid(hung, mai)
    await hung.press("Chấm điểm")
    for point in ("8", "7", "9"):
        await hung.press(point)
    given = ", ".join(
        f"{said(f'initiative.criterion_{name}')} {point}"
        for name, point in (("novelty", 8), ("applicability", 7), ("effect", 9))
    )
    assert body(mai.last) == said("initiative.notice_score", title=TITLE, scores=given, total=24)
    async with store.begin() as repos:
        member = await repos.members.by_code("DV001")
        assert member is not None
        [initiative] = await repos.initiatives.of_member(member.id)
        history = await repos.initiatives.history(initiative.id)
    assert [(entry.event, entry.to_status, entry.scores) for entry in history] == [
        ("moved", "submitted", {}),
        ("moved", "valid", {}),
        ("scored", "valid", {"novelty": 8, "applicability": 7, "effect": 9}),
    ]
    scored = said("initiative.history_scored", scores="8/7/9", total=24)
    # The card drawn again after scoring: one line for the screening, one for the scores.
    card = last_with(hung, "initiative.history_head")
    steps = card.split(said("initiative.history_head"))[1].strip().splitlines()
    assert len(steps) == 3
    assert steps[1].endswith(said("initiative.status_valid")) and steps[2].endswith(scored)
    # The author's page says the same: "valid" in its status line and the screening, not for the scoring.
    await mai.send("/cuatoi")
    await mai.press(TITLE)
    page = last_with(mai, "initiative.history_head")
    assert scored in page and page.count(said("initiative.status_valid")) == 2
    if channel_kind in ("memory-menus", "zalo"):
        return  # no files on this channel, so no workbook: what /baocao says there, test_insights.py checks
    # And the workbook's review history, without the emoji.
    await hung.send("/baocao")
    workbook = file_content(hung.last)
    assert workbook is not None
    sheet = openpyxl.load_workbook(io.BytesIO(workbook))[text("vi", "export.sheet_initiatives")]
    headers = [cell.value for cell in sheet[1]]
    steps = str(sheet.cell(2, headers.index(text("vi", "export.history")) + 1).value).splitlines()
    assert len(steps) == 3 and steps[2].endswith(scored.removeprefix("🧮 "))


@pytest.mark.sqlite_only("it writes rows of an old schema through a bare sqlite3 connection")
def test_scorings_stored_before_events_were_kept_become_scored_events(tmp_path: Path) -> None:
    file = tmp_path / "old.db"
    upgrade(f"sqlite+aiosqlite:///{file}", "0006")
    moves = [("draft", "submitted"), ("submitted", "valid"), ("valid", "valid"), ("valid", "recognised")]
    with closing(sqlite3.connect(file)) as db, db:  # foreign keys are off in a bare connection
        db.executemany(
            "INSERT INTO initiative_history (initiative_id, at, actor, from_status, to_status, note)"
            " VALUES (1, '2026-03-02 01:30:00', 'telegram:1', ?, ?, '')",
            moves,
        )
    upgrade(f"sqlite+aiosqlite:///{file}")
    with closing(sqlite3.connect(file)) as db:
        rows = db.execute("SELECT event, scores FROM initiative_history ORDER BY id").fetchall()
    assert rows == [("moved", "{}"), ("moved", "{}"), ("scored", "{}"), ("moved", "{}")]


def review_card(officer: Chat | MemoryChat) -> str:
    """The newest initiative card of the council's queue."""
    return next(body(m) for m in reversed(officer.messages) if said("review.next_button") in choices(m))


async def recognised(store: Store, member_code: str, title: str, campaign_code: str | None) -> None:
    """An initiative of the member's unit, already through the council and recognised."""
    async with store.begin() as repos:
        member = await repos.members.by_code(member_code)
        campaign = await repos.campaigns.by_code(campaign_code) if campaign_code else None
        assert member is not None
        initiative_id = await repos.initiatives.create_draft(
            author_member_id=member.id, unit_id=member.unit_id, campaign_id=campaign and campaign.id, now=NOW
        )
        named = {"title": title, "title_key": search_key(title)}
        await repos.initiatives.update_fields(initiative_id, named, NOW)
        for version, (before, after) in enumerate(
            (("draft", "submitted"), ("submitted", "valid"), ("valid", "recognised")), start=2
        ):
            moved = await repos.initiatives.move(
                initiative_id,
                version=version,
                from_statuses=(before,),
                to_status=after,
                actor="test",
                note="",
                now=NOW,
            )
            assert moved


async def test_the_council_is_told_of_a_recognised_initiative_with_a_very_close_title_in_its_scope(
    people: People, store: Store
) -> None:
    hung, mai = await campaign_running(people)
    # In the district and the campaign; in the education sector (outside the district); not close at all.
    await recognised(store, "DV001", "Quy trình kiểm tra công tơ điện tử từ xa.", "LDG-2026")
    await recognised(store, "DV003", "Quy trinh kiem tra cong to dien tu tu xa", None)
    await recognised(store, "DV001", "Sổ tay an toàn điện cho công nhân", None)
    await fill(mai)
    await mai.press("Nộp sáng kiến")
    await mai.press("Vẫn nộp")  # the submission check saw the one in the campaign
    await hung.send("/duyet")
    card = review_card(hung)
    in_district = said(
        "review.similar_line",
        title="Quy trình kiểm tra công tơ điện tử từ xa.",
        campaign="Lao động giỏi, lao động sáng tạo 2026",
    )
    assert said("review.similar_recognised", titles=in_district) in card
    assert "Quy trinh kiem tra" not in card and "Sổ tay" not in card  # outside the district; not close
    # The province sees both, the one outside any campaign said so.
    await grant_officer(store, "LDLD-CB", member_code="DV003", actor="test", now=NOW)
    province = await linked(people, HOA)
    await province.send("/duyet")
    card = review_card(province)
    assert in_district in card
    assert said("review.similar_line_alone", title="Quy trinh kiem tra cong to dien tu tu xa") in card


async def test_a_step_taken_outside_the_chat_names_no_raw_actor(people: People, store: Store) -> None:
    # Steps written by the command line or the demo's seed carry an actor that is no chat account.
    _, mai = await campaign_running(people)
    await recognised(store, "DV001", "Sổ tay an toàn điện cho công nhân", "LDG-2026")
    await mai.send("/cuatoi")
    await mai.press("Sổ tay an toàn điện cho công nhân")
    steps = last_with(mai, "initiative.history_head").split(said("initiative.history_head"))[1].splitlines()
    steps = [step for step in steps if step.strip()]
    assert len(steps) == 3
    assert all(said("initiative.actor_outside_chat") + ":" in step for step in steps)
    assert not any("test:" in step for step in steps)
