"""Load benchmark: N members write to the bot at the same moment, as after an announcement in a big group.

    python bench/load.py               # 800 members: /start, share their contact, then /campaigns
    python bench/load.py --linked      # members already linked: /start then /campaigns
    python bench/load.py --small       # 100 members, for CI
    python bench/load.py --rate 30     # replies paced at Telegram's default 30 msg/s (the default here is
                                       # 1,000/s, so that the figures are the bot's and not the limiter's)
    python bench/load.py --webhook     # webhook mode: the sandbox POSTs each update to the bot's web server

Runs the real Runtime (router, SQLite file, outbox, scheduler) against the Bot API sandbox, which runs in a
child process with the members it plays (driven over a small control API), so the CPU figure is the bot's.
Prints per-member completion time (from the first message to the answer of the last) as p50/p95/max, the
apologies ("fallback.error") members saw, errors logged and members left without an answer. Never asserts:
figures are for people to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from pydantic import SecretStr
from telegram import Update
from telegram.ext import TypeHandler

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import Runtime, prepare_database
from bot.domain.campaigns import CampaignSpec, create_draft, launch
from bot.engine.config import load_settings
from bot.sandbox import TelegramSandbox
from handlers.campaign_views import announcement
from messages import LANGUAGES, plain, text
from storage.database import Store
from storage.records import Campaign
from storage.tables import channel_accounts, members

FIRST_USER = 100_000
UNITS = 40
CAMPAIGNS = 3
WAIT_SECONDS = 600.0  # per update: a bound, not an expectation


class ErrorCount(logging.Handler):
    """Counts the ERROR records the bot logs during the run."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0
        self.first = ""

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if not self.first:
            self.first = record.getMessage() + (f" ({record.exc_info[1]!r})" if record.exc_info else "")


def phone(number: int) -> str:
    """A Vietnamese mobile number for member ``number``."""
    return f"09123{number:05d}"


async def seed(
    store: Store, count: int, linked: int, now: datetime, today: date, campaigns: int = CAMPAIGNS
) -> None:
    """A province with base unions, ``count`` members on the roster of whom the first ``linked`` have a
    Telegram account (user id FIRST_USER + n), and ``campaigns`` launched campaigns."""
    await prepare_database(store)
    async with store.begin() as repos:
        root = await repos.units.insert("LOAD", "LĐLĐ tỉnh thử tải", "ldld tinh thu tai", None, now)
        await repos.units.set_path(root, f"/{root}/", 0)
        unit_ids = []
        for number in range(UNITS):
            unit_id = await repos.units.insert(
                f"L{number}", f"CĐCS số {number}", f"cdcs so {number}", root, now
            )
            await repos.units.set_path(unit_id, f"/{root}/{unit_id}/", 1)
            unit_ids.append(unit_id)
        await repos.conn.execute(
            members.insert(),
            [
                {
                    "code": f"M{n}",
                    "full_name": f"Đoàn viên {n}",
                    "phone": "+84" + phone(n)[1:],
                    "unit_id": unit_ids[n % UNITS],
                    "source": "roster",
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(count)
            ],
        )
        for number in range(campaigns):  # launched before anyone is linked: no announcement to send
            spec = CampaignSpec(
                code=f"LOAD-{number}",
                title=f"Phong trào thử tải {number}",
                kind="ongoing",
                unit_code="LOAD",
                starts_on=today,
                ends_on=today + timedelta(days=300),
                registration_deadline=today + timedelta(days=60),
                individual_titles=["advanced_worker"],
            )
            campaign = await create_draft(repos, None, spec, "bench", now, today)
            assert isinstance(campaign, Campaign)
            unit = await repos.units.get(campaign.unit_id)
            assert unit is not None
            await launch(
                repos,
                None,
                campaign,
                announcement(campaign, unit, LANGUAGES, today),
                default_language="vi",
                now=now,
                today=today,
            )
        if linked:
            ids = dict(
                (
                    await repos.conn.execute(members.select().with_only_columns(members.c.code, members.c.id))
                ).all()
            )
            await repos.conn.execute(
                channel_accounts.insert(),
                [
                    {
                        "channel": "telegram",
                        "user_id": str(FIRST_USER + n),
                        "chat_id": str(FIRST_USER + n),
                        "display_name": f"User {n}",
                        "member_id": ids[f"M{n}"],
                        "reachable": True,
                        "linked_at": now,
                        "created_at": now,
                    }
                    for n in range(linked)
                ],
            )


class Answered:
    """Futures resolved when an update has been answered: a handler in a later group of the bot's
    Application runs once the bot's own handler is done. (One future per update: a shared condition
    woken for every update costs N² with N members waiting.)"""

    def __init__(self, runtime: Runtime) -> None:
        assert runtime.telegram is not None
        runtime.telegram.app.add_handler(TypeHandler(Update, self._answered), group=1)
        self._waiting: dict[int, asyncio.Future[None]] = {}

    def _future(self, update_id: int) -> asyncio.Future[None]:
        return self._waiting.setdefault(update_id, asyncio.get_running_loop().create_future())

    async def _answered(self, update: Update, _context: object) -> None:
        self._future(update.update_id).set_result(None)

    async def wait(self, sent: Awaitable[int]) -> None:
        """Send, then wait for the answer."""
        update_id = await sent
        await asyncio.wait_for(self._future(update_id), WAIT_SECONDS)
        del self._waiting[update_id]


class Members:
    """The members the sandbox child plays, acting through its control API."""

    def __init__(self, session: aiohttp.ClientSession, control_url: str) -> None:
        self._session = session
        self._url = control_url

    async def act(self, user_id: int, action: str, words: str = "") -> int:
        """The member sends ``words`` (action "send") or shares their contact; returns the update id."""
        body = {"user": user_id, "action": action, "text": words}
        async with self._session.post(f"{self._url}/act", json=body) as response:
            return int((await response.json())["update_id"])

    async def texts(self) -> dict[int, list[str]]:
        """Everything the bot sent to each member, as they read it."""
        async with self._session.get(f"{self._url}/texts") as response:
            return {int(user): texts for user, texts in (await response.json()).items()}

    async def sent_at(self) -> dict[int, list[float]]:
        """When the sandbox took each message the bot sent to each member (``time.monotonic``), in the order
        of ``texts``."""
        async with self._session.get(f"{self._url}/times") as response:
            return {int(user): times for user, times in (await response.json()).items()}

    async def delivered(self, at_least: int = 0, timeout: float = WAIT_SECONDS) -> int:
        """The messages the bot has sent in all, once there are at least ``at_least`` (or ``timeout`` has
        passed: the caller compares)."""
        query = {"at_least": str(at_least), "timeout": str(timeout)}
        async with self._session.get(f"{self._url}/delivered", params=query) as response:
            return int((await response.json())["delivered"])


async def member_session(answered: Answered, members: Members, user_id: int, linked: bool) -> float:
    """One member's /start (and contact) then /campaigns; seconds until the last was answered."""
    started = time.perf_counter()
    await answered.wait(members.act(user_id, "send", "/start"))
    if not linked:
        await answered.wait(members.act(user_id, "contact"))
    await answered.wait(members.act(user_id, "send", "/campaigns"))
    return time.perf_counter() - started


async def serve_sandbox(count: int) -> None:
    """The child: the sandbox with ``count`` members and the control API, until stdin closes."""
    sandbox = TelegramSandbox()
    users = {
        FIRST_USER + n: sandbox.user(FIRST_USER + n, "User", str(n), phone=phone(n)) for n in range(count)
    }

    async def act(request: web.Request) -> web.Response:
        body = await request.json()
        user = users[int(body["user"])]
        sent = user.share_contact() if body["action"] == "contact" else user.send(str(body["text"]))
        return web.json_response({"update_id": await sent})

    async def texts(_request: web.Request) -> web.Response:
        return web.json_response(
            {user_id: [m.plain_text for m in u.messages()] for user_id, u in users.items()}
        )

    async def times(_request: web.Request) -> web.Response:
        return web.json_response({user_id: [m.sent_at for m in u.messages()] for user_id, u in users.items()})

    async def delivered(request: web.Request) -> web.Response:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(float(request.query["timeout"])):
                await sandbox.wait_delivered(int(request.query["at_least"]))
        return web.json_response({"delivered": sandbox.delivered})

    control = web.Application()
    control.router.add_post("/act", act)
    control.router.add_get("/texts", texts)
    control.router.add_get("/times", times)
    control.router.add_get("/delivered", delivered)
    runner = web.AppRunner(control, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    await sandbox.start()
    host, port = runner.addresses[0][:2]
    print(f"READY {sandbox.api_url} {sandbox.token} http://{host}:{port}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the parent closes it
    await sandbox.stop()
    await runner.cleanup()


def start_sandbox(count: int) -> tuple[subprocess.Popen[str], str, str, str]:
    """The sandbox child; returns it with its API URL, token and control URL."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--sandbox-child", str(count)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert child.stdout is not None
    ready = child.stdout.readline().split()
    if len(ready) != 4 or ready[0] != "READY":
        child.kill()
        raise SystemExit("the sandbox did not start")
    return child, ready[1], ready[2], ready[3]


@dataclass(frozen=True)
class Session:
    """What a benchmark run holds: the sandbox child's addresses and process id, a scratch folder and the
    error count."""

    api_url: str
    token: str
    control_url: str
    folder: Path
    errors: ErrorCount
    sandbox_pid: int


@contextmanager
def sandbox_session(count: int, prefix: str) -> Iterator[Session]:
    """The sandbox child playing ``count`` members, a scratch folder, warnings counted; undone after."""
    child, api_url, token, control_url = start_sandbox(count)
    scratch = tempfile.TemporaryDirectory(prefix=prefix)
    errors = ErrorCount()
    logging.getLogger().addHandler(errors)
    logging.getLogger().setLevel(logging.WARNING)
    try:
        yield Session(api_url, token, control_url, Path(scratch.name), errors, child.pid)
    finally:
        logging.getLogger().removeHandler(errors)
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)
        scratch.cleanup()


def percentile(values: list[float], share: float) -> float:
    """The value below which ``share`` of ``values`` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def free_port() -> int:
    """A free port of 127.0.0.1 for the bot's web server (its address is registered before it starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def run(count: int, linked: bool, rate: float, webhook: bool) -> None:
    """Seed, start the bot, let every member write at once, print the figures."""
    webhook_settings: dict[str, Any] = {}
    if webhook:
        port = free_port()
        webhook_settings = {
            "webhook_url": f"http://127.0.0.1:{port}",
            "webhook_secret": "bench-secret",
            "listen": f"127.0.0.1:{port}",
        }
    with sandbox_session(count, "thidua-load-") as bench:
        settings = load_settings(
            _env_file=None,
            database_url=f"sqlite+aiosqlite:///{bench.folder / 'load.db'}",
            telegram_token=SecretStr(bench.token),
            telegram_api_url=bench.api_url,
            telegram_rate=rate,
            **webhook_settings,
        )
        now = datetime.now(UTC)
        runtime = Runtime(settings, poll_timeout=1)
        today = now.astimezone(settings.zone).date()
        await seed(runtime.store, count, count if linked else 0, now, today)
        await runtime.start()
        answered = Answered(runtime)
        user_ids = [FIRST_USER + n for n in range(count)]
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:
            members = Members(session, bench.control_url)
            cpu_before = time.process_time()
            started = time.perf_counter()
            times = await asyncio.gather(*(member_session(answered, members, u, linked) for u in user_ids))
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu_before
            await runtime.stop()
            texts = await members.texts()
        apology = plain(text("vi", "fallback.error"))
        listed = plain(text("vi", "campaigns.member_head"))
        apologies = sum(said == apology for seen in texts.values() for said in seen)
        unanswered = sum(not any(listed in said for said in seen) for seen in texts.values())
        updates = count * (2 if linked else 3)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        how = "already linked: /start, /campaigns" if linked else "/start, share contact, /campaigns"
        mode = "webhook" if webhook else "polling"
        print(f"{count:,} members at once ({how}), {updates:,} updates by {mode}, limit {rate:,.0f} msg/s")
        print(f"  completion p50       {statistics.median(times):8.2f} s")
        print(f"  completion p95       {percentile(times, 0.95):8.2f} s")
        print(f"  completion max       {max(times):8.2f} s")
        print(f"  all answered in      {elapsed:8.2f} s = {updates / elapsed:.0f} updates/s")
        print(f"  bot CPU per update   {1000 * cpu / updates:8.1f} ms (with the members' control calls)")
        print(f"  apologies            {apologies:8d}")
        print(f"  errors logged        {bench.errors.count:8d} {bench.errors.first[:200]}")
        print(f"  without campaigns    {unanswered:8d}")
        print(f"  bot peak RSS         {peak_mb:8.0f} MB")


def main() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=800)
    parser.add_argument("--linked", action="store_true", help="members already linked to their accounts")
    parser.add_argument("--small", action="store_true", help="100 members, for CI")
    parser.add_argument("--rate", type=float, default=1000.0, help="THIDUA_TELEGRAM_RATE for the run")
    parser.add_argument("--webhook", action="store_true", help="updates by webhook instead of polling")
    parser.add_argument("--sandbox-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sandbox_child is not None:
        asyncio.run(serve_sandbox(args.sandbox_child))
        return
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    asyncio.run(run(100 if args.small else args.members, args.linked, args.rate, args.webhook))


if __name__ == "__main__":
    main()
