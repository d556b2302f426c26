"""Campaigns for tests: one created through the officer's real dialog, and one stored directly."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta

from bot.domain import campaigns as domain
from bot.domain.campaigns import CampaignSpec, create_draft
from bot.domain.problems import Problem
from handlers.campaign_views import announcement
from messages import LANGUAGES
from storage.database import Repos, Store
from storage.records import Campaign
from tests.helpers.chat import Chat
from tests.helpers.flows import Person, linked
from tests.helpers.roster import HUNG, MAI, NOW

TITLE = "Lao động giỏi, lao động sáng tạo 2026"


async def create_through_dialog(officer: Chat, code: str = "LDG-2026") -> None:
    """An officer (leading exactly one unit) fills /taophongtrao and saves the draft."""
    await officer.send("/taophongtrao")
    await officer.send(code.lower())
    await officer.send(TITLE)
    await officer.press("Bỏ qua")
    await officer.press("Thường xuyên")
    await officer.send("2/3/2026")
    await officer.send("31/12/2026")
    await officer.send("25/3")
    await officer.press("Bỏ qua")
    await officer.send("431")
    await officer.press("Lao động giỏi")
    await officer.press("Chiến sĩ thi đua cơ sở")
    await officer.press("Xong")
    await officer.press("Tập thể lao động xuất sắc")
    await officer.press("Xong")
    await officer.press("Lưu bản nháp")


def ongoing_spec(code: str, title: str, today: date) -> CampaignSpec:
    """A plain ongoing campaign of the district LDLD-HQ: from ``today`` for 300 days, registration open for
    60, Lao động tiên tiến its only title."""
    return CampaignSpec(
        code=code,
        title=title,
        kind="ongoing",
        unit_code="LDLD-HQ",
        starts_on=today,
        ends_on=today + timedelta(days=300),
        registration_deadline=today + timedelta(days=60),
        individual_titles=["advanced_worker"],
    )


async def stored_draft(store: Store, unit_code: str = "LDLD-HQ", code: str = "TCN-2026") -> Campaign:
    """A Workers' Month peak campaign stored as a draft, without the dialog."""
    spec = CampaignSpec(
        code=code,
        title="Tháng Công nhân 2026",
        description="Đợt thi đua cao điểm chào mừng Tháng Công nhân.",
        kind="peak",
        unit_code=unit_code,
        starts_on=date(2026, 5, 1),
        ends_on=date(2026, 5, 31),
        registration_deadline=date(2026, 4, 25),
        individual_titles=["advanced_worker", "emulation_fighter"],
        collective_titles=["excellent_collective"],
    )
    async with store.begin() as repos:
        result = await create_draft(repos, None, spec, "test", NOW, NOW.date())
    assert isinstance(result, Campaign), result
    return result


async def launch_stored(repos: Repos, draft: Campaign) -> Campaign:
    """A stored draft launched as the admin's tools would, its announcement in every language; as launched."""
    owner = await repos.units.get(draft.unit_id)
    assert owner is not None
    words = announcement(draft, owner, LANGUAGES, NOW.date())
    result = await domain.launch(repos, None, draft, words, default_language="vi", now=NOW, today=NOW.date())
    assert not isinstance(result, Problem), result
    launched = await repos.campaigns.get(draft.id)
    assert launched is not None
    return launched


async def launch(officer: Chat, code: str = "LDG-2026") -> None:
    """The officer launches a draft and confirms."""
    await officer.send(f"/phatdong {code}")
    await officer.press("Phát động ngay")


async def campaign_running(
    chat: Callable[..., Chat], member: tuple[int, str, str, str] = MAI
) -> tuple[Chat, Chat]:
    """Hùng has created and launched LDG-2026; ``member`` linked before the launch."""
    hung = await linked(chat, HUNG)
    person = await linked(chat, member)
    await create_through_dialog(hung)
    await launch(hung)
    return hung, person


async def register(
    member: Person,
    titles: Sequence[str] = ("Lao động giỏi",),
    pledges: str | None = None,
    code: str = "LDG-2026",
) -> None:
    """A member registers in chat: the titles pressed, the pledges typed (or the step skipped), confirmed."""
    await member.send(f"/dangky {code}")
    for title in titles:
        await member.press(title)
    await member.press("Xong")
    if pledges is None:
        await member.press("Bỏ qua")
    else:
        await member.send(pledges)
    await member.press("Xác nhận đăng ký")


async def register_collective(
    officer: Person,
    unit: str,
    title: str = "Tập thể lao động xuất sắc",
    pledge: str = "Không có tai nạn lao động; vụ; 0",
) -> None:
    """From a campaign's page, its officer registers ``unit`` (by name) as a collective for one title with one
    pledge, and confirms."""
    await officer.press("Đăng ký tập thể")
    await officer.press(unit)
    await officer.press(title)
    await officer.press("Xong")
    await officer.send(pledge)
    await officer.press("Xác nhận đăng ký")
