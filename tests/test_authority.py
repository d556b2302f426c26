"""The authority matrix: every officer action tried by a plain member and by officers of a sibling, a parent
and a child of the unit that owns the object, beside the unit's own officer.

Allowed exactly where the README says (an officer's powers cover the units they lead and everything below,
never a sibling or a parent); a refusal is one neutral sentence that names nothing: not the campaign, not the
initiative, not the unit, not the person. The objects of the district LDLD-HQ (Hà Quảng) are a launched
campaign, a draft, an initiative and a join request of its base union Điện lực (CDCS-DL), and a reminder.
It runs on every channel (``people``): a button nobody was shown is forged on each.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

import pytest

from bot.channels.memory import Sent
from bot.domain.campaigns import CampaignSpec, create_draft, launch
from bot.domain.onboarding import submit_join_request
from bot.engine import buttons as b
from bot.sandbox import SentMessage
from handlers.campaign_views import announcement
from messages import LANGUAGES, plain, text
from storage.database import Store
from storage.records import Campaign
from tests.conftest import People
from tests.helpers.chat import Chat
from tests.helpers.choices import body
from tests.helpers.flows import grant_by_account, linked
from tests.helpers.forged import forge
from tests.helpers.memory_chat import MemoryChat
from tests.helpers.roster import HUNG, MAI, NOW

CAMPAIGN_TITLE = "Phong trào bí mật Hà Quảng 2026"
DRAFT_TITLE = "Bản nháp bí mật Hà Quảng 2026"
INITIATIVE_TITLE = "Sáng kiến bí mật tiết kiệm điện"
REQUESTER = "Trần Văn Bí Mật"
# What no refusal may name: the objects, and the units they belong to.
SECRETS = (CAMPAIGN_TITLE, DRAFT_TITLE, INITIATIVE_TITLE, REQUESTER, "Điện lực", "Hà Quảng")
# The people, by their place relative to LDLD-HQ; officers without a roster entry are granted by account.
OFFICER_ACCOUNTS = {"sibling": (777, "CDN-GD"), "parent": (778, "LDLD-CB"), "child": (779, "CDCS-YT")}
ACTORS = ("member", "sibling", "parent", "child", "own")


@dataclass
class World:
    """The ids of the district's objects, and the people."""

    people: dict[str, Chat | MemoryChat]
    campaign: int
    draft: int
    initiative: int
    version: int
    request: int
    rule: int
    dien_luc: int


async def _campaign(store: Store, code: str, title: str) -> Campaign:
    spec = CampaignSpec(
        code=code,
        title=title,
        unit_code="LDLD-HQ",
        starts_on=date(2026, 3, 1),
        ends_on=date(2026, 12, 31),
        registration_deadline=date(2026, 3, 25),
        individual_titles=["advanced_worker"],
        collective_titles=["excellent_collective"],
    )
    async with store.begin() as repos:
        found = await create_draft(repos, None, spec, "test", NOW, NOW.date())
    assert isinstance(found, Campaign), found
    return found


async def build(on: People, store: Store) -> World:
    """The district's objects and the five people (HÙNG leads LDLD-HQ, MAI is a member of CDCS-DL)."""
    for _, (user_id, unit_code) in OFFICER_ACCOUNTS.items():
        await grant_by_account(store, unit_code, on.channel, on.user_id(user_id))
    people = {"member": await linked(on, MAI), "own": await linked(on, HUNG)}
    for role, (user_id, _) in OFFICER_ACCOUNTS.items():
        people[role] = on(user_id, role.title(), "Cán bộ")
        await people[role].send("/huongdan")
    campaign = await _campaign(store, "BIMAT-2026", CAMPAIGN_TITLE)
    draft = await _campaign(store, "NHAP-2026", DRAFT_TITLE)
    async with store.begin() as repos:
        unit = await repos.units.by_code("LDLD-HQ")
        dien_luc = await repos.units.by_code("CDCS-DL")
        mai = await repos.members.by_code("DV001")
        assert unit is not None and dien_luc is not None and mai is not None
        launched = await launch(
            repos,
            None,
            campaign,
            announcement(campaign, unit, LANGUAGES, NOW.date()),
            default_language="vi",
            now=NOW,
            today=NOW.date(),
        )
        assert not isinstance(launched, Exception)
        initiative = await repos.initiatives.create_draft(
            author_member_id=mai.id, unit_id=dien_luc.id, campaign_id=campaign.id, now=NOW
        )
        await repos.initiatives.update_fields(
            initiative, {"title": INITIATIVE_TITLE, "title_key": INITIATIVE_TITLE.lower()}, NOW
        )
        submitted = {"from_statuses": ("draft",), "to_status": "submitted", "actor": "t", "note": ""}
        assert await repos.initiatives.move(initiative, version=2, now=NOW, **submitted)
        stranger = await repos.accounts.touch(on.channel, "1099", "1099", "Nam", NOW)
        request, _ = await submit_join_request(
            repos,
            stranger,
            full_name=REQUESTER,
            phone=None,
            unit_id=dien_luc.id,
            invite_id=None,
            admins=(),
            now=NOW,
        )
        found = await repos.initiatives.get(initiative)
        assert found is not None
    hung = people["own"]
    # The launch's notices first: on Zalo one arriving later would replace the menu being answered.
    await hung.runtime.outbox.wait_idle()
    await hung.send("/nhacviec")
    await hung.press("Nhắc việc mới")
    await hung.send("Nộp báo cáo sơ kết quý I")
    await hung.send("10/3 8:00")
    await hung.press("Tất cả đoàn viên")
    await hung.press("Xác nhận gửi")
    async with store.begin() as repos:
        rule = next(s.rule.id for s in await repos.reminders.planned() if s.rule.kind == "custom")
    ids = (campaign.id, draft.id, initiative, found.version, request, rule, dien_luc.id)
    return World(people, *ids)


Action = Callable[[Chat | MemoryChat, World], Awaitable[list[SentMessage] | list[Sent]]]


def pressing(payload: Callable[[World], b.ButtonData]) -> Action:
    """An action that presses a (forged, for those who never saw it) button."""

    async def act(person: Chat | MemoryChat, world: World) -> list[SentMessage] | list[Sent]:
        return await forge(person, payload(world).pack())

    return act


def sending(command: str) -> Action:
    """An action that sends a command."""

    async def act(person: Chat | MemoryChat, world: World) -> list[SentMessage] | list[Sent]:
        return await person.send(command)

    return act


async def broadcast_to_registrants(person: Chat | MemoryChat, world: World) -> list[SentMessage] | list[Sent]:
    """/thongbao, a text, then the district campaign's registrants as the audience (offered only for a
    campaign that applies to the officer's unit: its own officers' and those of the units below)."""
    await person.send("/thongbao")
    await person.send("Họp công đoàn lúc 14 giờ")
    return await forge(person, b.AudienceOfCampaign("registered", world.campaign).pack())


def review(action: str) -> Action:
    """A council step on the initiative, as drawn for its current version."""
    return pressing(lambda w: b.ReviewStep(action, w.initiative, w.version))


# action                                    who may:  parent  own   child(CDCS-YT, below the district)
MATRIX: list[tuple[str, Action, set[str]]] = [
    ("open the draft's page", pressing(lambda w: b.ViewCampaign(w.draft)), {"parent", "own"}),
    ("launch preview", pressing(lambda w: b.LaunchPreview(w.draft)), {"parent", "own"}),
    ("launch", pressing(lambda w: b.LaunchGo(w.draft)), {"parent", "own"}),
    ("/phatdong CODE", sending("/phatdong NHAP-2026"), {"parent", "own"}),
    ("close a campaign", pressing(lambda w: b.CloseCampaign(w.campaign)), {"parent", "own"}),
    ("confirm closing", pressing(lambda w: b.ConfirmClose(w.campaign)), {"parent", "own"}),
    ("register a collective", pressing(lambda w: b.CollectiveStart(w.campaign)), {"parent", "own", "child"}),
    ("screen as valid", review("valid"), {"parent", "own"}),
    ("screen as invalid", review("invalid"), {"parent", "own"}),
    ("ask for a revision", review("revision"), {"parent", "own"}),
    ("score", review("score"), {"parent", "own"}),
    ("recognise", review("recognise"), {"parent", "own"}),
    (
        "decide a join request",
        pressing(lambda w: b.DecideJoinRequest("reject", w.request)),
        {"parent", "own"},
    ),
    ("invite to a unit", pressing(lambda w: b.InviteUnit(w.dien_luc)), {"parent", "own"}),
    ("/moi CODE", sending("/moi CDCS-DL"), {"parent", "own"}),
    ("statistics", pressing(lambda w: b.PickInsight("stats", w.campaign)), {"parent", "own", "child"}),
    ("/thongke CODE", sending("/thongke BIMAT-2026"), {"parent", "own", "child"}),
    ("/baocao CODE", sending("/baocao BIMAT-2026"), {"parent", "own", "child"}),
    ("/tongket CODE", sending("/tongket BIMAT-2026"), {"parent", "own", "child"}),
    ("broadcast to a campaign's registrants", broadcast_to_registrants, {"own", "child"}),
    ("cancel a planned reminder (its owner only)", pressing(lambda w: b.CancelReminder(w.rule)), {"own"}),
    ("a unit's calendar", pressing(lambda w: b.CalendarUnit(w.dien_luc)), {"parent", "own"}),
    ("switch a calendar day", pressing(lambda w: b.CalendarSwitch(w.dien_luc, "tet")), {"parent", "own"}),
    ("word a calendar day", pressing(lambda w: b.CalendarWords(w.dien_luc, "tet")), {"parent", "own"}),
]


def refusals(lang: str = "vi") -> set[str]:
    """Every neutral refusal: none names an object (the codes are what the person typed)."""
    keys = (
        "fallback.stale_button",
        "fallback.officers_only",
        "problem.reminder_not_yours",
        "problem.reminder_gone",
    )
    return (
        {plain(text(lang, key)) for key in keys}
        | {
            plain(text(lang, "problem.campaign_out_of_reach", code=code))
            for code in ("NHAP-2026", "BIMAT-2026")
        }
        | {plain(text(lang, "invite.not_yours", code="CDCS-DL"))}
    )


@pytest.mark.parametrize(("action", "act", "allowed"), MATRIX, ids=[row[0] for row in MATRIX])
async def test_the_authority_matrix(
    people: People,
    store: Store,
    action: str,
    act: Action,
    allowed: set[str],
) -> None:
    world = await build(people, store)
    apology = plain(text("vi", "fallback.error"))
    # The refused first, so that an allowed change (a launch, a close) cannot mask a refusal.
    for actor in sorted(ACTORS, key=lambda name: name in allowed):
        replies = [body(message) for message in await act(world.people[actor], world)]
        assert replies, f"{actor}: no answer to {action}"
        assert apology not in replies, f"{actor}: {action} raised"
        if actor in allowed:
            assert not set(replies) & refusals(), f"{actor} may {action}, but was refused: {replies}"
        else:
            assert set(replies) <= refusals(), f"{actor} may not {action}, but got: {replies}"
            assert not any(secret in reply for reply in replies for secret in SECRETS), replies
