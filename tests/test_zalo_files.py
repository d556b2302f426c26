"""Charts, workbooks and code sheets on Zalo, which cannot send files: in webhook mode (the service has a
public address) a chart comes as sendPhoto with a signed URL of the bot's web server and a workbook as a
download line; the links serve the real file to the officer until they expire (410), and refuse an altered
token (403). Polling without a public address, the officer gets the figures in words and no link.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator

import aiohttp
import openpyxl
import pytest

from bot.app import Runtime
from bot.engine.clock import ManualClock
from bot.engine.files import LINK_LIFETIME
from bot.sandbox.zalo import MAX_TEXT_LENGTH, ZaloSandbox, ZaloSent
from messages import plain, text
from storage.database import Store
from tests.conftest import ZALO, People
from tests.helpers.campaigns import TITLE, create_through_dialog, launch
from tests.helpers.roster import HUNG
from tests.helpers.zalo_chat import ZaloChat, link_in_database
from tests.test_web import url
from tests.test_zalo_webhook import zalo_service

pytestmark = pytest.mark.sandbox

PNG = b"\x89PNG\r\n\x1a\n"
LINK = re.compile(r"https?://\S+/files/\S+")


@pytest.fixture
async def service(
    store: Store, db_url: str, zalo_sandbox: ZaloSandbox, clock: ManualClock
) -> AsyncIterator[Runtime]:
    """The bot on Zalo in webhook mode: THIDUA_WEBHOOK_URL is its public address."""
    async with zalo_service(db_url, zalo_sandbox, clock) as runtime:
        yield runtime


async def officer_with_a_campaign(hung: ZaloChat, store: Store, clock: ManualClock) -> ZaloChat:
    """Hùng, officer of the district union, linked on Zalo, with LDG-2026 launched through his own dialog."""
    await link_in_database(store, hung, "DV002", clock.now())
    await hung.send("/start")
    await create_through_dialog(hung)  # type: ignore[arg-type]
    await launch(hung)  # type: ignore[arg-type]
    return hung


def links(messages: list[ZaloSent]) -> list[str]:
    """Every link in the texts of these messages."""
    return [found for message in messages for found in LINK.findall(message.text)]


def assert_fits_zalo(messages: list[ZaloSent]) -> None:
    """Plain texts within Zalo's limit."""
    for message in messages:
        assert len(message.text) <= MAX_TEXT_LENGTH and "<b>" not in message.text


async def test_an_officer_on_zalo_gets_the_chart_as_a_photo_url_and_the_workbook_as_a_link(
    service: Runtime,
    zalo_sandbox: ZaloSandbox,
    store: Store,
    clock: ManualClock,
    http: aiohttp.ClientSession,
) -> None:
    hung = await officer_with_a_campaign(ZaloChat(zalo_sandbox, lambda: service, *HUNG), store, clock)

    stats = await hung.send("/thongke LDG-2026")
    [photo] = [message for message in stats if message.kind == "photo"]
    assert stats[-1] is photo  # the figures first, then the chart
    assert "Đăng ký thi đua:" in stats[0].text and "Sáng kiến:" in stats[0].text
    assert photo.photo_url is not None and photo.photo_url.startswith(url(service, "/files/"))
    async with http.get(photo.photo_url) as answer:
        assert answer.status == 200 and answer.headers["Content-Type"] == "image/png"
        assert (await answer.read()).startswith(PNG)

    export = await hung.send("/baocao LDG-2026")
    assert [message.kind for message in export] == ["text"]
    caption = plain(text("vi", "insights.export_caption", title=TITLE, unit="LĐLĐ huyện Hà Quảng"))
    assert caption.split(" — ")[0] in export[0].text
    [link] = links(export)
    assert link.startswith(url(service, "/files/"))
    async with http.get(link) as answer:
        assert answer.status == 200
        workbook = openpyxl.load_workbook(io.BytesIO(await answer.read()))
    everything = " ".join(
        str(cell) for sheet in workbook for row in sheet.iter_rows(values_only=True) for cell in row if cell
    )
    assert TITLE in everything

    altered = link[:-1] + ("A" if link[-1] != "A" else "B")
    async with http.get(altered) as answer:
        assert answer.status == 403
    clock.advance(LINK_LIFETIME)
    async with http.get(link) as answer:
        assert answer.status == 410
    assert_fits_zalo(hung.messages)


async def test_the_link_codes_sheet_comes_as_a_link_on_zalo(
    service: Runtime,
    zalo_sandbox: ZaloSandbox,
    store: Store,
    clock: ManualClock,
    http: aiohttp.ClientSession,
) -> None:
    hung = ZaloChat(zalo_sandbox, lambda: service, *HUNG)
    await link_in_database(store, hung, "DV002", clock.now())
    await hung.send("/start")
    sheet = await hung.send("/inma CDCS-DL")
    [link] = links(sheet)
    async with http.get(link) as answer:
        assert answer.status == 200
        book = openpyxl.load_workbook(io.BytesIO(await answer.read()))
    assert book.active is not None and book.active.max_row > 1  # a row per member with a code


@pytest.mark.parametrize("channel_kind", ZALO)
async def test_polling_without_a_public_address_the_officer_gets_words_and_no_link(
    people: People, store: Store, clock: ManualClock
) -> None:
    hung = people(*HUNG)
    assert isinstance(hung, ZaloChat)
    await officer_with_a_campaign(hung, store, clock)
    stats = await hung.send("/thongke LDG-2026")
    assert [message.kind for message in stats] == ["text"]
    assert "Đăng ký thi đua:" in stats[0].text and not links(stats)
    export = await hung.send("/baocao LDG-2026")
    assert export[0].text == plain(text("vi", "insights.export_no_files", code="LDG-2026"))
    assert "SƠ KẾT PHONG TRÀO" in export[1].text and not links(export)  # the written report follows
    sheet = await hung.send("/inma CDCS-DL")
    assert "thidua codes export --unit CDCS-DL" in sheet[0].text and not links(sheet)
