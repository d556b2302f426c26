"""What a member types into a registration, and what one tap may undo: pledges are "content; unit; figure"
with a real figure, each bad line named; changing a registration shows the pledges and keeps them unless
replaced or removed; withdrawing asks first. Every test runs on every channel (``people``)."""

from __future__ import annotations

import pytest

from messages import plain, text
from storage.database import Store
from storage.records import Pledge, Registration
from tests.conftest import People
from tests.helpers.campaigns import TITLE, campaign_running
from tests.helpers.chat import Chat
from tests.helpers.choices import body, choices
from tests.helpers.memory_chat import MemoryChat


def t(key: str, **params: object) -> str:
    """A catalog text as the member reads it."""
    return plain(text("vi", key, **params))


async def registration_of_mai(store: Store) -> Registration:
    async with store.begin() as repos:
        campaign = await repos.campaigns.by_code("LDG-2026")
        member = await repos.members.by_code("DV001")
        assert campaign is not None and member is not None
        registration = await repos.registrations.of_member(campaign.id, member.id)
    assert registration is not None
    return registration


async def register_with_pledges(mai: Chat | MemoryChat, pledges: str) -> None:
    await mai.send("/dangky LDG-2026")
    await mai.press("Lao động giỏi")
    await mai.press("Xong")
    await mai.send(pledges)
    await mai.press("Xác nhận đăng ký")


async def test_each_bad_pledge_line_is_named_with_why_and_nothing_is_taken(
    people: People, store: Store
) -> None:
    _, mai = await campaign_running(people)
    await mai.send("/dangky LDG-2026")
    await mai.press("Lao động giỏi")
    await mai.press("Xong")

    await mai.send("gibberish asdf\nĐọc sách; cuốn; -5\nSáng kiến; sáng kiến; hai\nHọc tập; giờ; 2,5")

    lines = body(mai.last).splitlines()
    assert lines[0] == t("register.pledges_bad")
    assert lines[1:4] == [
        t("problem.pledge_format", line=1, text="gibberish asdf"),
        t("problem.pledge_negative", line=2, figure="-5"),
        t("problem.pledge_figure", line=3, figure="hai"),
    ]
    assert "⏭ Bỏ qua" in choices(mai.last)  # still asking for the pledges

    await mai.send("- Tham gia hội thao; lần; 1000\nHọc tập; giờ; 2.5\nKhông để xảy ra tai nạn; vụ; 0")

    summary = mai.last_text
    assert t("register.summary_pledge", content="Tham gia hội thao", unit="lần", figure="1.000") in summary
    assert t("register.summary_pledge", content="Học tập", unit="giờ", figure="2,5") in summary
    await mai.press("Xác nhận đăng ký")
    assert (await registration_of_mai(store)).pledges == (
        Pledge("Tham gia hội thao", "lần", "1.000"),
        Pledge("Học tập", "giờ", "2,5"),
        Pledge("Không để xảy ra tai nạn", "vụ", "0"),
    )


@pytest.mark.telegram
@pytest.mark.zalo
async def test_changing_a_registration_shows_the_pledges_keeps_them_and_removes_them_only_when_asked(
    people: People, store: Store
) -> None:
    _, mai = await campaign_running(people)
    await register_with_pledges(mai, "Sáng kiến cải tiến kỹ thuật; sáng kiến; 2\nĐọc sách; cuốn; 12")
    pledged = (Pledge("Sáng kiến cải tiến kỹ thuật", "sáng kiến", "2"), Pledge("Đọc sách", "cuốn", "12"))
    assert (await registration_of_mai(store)).pledges == pledged

    await mai.send("/dangky LDG-2026")
    await mai.press("Xong")

    shown = mai.last_text
    assert t("register.ask_pledges_current") in shown
    assert t("register.summary_pledge", content="Đọc sách", unit="cuốn", figure="12") in shown
    assert choices(mai.last)[:2] == [t("register.keep_pledges"), t("register.clear_pledges")]
    await mai.press("Giữ nguyên các chỉ tiêu")
    assert t("register.summary_pledge", content="Đọc sách", unit="cuốn", figure="12") in mai.last_text
    await mai.press("Xác nhận đăng ký")
    assert (await registration_of_mai(store)).pledges == pledged

    await mai.send("/dangky LDG-2026")
    await mai.press("Xong")
    await mai.press("Xóa hết chỉ tiêu")
    assert t("register.summary_no_pledges") in mai.last_text
    await mai.press("Xác nhận đăng ký")
    assert (await registration_of_mai(store)).pledges == ()


async def test_withdrawing_asks_first_naming_the_campaign_and_cancel_keeps_the_registration(
    people: People, store: Store
) -> None:
    _, mai = await campaign_running(people)
    await register_with_pledges(mai, "Đọc sách; cuốn; 12")
    await mai.send("/phongtrao")
    await mai.press(TITLE)

    await mai.press("Rút đăng ký")

    assert body(mai.last) == t("register.withdraw_confirm", title=TITLE)
    assert (await registration_of_mai(store)).status == "active"
    await mai.press("Không, giữ đăng ký")
    assert body(mai.last) == t("register.withdraw_kept", title=TITLE)
    assert (await registration_of_mai(store)).status == "active"

    await mai.send("/phongtrao")
    await mai.press(TITLE)
    await mai.press("Rút đăng ký")
    await mai.press("↩️ Rút đăng ký")
    assert body(mai.last) == t("register.withdrawn", title=TITLE)
    assert (await registration_of_mai(store)).status == "withdrawn"
