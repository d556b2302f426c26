"""Running as a service: the bot in webhook mode behind its own web server, checked over real HTTP.

The sandbox takes the bot's setWebhook and POSTs each update to it with the secret header, as Telegram does;
tests also post to the server themselves, with right, wrong and missing secrets and with broken bodies. Then
/healthz, /metrics (parsed with prometheus_client's own parser) and the signed file links.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
import pytest
import sqlalchemy as sa
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import Runtime
from bot.engine.clock import ManualClock
from bot.engine.config import Settings, load_settings
from bot.engine.events import FileOut, Outgoing
from bot.engine.metrics import Metrics
from bot.engine.outbox import Outcome
from bot.sandbox import TelegramSandbox
from bot.sandbox.zalo import ZaloSandbox
from messages import plain, text
from storage.database import Store
from storage.tables import channel_accounts, outbox
from tests.helpers.chat import Chat
from tests.helpers.flows import linked
from tests.helpers.ports import free_port
from tests.helpers.roster import HUNG, MAI

pytestmark = pytest.mark.sandbox

SECRET = "webhook-secret_0123456789"


@dataclass(frozen=True)
class Sandboxes:
    """Both platforms' sandboxes the service talks to."""

    telegram: TelegramSandbox
    zalo: ZaloSandbox

    @property
    def delivered(self) -> int:
        """Messages the bot has sent on either."""
        return self.telegram.delivered + self.zalo.delivered


@dataclass(frozen=True)
class WebhookCase:
    """One channel's webhook: its path, its secret header, a body that is one genuine update (from a
    person its sandbox knows, so the bot's answer can be delivered) and how to wait until it is answered."""

    channel: str
    path: str
    header: str
    update: Callable[[Sandboxes], dict[str, object]]
    answered: Callable[[Runtime], Awaitable[None]]


def telegram_update(
    sandbox: TelegramSandbox | Sandboxes, update_id: int = 900001, command: str = "/start"
) -> dict[str, object]:
    """A private command from Lan, a person the bot has never seen."""
    (sandbox.telegram if isinstance(sandbox, Sandboxes) else sandbox).user(7007, "Lan")
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1772413200,
            "from": {"id": 7007, "is_bot": False, "first_name": "Lan"},
            "chat": {"id": 7007, "type": "private", "first_name": "Lan"},
            "text": command,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
        },
    }


def zalo_update(sandboxes: Sandboxes) -> dict[str, object]:
    """A private /start from Nam on Zalo, a person the bot has never seen."""
    sandboxes.zalo.user("z7007", "Nam")
    message = {
        "message_id": "zm900001",
        "from": {"id": "z7007", "display_name": "Nam", "is_bot": False},
        "chat": {"id": "z7007", "chat_type": "PRIVATE"},
        "date": 1772413200000,
        "text": "/start",
    }
    return {"event_name": "message.text.received", "message": message}


async def telegram_answered(service: Runtime) -> None:
    """Wait until Telegram's update 900001 is answered."""
    assert service.telegram is not None
    await service.telegram.wait_processed(900001)


async def zalo_answered(service: Runtime) -> None:
    """Wait until Zalo's message zm900001 is answered."""
    assert service.zalo is not None
    await service.zalo.wait_processed("zm900001")


WEBHOOKS = [
    WebhookCase(
        "telegram",
        "/telegram/webhook",
        "X-Telegram-Bot-Api-Secret-Token",
        telegram_update,
        telegram_answered,
    ),
    WebhookCase("zalo", "/zalo/webhook", "X-Bot-Api-Secret-Token", zalo_update, zalo_answered),
]


@pytest.fixture
async def service(
    store: Store, db_url: str, sandbox: TelegramSandbox, zalo_sandbox: ZaloSandbox, clock: ManualClock
) -> AsyncIterator[Runtime]:
    """The real bot as ``thidua run`` starts it with THIDUA_WEBHOOK_URL: web server, both channels'
    webhooks registered."""
    port = free_port()
    settings = load_settings(
        _env_file=None,
        database_url=db_url,
        telegram_token=sandbox.token,
        telegram_api_url=sandbox.api_url,
        zalo_token=zalo_sandbox.token,
        zalo_api_url=zalo_sandbox.api_url,
        webhook_url=f"http://127.0.0.1:{port}",
        webhook_secret=SECRET,
        listen=f"127.0.0.1:{port}",
    )
    runtime = Runtime(settings, clock, poll_timeout=1)
    await runtime.start()
    yield runtime
    await runtime.stop()


@pytest.fixture
def person(sandbox: TelegramSandbox, service: Runtime) -> Callable[..., Chat]:
    """Make a person talking to the bot in webhook mode."""

    def make(user_id: int, first_name: str, last_name: str | None = None, phone: str | None = None) -> Chat:
        return Chat(sandbox.user(user_id, first_name, last_name, phone=phone), lambda: service)

    return make


def url(service: Runtime, path: str) -> str:
    """The address of one of the server's routes."""
    assert service.web is not None
    return f"http://127.0.0.1:{service.web.port}{path}"


async def test_the_bot_registers_its_webhook_and_answers_what_telegram_posts(
    person: Callable[..., Chat], sandbox: TelegramSandbox, service: Runtime
) -> None:
    info = await sandbox._get_webhook_info({})
    assert info["url"] == url(service, "/telegram/webhook")
    assert not any(method.lower() == "getupdates" for method, _ in sandbox.calls)  # no polling
    mai = await linked(person, MAI)
    await mai.send("/huongdan")
    assert "/help (/huongdan)" in mai.last_text
    assert sandbox.webhook_answers and set(sandbox.webhook_answers) == {200}


@pytest.fixture
def sandboxes(sandbox: TelegramSandbox, zalo_sandbox: ZaloSandbox) -> Sandboxes:
    """Both sandboxes."""
    return Sandboxes(sandbox, zalo_sandbox)


@pytest.mark.parametrize("case", WEBHOOKS, ids=lambda case: case.channel)
async def test_a_missing_or_wrong_secret_is_refused_and_changes_nothing(
    case: WebhookCase, service: Runtime, sandboxes: Sandboxes, http: aiohttp.ClientSession
) -> None:
    for headers in ({}, {case.header: "wrong-secret-0123456789"}, {case.header: SECRET[:-1]}):
        async with http.post(url(service, case.path), json=case.update(sandboxes), headers=headers) as answer:
            assert answer.status == 403
    async with service.store.begin() as repos:
        count = sa.select(sa.func.count()).select_from(channel_accounts)
        accounts = (await repos.conn.execute(count)).scalar()
    assert accounts == 0
    assert sandboxes.delivered == 0
    right = {case.header: SECRET}
    async with http.post(url(service, case.path), json=case.update(sandboxes), headers=right) as answer:
        assert answer.status == 200
    await case.answered(service)
    assert sandboxes.delivered >= 1  # the newcomer's welcome


async def test_the_webhook_answers_before_the_update_is_handled_and_keeps_the_chats_order(
    service: Runtime, sandbox: TelegramSandbox, http: aiohttp.ClientSession
) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    commands = ["/start", "/huongdan", "/ngonngu"]
    # While Lan's chat is held, every call is still answered 200 at once: handling waits for its turn.
    async with service.router.in_order("telegram", "7007"):
        for number, command in enumerate(commands, start=1):
            update = telegram_update(sandbox, number, command)
            async with http.post(url(service, "/telegram/webhook"), json=update, headers=headers) as answer:
                assert answer.status == 200
        assert sandbox.delivered == 0
    assert service.telegram is not None
    for number in range(1, len(commands) + 1):
        await service.telegram.wait_processed(number)
    replies = [message.plain_text for message in sandbox.messages(7007)]
    help_at = next(i for i, reply in enumerate(replies) if "/help (/huongdan)" in reply)
    language_at = next(i for i, reply in enumerate(replies) if plain(text("vi", "language.choose")) in reply)
    assert 0 < help_at < language_at  # the welcome first, then in the order sent


@pytest.mark.parametrize("case", WEBHOOKS, ids=lambda case: case.channel)
async def test_a_broken_body_is_a_400_said_once_and_the_bot_goes_on(
    case: WebhookCase,
    service: Runtime,
    http: aiohttp.ClientSession,
    person: Callable[..., Chat],
    caplog: pytest.LogCaptureFixture,
) -> None:
    headers = {case.header: SECRET}
    for body in (b"{not json", b"\xff\xfe", b"[1, 2]", b'{"no_update_id": true}'):
        async with http.post(url(service, case.path), data=body, headers=headers) as answer:
            assert answer.status == 400
    refusals = [r for r in caplog.records if "is not an update" in r.getMessage()]
    assert len(refusals) == 4 and all(r.exc_info is None for r in refusals)
    mai = await linked(person, MAI)
    await mai.send("/huongdan")
    assert "/help (/huongdan)" in mai.last_text


async def test_an_update_telegram_posts_again_is_answered_once(
    service: Runtime, sandbox: TelegramSandbox, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    # Telegram posts an update again when the answer to its call was lost or late; twice handled, a typed
    # answer would also fill the form's next step.
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    for _ in range(2):
        async with http.post(
            url(service, "/telegram/webhook"), json=telegram_update(sandbox), headers=headers
        ) as answer:
            assert answer.status == 200
    help_asked = telegram_update(sandbox, 900002, "/huongdan")
    async with http.post(url(service, "/telegram/webhook"), json=help_asked, headers=headers) as answer:
        assert answer.status == 200
    assert service.telegram is not None
    await service.telegram.wait_processed(900002)  # the chat's updates run in order: the repeat is behind
    replies = [message.plain_text for message in sandbox.messages(7007)]
    assert len([reply for reply in replies if plain(text("vi", "onboarding.welcome")) in reply]) == 1
    assert "/help (/huongdan)" in replies[-1]
    [repeat] = [r for r in caplog.records if "came again" in r.getMessage()]
    assert "update 900001 " in repeat.getMessage()


async def test_an_outage_of_the_bot_api_is_said_once_in_webhook_mode_too(
    service: Runtime, sandbox: TelegramSandbox, person: Callable[..., Chat], caplog: pytest.LogCaptureFixture
) -> None:
    # Nothing polls in webhook mode: a broadcast waited out an outage without a word in the log.
    mai = await linked(person, MAI)
    telegram = service.telegram
    assert telegram is not None
    caplog.set_level(logging.INFO)
    await sandbox.go_down()
    for _ in range(3):
        assert (await telegram.deliver(mai.user_id, Outgoing("Thông báo"))).outcome is Outcome.RETRY
    await sandbox.go_up()
    assert (await telegram.deliver(mai.user_id, Outgoing("Thông báo"))).outcome is Outcome.SENT
    lines = [r.getMessage() for r in caplog.records if "telegram sending: outage" in r.getMessage()]
    assert len(lines) == 2 and "outage started" in lines[0] and "3 failed sends" in lines[1]


async def test_a_telegram_update_it_cannot_read_is_skipped_as_when_polled(
    service: Runtime, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    # 200, so Telegram does not send it again and again; one warning naming its id, never its content.
    poison = {"update_id": 4711, "message": "not a message"}
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with http.post(url(service, "/telegram/webhook"), json=poison, headers=headers) as answer:
        assert answer.status == 200
    [skipped] = [r for r in caplog.records if "could not be read" in r.getMessage()]
    assert "update 4711 (message)" in skipped.getMessage() and "not a message" not in skipped.getMessage()


async def test_healthz_reports_the_database_the_outbox_and_who_holds_the_leases(
    service: Runtime, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    await service.outbox.wait_idle()  # the worker has looked for work once: it took its lease first
    async with http.get(url(service, "/healthz")) as answer:
        assert answer.status == 200
        health = await answer.json()
    assert health == {
        "database": "ok",
        "outbox_pending": 0,
        "leases": {"scheduler": service.reminders.instance, "outbox": service.outbox.instance},
    }

    def unreachable(**_: object) -> object:
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("unable to open database file"))

    monkeypatch.setattr(service.store, "begin", unreachable)
    async with http.get(url(service, "/healthz")) as answer:
        assert answer.status == 503
        assert await answer.json() == {"database": "error"}


@pytest.mark.sqlite_only("a database file deleted under the running bot")
async def test_healthz_fails_once_the_database_file_is_deleted_or_replaced(
    service: Runtime, http: aiohttp.ClientSession, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = sa.make_url(db_url).database or ""
    aside = os.path.join(os.path.dirname(path), "moved-away.db")
    os.rename(path, aside)  # the bot goes on with the file it opened, which nobody would open again
    async with http.get(url(service, "/healthz")) as answer:
        assert answer.status == 503
        assert await answer.json() == {"database": "error"}
    assert "the database file was deleted or replaced while the bot runs; restart it" in caplog.text
    shutil.copyfile(aside, path)  # a copy put back (a backup restored) is not the file the bot writes to
    async with http.get(url(service, "/healthz")) as answer:
        assert answer.status == 503
    os.replace(aside, path)
    async with http.get(url(service, "/healthz")) as answer:
        assert answer.status == 200


def samples(scraped: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text page, by name and labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(scraped)
        for sample in family.samples
    }


async def test_metrics_count_updates_latency_and_the_deliveries_of_a_broadcast(
    person: Callable[..., Chat],
    service: Runtime,
    sandbox: TelegramSandbox,
    http: aiohttp.ClientSession,
) -> None:
    hung = await linked(person, HUNG)
    mai = await linked(person, MAI)
    await hung.send("/thongbao")
    await hung.send("Họp công đoàn lúc 14 giờ")
    await hung.press("Tất cả đoàn viên")
    await hung.press("Xác nhận gửi")
    assert any("Họp công đoàn lúc 14 giờ" in m.plain_text for m in mai.messages)
    async with http.get(url(service, "/metrics")) as answer:
        assert answer.status == 200
        assert answer.headers["Content-Type"].startswith("text/plain")
        figures = samples(await answer.text())
    updates = sandbox.last_update_id
    assert figures[("thidua_updates_total", (("channel", "telegram"), ("outcome", "ok")))] == updates
    assert figures[("thidua_update_seconds_count", (("channel", "telegram"),))] == updates
    async with service.store.begin() as repos:
        sent = (
            await repos.conn.execute(
                sa.select(sa.func.count()).select_from(outbox).where(outbox.c.status == "sent")
            )
        ).scalar()
    assert sent is not None and sent >= 2  # Mai's notice and Hùng's delivery report at least
    assert figures[("thidua_deliveries_total", (("channel", "telegram"), ("result", "sent")))] == sent
    assert figures[("thidua_outbox_pending", ())] == 0
    assert figures[("thidua_reminders_sent_total", ())] == 0
    assert figures[("process_resident_memory_bytes", ())] > 0


def test_each_channel_and_outcome_is_counted_in_its_own_series() -> None:
    # The labelled series are kept after their first use (issue 13): each count must still land in its own.
    metrics = Metrics()
    for channel, outcome, seconds in [
        ("telegram", "ok", 0.004),
        ("telegram", "ok", 0.3),
        ("zalo", "error", 2.0),
    ]:
        metrics.update_answered(channel, outcome, seconds)
    figures = samples(generate_latest(metrics.registry).decode())
    assert figures[("thidua_updates_total", (("channel", "telegram"), ("outcome", "ok")))] == 2
    assert figures[("thidua_updates_total", (("channel", "zalo"), ("outcome", "error")))] == 1
    assert ("thidua_updates_total", (("channel", "telegram"), ("outcome", "error"))) not in figures
    assert figures[("thidua_update_seconds_bucket", (("channel", "telegram"), ("le", "0.005")))] == 1
    assert figures[("thidua_update_seconds_count", (("channel", "zalo"),))] == 1


async def test_a_signed_link_serves_its_file_to_its_account_in_time_only(
    service: Runtime, http: aiohttp.ClientSession, clock: ManualClock
) -> None:
    workbook = FileOut("Báo cáo LDLD-HQ.xlsx", b"PK\x03\x04 a workbook")
    link = await service.files.link_for(17, workbook)
    assert link.startswith(url(service, "/files/"))
    async with http.get(link) as answer:
        assert answer.status == 200
        assert await answer.read() == workbook.content
        assert answer.headers["Content-Type"].startswith("application/vnd.openxmlformats")
        assert "B%C3%A1o%20c%C3%A1o" in answer.headers["Content-Disposition"]
    token = link.rsplit("/", 1)[1]
    file_id, account, expires, signature = token.split(".")
    forged = [
        f"{file_id}.18.{expires}.{signature}",  # another account, same signature
        f"{file_id}.{account}.{int(expires) + 3600}.{signature}",  # a longer life
        f"{file_id}.{account}.{expires}.{signature[:-2]}AA",
        "not-a-token",
    ]
    for token_ in forged:
        async with http.get(url(service, f"/files/{token_}")) as answer:
            assert answer.status == 403
    # Signed genuinely, but for another account than the file was kept for.
    other = service.files.sign(file_id, 18, clock.now() + timedelta(minutes=5))
    async with http.get(url(service, f"/files/{other}")) as answer:
        assert answer.status == 403
    clock.advance(timedelta(minutes=15))
    async with http.get(link) as answer:
        assert answer.status == 410


async def test_polling_again_deletes_the_webhook_and_answers(
    service: Runtime,
    sandbox: TelegramSandbox,
    settings: Settings,
    clock: ManualClock,
    http: aiohttp.ClientSession,
) -> None:
    assert (await sandbox._get_webhook_info({}))["url"]
    healthz = url(service, "/healthz")
    await service.stop()
    polling = Runtime(settings, clock, poll_timeout=1)  # no THIDUA_WEBHOOK_URL
    await polling.start()
    try:
        assert polling.web is None
        assert (await sandbox._get_webhook_info({}))["url"] == ""
        with pytest.raises(aiohttp.ClientConnectionError):  # nothing listens any more
            await http.get(healthz)

        def on_polling(user_id: int, first_name: str, last_name: str, phone: str) -> Chat:
            return Chat(sandbox.user(user_id, first_name, last_name, phone=phone), lambda: polling)

        mai = await linked(on_polling, MAI)
        await mai.send("/huongdan")
        assert "/help (/huongdan)" in mai.last_text
    finally:
        await polling.stop()
