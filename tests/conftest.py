"""Fixtures: a real database (a SQLite file, or PostgreSQL with ``--db=postgres``), the Bot API sandbox on
127.0.0.1, and the real bot polling it.

End-to-end tests use ``bot`` (the running runtime), ``chat`` (a person talking to it) and ``restart``.
``people`` makes persons on each channel in turn: in process with buttons, in process with numbered menus
and plain text, and Telegram and Zalo through their sandboxes over HTTP (for the tests marked ``telegram``
or ``zalo``, or for all with ``--all-channels``).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.app import Runtime
from bot.channels.memory import NUMBERED_MENUS, WITH_BUTTONS, MemoryChannel
from bot.domain.officers import grant_officer
from bot.engine.clock import ManualClock
from bot.engine.config import Settings, load_settings
from bot.sandbox import TelegramSandbox
from bot.sandbox.zalo import ZaloSandbox
from storage.database import Store
from storage.migrate import upgrade_async
from tests.helpers.chat import Chat
from tests.helpers.databases import drop_database, new_database
from tests.helpers.log_collector import SESSION_LOGS, leaks
from tests.helpers.memory_chat import MemoryChat
from tests.helpers.postgres import URL_VARIABLE, NoServer, PostgresServer
from tests.helpers.roster import NOW, load_roster
from tests.helpers.zalo_chat import ZaloChat

ADMIN_ID = 4242
ZALO_ADMIN_ID = "z4242"
os.environ.setdefault("PTB_TIMEDELTA", "1")  # as the CLI does: RetryAfter.retry_after is a timedelta


@pytest.fixture(autouse=True)
def collect_logs() -> Iterator[None]:
    """Every record goes to SESSION_LOGS; a test whose records hold a token or a phone number fails."""
    SESSION_LOGS.attach()
    start = len(SESSION_LOGS.lines)
    yield
    SESSION_LOGS.attach()  # a test that set up logging itself may have removed it
    leaked = leaks(SESSION_LOGS.lines[start:])
    if leaked:
        pytest.fail("log lines hold a bot token or a phone number:\n" + "\n".join(leaked), pytrace=False)


_SERVER = pytest.StashKey[PostgresServer]()
_NO_SERVER = "THIDUA_TEST_POSTGRES_MISSING"  # why no server could be had, for the workers' skip reason


def pytest_configure(config: pytest.Config) -> None:
    """With ``--db=postgres`` and no THIDUA_TEST_POSTGRES_URL, start one server for the whole run (in the
    controlling process: pytest-xdist's workers inherit its URL through the environment)."""
    worker = hasattr(config, "workerinput")
    if config.getoption("--db") != "postgres" or worker or os.environ.get(URL_VARIABLE):
        return
    try:
        server = PostgresServer.start()
    except NoServer as error:
        if os.environ.get("CI"):  # CI installs PostgreSQL: a run that skipped everything would prove nothing
            raise pytest.UsageError(f"--db=postgres: {error}") from error
        os.environ[_NO_SERVER] = str(error)
        return
    config.stash[_SERVER] = server
    os.environ[URL_VARIABLE] = server.url


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop the server this run started."""
    server = config.stash.get(_SERVER, None)
    if server is not None:
        server.stop()
        del config.stash[_SERVER]
        os.environ.pop(URL_VARIABLE, None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The tests about one database only are skipped on the other, saying why."""
    on_postgres = config.getoption("--db") == "postgres"
    for item in items:
        sqlite_only, postgres_only = (
            item.get_closest_marker("sqlite_only"),
            item.get_closest_marker("postgres_only"),
        )
        if on_postgres and sqlite_only is not None:
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {sqlite_only.args[0]}"))
        if not on_postgres and postgres_only is not None:
            reason = f"PostgreSQL only (run with --db=postgres): {postgres_only.args[0]}"
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def postgres_url(pytestconfig: pytest.Config) -> str | None:
    """The PostgreSQL server's URL with ``--db=postgres`` (None on SQLite); skips when there is none."""
    if pytestconfig.getoption("--db") != "postgres":
        return None
    url = os.environ.get(URL_VARIABLE)
    if not url:
        pytest.skip(f"PostgreSQL: no server ({os.environ.get(_NO_SERVER, 'none started')})")
    return url


@pytest.fixture
async def db_url(
    request: pytest.FixtureRequest, postgres_url: str | None, database_template: str, tmp_path: Path
) -> AsyncIterator[str]:
    """A fresh database, a SQLite file or with ``--db=postgres`` a PostgreSQL database: a copy of
    ``database_template`` for a test that uses ``store`` (made as a copy at once: on PostgreSQL an empty
    database replaced by a copy cost twice the time), else empty."""
    template = database_template if "store" in request.fixturenames else None
    url = await new_database(postgres_url, tmp_path, template)
    yield url
    await drop_database(postgres_url, url)


async def _make_roster_database(postgres_url: str | None, folder: Path) -> str:
    url = await new_database(postgres_url, folder)
    await upgrade_async(url)
    store = Store(url)
    await load_roster(store, folder)
    await grant_officer(store, "LDLD-HQ", member_code="DV002", actor="test", now=NOW)
    await store.close()  # every connection closed: SQLite folds the WAL into the file, PostgreSQL can copy it
    return url


@pytest.fixture(scope="session")
def roster_template(postgres_url: str | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One migrated database holding the test roster, made once a session through the real migrations
    and the real CSV import; each test's ``store`` starts from a copy of it (migrating takes 0.2 s)."""
    url = asyncio.run(_make_roster_database(postgres_url, tmp_path_factory.mktemp("template")))
    yield url
    asyncio.run(drop_database(postgres_url, url))


@pytest.fixture
def database_template(roster_template: str) -> str:
    """The database each test's ``store`` starts as a copy of: the roster (a test module may override it)."""
    return roster_template


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    """The migrated database holding the test roster; HÙNG (DV002) leads LDLD-HQ."""
    store = Store(db_url)
    yield store
    await store.close()


@pytest.fixture
async def sandbox() -> AsyncIterator[TelegramSandbox]:
    """The Telegram Bot API sandbox, listening on a free port of 127.0.0.1."""
    server = TelegramSandbox()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP client for the tests' own requests (webhook calls, file links), each bounded: a webhook that
    waited for the handling would never answer while the chat is held."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session


@pytest.fixture
def clock() -> ManualClock:
    """The clock the bot reads; tests move it instead of waiting."""
    return ManualClock(NOW)


@pytest.fixture
def settings(db_url: str, sandbox: TelegramSandbox) -> Settings:
    """Settings pointing the bot at the sandbox and the test database, ignoring any local .env."""
    return load_settings(
        _env_file=None,
        database_url=db_url,
        telegram_token=sandbox.token,
        telegram_api_url=sandbox.api_url,
        admins=f"telegram:{ADMIN_ID}",
    )


class BotHolder:
    """The running bot, replaceable by ``restart``."""

    def __init__(self, settings: Settings, clock: ManualClock) -> None:
        self.settings = settings
        self.clock = clock
        self.runtime = Runtime(settings, clock, poll_timeout=1)

    async def restart(self) -> None:
        """Stop the bot as a deploy would and start a new one on the same database."""
        await self.runtime.stop()
        self.runtime = Runtime(self.settings, self.clock, poll_timeout=1)
        await self.runtime.start()


@pytest.fixture
async def bot(store: Store, settings: Settings, clock: ManualClock) -> AsyncIterator[BotHolder]:
    """The real bot, polling the sandbox over HTTP."""
    holder = BotHolder(settings, clock)
    await holder.runtime.start()
    yield holder
    await holder.runtime.stop()


@pytest.fixture
def chat(sandbox: TelegramSandbox, bot: BotHolder) -> Callable[..., Chat]:
    """Make a person: ``chat(user_id, first_name, last_name, phone)``."""

    def make(
        user_id: int,
        first_name: str,
        last_name: str | None = None,
        phone: str | None = None,
        language_code: str = "vi",
    ) -> Chat:
        user = sandbox.user(user_id, first_name, last_name, phone=phone, language_code=language_code)
        return Chat(user, lambda: bot.runtime)

    return make


@pytest.fixture
def restart(bot: BotHolder) -> Callable[[], Awaitable[None]]:
    """Restart the bot mid-test."""
    return bot.restart


IN_PROCESS = ("memory-buttons", "memory-menus")
SANDBOXES = {  # a sandboxed channel's kind, and the marker that runs a test on it by default
    "telegram": pytest.param("telegram", marks=pytest.mark.sandbox),
    "zalo": pytest.param("zalo", marks=pytest.mark.sandbox),
}
ZALO = (SANDBOXES["zalo"],)


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--all-channels``: run every ``people`` test over HTTP on the Telegram and Zalo sandboxes too;
    ``--db=postgres``: run the tests on PostgreSQL instead of SQLite."""
    parser.addoption(
        "--db",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="the database the tests run on: SQLite files (the default) or PostgreSQL (a server started "
        "for the run, or the one THIDUA_TEST_POSTGRES_URL names)",
    )
    parser.addoption(
        "--all-channels",
        action="store_true",
        help="run every conversation test on the Telegram and Zalo sandboxes as well, "
        "not only those marked telegram or zalo",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A ``people`` test runs on both in-process channels; on a sandboxed channel (Telegram, Zalo) too when
    it is marked with the channel's name (a representative subset, the default) or when ``--all-channels``
    is given."""
    if "channel_kind" not in metafunc.fixturenames:
        return
    if any("channel_kind" in mark.args[0] for mark in metafunc.definition.iter_markers("parametrize")):
        return  # the test names its channels itself
    everywhere = metafunc.config.getoption("--all-channels")
    kinds = [*IN_PROCESS] + [
        param
        for name, param in SANDBOXES.items()
        if everywhere or metafunc.definition.get_closest_marker(name) is not None
    ]
    metafunc.parametrize("channel_kind", kinds, indirect=True)


@pytest.fixture
def channel_kind(request: pytest.FixtureRequest) -> str:
    """Which channel a ``people`` test runs on this time."""
    return str(request.param)


class MemoryBot:
    """The real bot on one in-process channel, replaceable by ``restart``; the channel keeps every chat."""

    def __init__(self, settings: Settings, clock: ManualClock, channel: MemoryChannel) -> None:
        self.settings = settings
        self.clock = clock
        self.channel = channel
        self.runtime = Runtime(settings, clock, memory=channel)

    async def restart(self) -> None:
        """Stop the bot as a deploy would and start a new one on the same database and channel."""
        await self.runtime.stop()
        self.runtime = Runtime(self.settings, self.clock, memory=self.channel)
        await self.runtime.start()


@pytest.fixture
async def memory_bot(
    store: Store, db_url: str, clock: ManualClock, channel_kind: str
) -> AsyncIterator[MemoryBot]:
    """The real bot on the in-process channel, with buttons or with numbered menus and plain text."""
    settings = load_settings(_env_file=None, database_url=db_url)
    capabilities = NUMBERED_MENUS if channel_kind == "memory-menus" else WITH_BUTTONS
    holder = MemoryBot(settings, clock, MemoryChannel(capabilities, settings.language))
    await holder.runtime.start()
    yield holder
    await holder.runtime.stop()


@pytest.fixture
async def zalo_sandbox() -> AsyncIterator[ZaloSandbox]:
    """The Zalo Bot API sandbox, listening on a free port of 127.0.0.1."""
    server = ZaloSandbox()
    await server.start()
    yield server
    await server.stop()


class ZaloBot(BotHolder):
    """The real bot with only the Zalo channel, replaceable by ``restart``."""


@pytest.fixture
async def zalo_bot(
    store: Store, db_url: str, clock: ManualClock, zalo_sandbox: ZaloSandbox
) -> AsyncIterator[ZaloBot]:
    """The real bot with only the Zalo channel, polling the Zalo sandbox over HTTP."""
    settings = load_settings(
        _env_file=None,
        database_url=db_url,
        zalo_token=zalo_sandbox.token,
        zalo_api_url=zalo_sandbox.api_url,
        admins=f"zalo:{ZALO_ADMIN_ID}",
    )
    holder = ZaloBot(settings, clock)
    await holder.runtime.start()
    yield holder
    await holder.runtime.stop()


@dataclass(frozen=True)
class People:
    """Makes persons on one channel: ``people(user_id, first_name, last_name, phone)``; ``restart`` restarts
    the bot they talk to."""

    channel: str  # the channel name accounts are stored under
    make: Callable[..., Chat | MemoryChat | ZaloChat]
    restart: Callable[[], Awaitable[None]]
    id_prefix: str = ""  # Zalo's ids are strings: the sandbox's persons are "z" and their number

    def __call__(self, *person: object, **options: object) -> Chat | MemoryChat | ZaloChat:
        """A person on this channel."""
        return self.make(*person, **options)

    def user_id(self, number: int) -> str:
        """The id the account of the person made with ``number`` is stored under on this channel."""
        return f"{self.id_prefix}{number}"


@pytest.fixture
def people(request: pytest.FixtureRequest, channel_kind: str, store: Store) -> People:
    """Persons on each channel in turn (the conversation tests that run on every channel use this); every
    channel's bot works on ``store``."""
    if channel_kind == "telegram":
        return People("telegram", request.getfixturevalue("chat"), request.getfixturevalue("bot").restart)
    if channel_kind == "zalo":
        zalo: ZaloBot = request.getfixturevalue("zalo_bot")
        sandbox: ZaloSandbox = request.getfixturevalue("zalo_sandbox")
        return People(
            "zalo",
            lambda *person, **options: ZaloChat(sandbox, lambda: zalo.runtime, *person, **options),
            zalo.restart,
            id_prefix="z",
        )
    bot: MemoryBot = request.getfixturevalue("memory_bot")
    return People(
        "memory", lambda *person, **options: MemoryChat(lambda: bot.runtime, *person, **options), bot.restart
    )
