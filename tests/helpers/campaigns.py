"""Campaigns for tests: one created through the officer's real dialog, and one stored directly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from bot.domain.campaigns import CampaignSpec, create_draft
from storage.database import Store
from storage.records import Campaign
from tests.helpers.chat import Chat
from tests.helpers.flows import linked
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
