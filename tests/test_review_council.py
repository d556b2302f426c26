"""The council's side of an initiative's review: a step the state machine refuses is refused before a note
is asked for, scores are their own event in the history, and a title close to a recognised one is flagged."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from messages import plain, text
from storage.database import Store
from tests.helpers.campaigns import campaign_running
from tests.helpers.chat import Chat
from tests.test_initiatives import TITLE, fill

pytestmark = pytest.mark.sandbox


def said(key: str, **params: object) -> str:
    """The Vietnamese text of ``key`` with these values, as the chat shows it."""
    return plain(text("vi", key, **params))


async def submitted_and_valid(hung: Chat, mai: Chat, title: str = TITLE) -> None:
    """Mai submits an initiative and Hùng screens it valid: the card now offers scoring and recognition."""
    await fill(mai, title)
    await mai.press("Nộp sáng kiến")
    await hung.send("/duyet")
    await hung.press("Hợp lệ")


async def test_recognising_before_scoring_is_refused_before_the_note_is_asked(
    chat: Callable[..., Chat], store: Store
) -> None:
    hung, mai = await campaign_running(chat)
    await submitted_and_valid(hung, mai)
    await hung.press("Công nhận")
    assert hung.last_text == said("problem.scores_first")
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
    assert hung.last_text == said("review.ask_note_recognise")
    await hung.send("Áp dụng toàn huyện")
    assert said("review.done_recognise", title=TITLE) in "\n".join(m.plain_text for m in hung.messages[-4:])
