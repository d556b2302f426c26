"""The engine and the unit of work: ``Store.begin()`` yields every repository bound to one transaction.

SQLite gets WAL and foreign keys on every connection, and no busy timeout: nothing waits inside SQLite, which
would block the event loop (storage/loop_connection.py); PostgreSQL needs nothing special.
A transaction takes SQLite's single write lock at BEGIN (known writers: the outbox, the scheduler, the
CLI) unless it is begun ``deferred``: then reading never waits, and the first write takes the lock or fails
at once with "database is locked" (``is_busy``), which the caller answers by running it again (the router).

Heavy reads (an export of a province, a chart) go through ``Store.read_apart(work)`` instead of an update's
transaction: on a database file, ``work`` runs in a worker thread of the store (at most ``HEAVY_READERS`` at
once), on that thread's own event loop and its own engine and connection, in a read-only deferred transaction
(on SQLite: WAL gives it a snapshot, it never takes the write lock and never blocks a writer). The statements
of the in-loop driver then block only that thread, and so does whatever ``work`` computes from the rows (the
chart), though it shares this process's GIL. PostgreSQL's asyncpg runs on any loop, so it takes the same path.
An in-memory SQLite database exists only in its one connection: there ``work`` runs on the caller's loop in a
deferred transaction.

A file built from a heavy read (the /export workbook) goes through ``Store.build_apart(work, timeout)``: the
same read, in a child process started by the forkserver (never a fork of this process, which has threads and
an event loop; spawned where the forkserver cannot start), at most ``HEAVY_BUILDERS`` at once. The child
opens its own read-only connection, runs ``work``, writes the pickled result into a temporary folder of its
own and exits; the parent waits for the exit without blocking its loop, reads the result and removes the
folder (XlsxWriter's temporary files go there too). So a build uses the second core and none of this
process's GIL, and a crash or a timeout (the child is killed) raises ``BuildFailed`` and leaves nothing
behind. The forkserver starts with Ctrl-C (SIGINT) ignored, and so do the children it forks: a terminal
sends Ctrl-C to its whole process group, and the forkserver, still importing its modules, printed a
KeyboardInterrupt traceback there; the bot stops its children itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import multiprocessing.forkserver
import pickle
import resource
import shutil
import signal
import tempfile
import threading
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import datetime
from functools import cached_property
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy import event, pool, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage.loop_connection import Executor, LoopPool
from storage.memo import Memo
from storage.repos.accounts import AccountRepo, seen_due
from storage.repos.audit import AuditRepo
from storage.repos.broadcasts import BroadcastRepo
from storage.repos.campaigns import CampaignRepo
from storage.repos.commendations import CommendationRepo
from storage.repos.counters import CounterRepo
from storage.repos.dialogs import DialogRepo, Opening
from storage.repos.evaluation import EvaluationRepo
from storage.repos.files import FileRepo
from storage.repos.initiatives import InitiativeRepo
from storage.repos.invites import InviteRepo
from storage.repos.join_requests import JoinRequestRepo
from storage.repos.leases import LeaseRepo
from storage.repos.link_codes import LinkCodeRepo
from storage.repos.members import MemberRepo
from storage.repos.menus import MenuRepo
from storage.repos.outbox import OutboxRepo
from storage.repos.payloads import PayloadRepo
from storage.repos.registrations import RegistrationRepo
from storage.repos.reminders import ReminderRepo
from storage.repos.roles import RoleRepo
from storage.repos.stats import StatsRepo
from storage.repos.units import UnitRepo
from storage.server_transaction import (
    ConnectionLost,
    ServerPool,
    WriteNeeded,
    refuse_writes_while_reading,
)
from storage.sqlite_inloop import begin_immediate, inloop_url, is_busy, plain_sqlite_url

__all__ = [
    "HEAVY_BUILDERS",
    "HEAVY_READERS",
    "BuildFailed",
    "ConnectionLost",
    "Repos",
    "Store",
    "WriteNeeded",
    "create_engine",
    "is_busy",
    "is_retryable",
]

T = TypeVar("T")
log = logging.getLogger(__name__)


class Repos:
    """Every repository, sharing one connection and so one transaction; each is made when first used
    (an update uses three or four of the twenty-three)."""

    def __init__(self, conn: Executor, memo: Memo | None = None, hold: str | None = None) -> None:
        self.conn = conn
        self.memo = memo  # reads kept between transactions (storage/memo.py); None keeps nothing
        # The campaigns' generation as the transaction's first statement read it (DialogRepo.opening), set
        # before ``campaigns`` is first used; None: read it when needed.
        self.campaigns_generation: int | None = None
        # The chat whose lock ``opening`` takes, no BEGIN having taken it (PostgreSQL, ``deferred``).
        self.hold = hold

    async def opening(self, channel: str, chat_id: str) -> Opening:
        """An update's first read (``DialogRepo.opening``), taking first the chat's lock that ``Store.begin``
        was given when no BEGIN took it; the campaigns' generation read there is kept for ``campaigns``."""
        opening = await self.dialogs.opening(channel, chat_id, hold=self.hold)
        self.hold = None
        self.campaigns_generation = opening.campaigns_generation
        return opening

    @cached_property
    def units(self) -> UnitRepo:
        """``UnitRepo`` on this transaction."""
        return UnitRepo(self.conn)

    @cached_property
    def members(self) -> MemberRepo:
        """``MemberRepo`` on this transaction."""
        return MemberRepo(self.conn)

    @cached_property
    def accounts(self) -> AccountRepo:
        """``AccountRepo`` on this transaction."""
        return AccountRepo(self.conn, self.memo)

    @cached_property
    def roles(self) -> RoleRepo:
        """``RoleRepo`` on this transaction."""
        return RoleRepo(self.conn)

    @cached_property
    def dialogs(self) -> DialogRepo:
        """``DialogRepo`` on this transaction."""
        return DialogRepo(self.conn)

    @cached_property
    def menus(self) -> MenuRepo:
        """``MenuRepo`` on this transaction."""
        return MenuRepo(self.conn)

    @cached_property
    def invites(self) -> InviteRepo:
        """``InviteRepo`` on this transaction."""
        return InviteRepo(self.conn)

    @cached_property
    def join_requests(self) -> JoinRequestRepo:
        """``JoinRequestRepo`` on this transaction."""
        return JoinRequestRepo(self.conn)

    @cached_property
    def link_codes(self) -> LinkCodeRepo:
        """``LinkCodeRepo`` on this transaction."""
        return LinkCodeRepo(self.conn)

    @cached_property
    def audit(self) -> AuditRepo:
        """``AuditRepo`` on this transaction."""
        return AuditRepo(self.conn)

    @cached_property
    def payloads(self) -> PayloadRepo:
        """``PayloadRepo`` on this transaction."""
        return PayloadRepo(self.conn)

    @cached_property
    def outbox(self) -> OutboxRepo:
        """``OutboxRepo`` on this transaction."""
        return OutboxRepo(self.conn)

    @cached_property
    def campaigns(self) -> CampaignRepo:
        """``CampaignRepo`` on this transaction."""
        return CampaignRepo(self.conn, self.memo, self.campaigns_generation)

    @cached_property
    def registrations(self) -> RegistrationRepo:
        """``RegistrationRepo`` on this transaction."""
        return RegistrationRepo(self.conn)

    @cached_property
    def broadcasts(self) -> BroadcastRepo:
        """``BroadcastRepo`` on this transaction."""
        return BroadcastRepo(self.conn)

    @cached_property
    def reminders(self) -> ReminderRepo:
        """``ReminderRepo`` on this transaction."""
        return ReminderRepo(self.conn)

    @cached_property
    def leases(self) -> LeaseRepo:
        """``LeaseRepo`` on this transaction."""
        return LeaseRepo(self.conn)

    @cached_property
    def initiatives(self) -> InitiativeRepo:
        """``InitiativeRepo`` on this transaction."""
        return InitiativeRepo(self.conn)

    @cached_property
    def stats(self) -> StatsRepo:
        """``StatsRepo`` on this transaction."""
        return StatsRepo(self.conn)

    @cached_property
    def files(self) -> FileRepo:
        """``FileRepo`` on this transaction."""
        return FileRepo(self.conn)

    @cached_property
    def evaluation(self) -> EvaluationRepo:
        """``EvaluationRepo`` on this transaction."""
        return EvaluationRepo(self.conn)

    @cached_property
    def counters(self) -> CounterRepo:
        """``CounterRepo`` on this transaction."""
        return CounterRepo(self.conn)

    @cached_property
    def commendations(self) -> CommendationRepo:
        """``CommendationRepo`` on this transaction."""
        return CommendationRepo(self.conn)


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # The driver must not open transactions by itself: _begin does (see docs/architecture.md). No
    # connection waits inside SQLite for the write lock (busy_timeout 0): that wait would block the event
    # loop, so begin_immediate waits with asyncio sleeps instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=0")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin(conn: Connection) -> None:
    # The async engine's transactions (migrations, the CLI's checks) take the write lock at BEGIN.
    begin_immediate(conn)


def _begin_deferred(conn: Connection) -> None:
    # A heavy read's transaction: a snapshot under WAL, no lock.
    conn.exec_driver_sql("BEGIN")


# Every update being answered holds a connection for its whole transaction (up to 256 at once, see
# bot/channels/telegram/channel.py), but on SQLite a transaction runs on the event loop from BEGIN to
# COMMIT without letting another start (storage/loop_connection.py), so few connections are ever lent at
# once; waiting for one is a fair queue, and it must never time out under a burst: an update waits rather
# than fails.
SQLITE_POOL_SIZE = 16
POOL_TIMEOUT_SECONDS = 600
# PostgreSQL: the updates' transactions keep up to SERVER_POOL_SIZE connections open between them
# (storage/server_transaction.py), and up to SERVER_SPARE more serve whatever opens a connection of the
# engine itself (the schema's revision at start). Few, because each connection warms up on the server (a
# process, its catalog caches, a plan per statement, asyncpg's type lookups): with 30, 2,000 updates cost
# the server 0.72 ms each, with 8 0.39 (docs/performance.md); 256 updates at once wait their turn in asyncio.
SERVER_POOL_SIZE = 8
SERVER_SPARE = 4


# Heavy reads at once, each on its own thread: a province's export adds ~45 MB while it runs and takes
# tens of seconds, so a few at most; more than two, so a chart does not queue behind two exports.
HEAVY_READERS = 4
# Files built at once, each in a child process: a province's workbook keeps one core busy for seconds and
# its child needs ~150 MB, so two (this machine's cores); a third officer waits for a turn.
HEAVY_BUILDERS = 2
RESULT, ERROR = "result.pickle", "error.txt"  # what a child leaves in its folder


def is_retryable(error: BaseException) -> bool:
    """True when the transaction that raised ``error`` may simply run again: SQLite refused the write lock
    (``is_busy``), or the connection to PostgreSQL was lost before it committed (``ConnectionLost``). Not
    ``WriteNeeded``: the router answers that one in a transaction; anywhere else it is a write where only
    reads were meant, a fault of the code, logged with its traceback (``bot.engine.logs.log_failure``)."""
    return isinstance(error, ConnectionLost) or is_busy(error)


class BuildFailed(Exception):
    """A build in a child process did not finish: it crashed, raised or ran out of time (logged)."""


def _file_based(url: str) -> bool:
    return ":memory:" not in url and "mode=memory" not in url


def create_engine(url: str) -> AsyncEngine:
    """An async engine for ``url``, tuned for SQLite when that is what it points at."""
    if not url.startswith("sqlite"):
        # As on SQLite, a burst of updates waits its turn for a connection rather than failing after
        # SQLAlchemy's 30 s. AUTOCOMMIT: the transactions are begun and ended on asyncpg's connection
        # (storage/server_transaction.py).
        server = create_async_engine(
            url,
            isolation_level="AUTOCOMMIT",
            pool_size=SERVER_POOL_SIZE,
            max_overflow=SERVER_SPARE,
            pool_timeout=POOL_TIMEOUT_SECONDS,
        )
        event.listen(server.sync_engine, "before_execute", refuse_writes_while_reading)
        return server
    pooling: dict[str, Any] = (
        {"pool_size": SQLITE_POOL_SIZE, "max_overflow": 0, "pool_timeout": POOL_TIMEOUT_SECONDS}
        if _file_based(url)
        else {}
    )
    engine = create_async_engine(inloop_url(url), **pooling)
    event.listen(engine.sync_engine, "connect", _tune_sqlite)
    event.listen(engine.sync_engine, "begin", _begin)
    return engine


def _loop_engine(url: str) -> Engine:
    # The synchronous engine behind LoopPool: plain pysqlite, each connection tuned once when opened.
    engine = sa_create_engine(
        plain_sqlite_url(url), poolclass=pool.NullPool if _file_based(url) else pool.StaticPool
    )
    event.listen(engine, "connect", _tune_sqlite)
    return engine


def _read_only(dbapi_connection: Any, _record: Any) -> None:
    # A heavy read's connection refuses any write: its work is reading, and a write would take the lock.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


def _reader_engine(url: str) -> AsyncEngine:
    """An engine of one connection, opened for one heavy read on the worker thread's loop and closed after."""
    if not url.startswith("sqlite"):
        return create_async_engine(url, poolclass=pool.NullPool)
    engine = create_async_engine(inloop_url(url), poolclass=pool.NullPool)
    event.listen(engine.sync_engine, "connect", _tune_sqlite)
    event.listen(engine.sync_engine, "connect", _read_only)
    event.listen(engine.sync_engine, "begin", _begin_deferred)
    return engine


async def _read_on_own_loop(url: str, work: Callable[[Repos], Awaitable[T]]) -> T:
    engine = _reader_engine(url)
    try:
        async with engine.begin() as conn:
            if conn.dialect.name != "sqlite":
                # One snapshot for all the reads of an export, as SQLite's deferred transaction gives.
                await conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
            return await work(Repos(conn))
    finally:
        await engine.dispose()


def _build_in_child(url: str, work: Callable[[Repos], Awaitable[Any]], folder: str) -> None:
    # The child's whole life: everything temporary in the folder the parent removes, the result beside it.
    started = time.perf_counter()
    tempfile.tempdir = folder
    try:
        result = asyncio.run(_read_on_own_loop(url, work))
    except Exception:
        # For the parent's log (the child has none of the bot's logging), then a plain failing exit.
        (Path(folder) / ERROR).write_text(traceback.format_exc())
        raise SystemExit(1) from None
    # Its own peak, or that of a process it ran (the workbook's writer), the larger.
    peaks = (resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    peak_mb = max(peaks) / 1024
    partial_path = Path(folder) / f"{RESULT}.part"
    with partial_path.open("wb") as out:
        pickle.dump((result, time.perf_counter() - started, peak_mb), out, pickle.HIGHEST_PROTOCOL)
    partial_path.rename(Path(folder) / RESULT)  # whole or absent, whatever stops the child


def _ignoring_ctrl_c(start: Callable[[], None]) -> None:
    """Run ``start`` with SIGINT ignored, so the processes it starts ignore it from their first instruction
    (an ignored signal stays so across fork and exec; multiprocessing clears a blocked one), and a Ctrl-C
    typed in the terminal, sent to its whole process group, stops this process alone. Python lets only the
    main thread change a signal's handling: elsewhere ``start`` runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        start()
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        start()
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)


async def _exited(process: BaseProcess) -> None:
    # The process's sentinel becomes readable when it ends: waited for on the loop, no thread parked on it.
    loop = asyncio.get_running_loop()
    ended = loop.create_future()

    def end() -> None:
        if not ended.done():
            ended.set_result(None)

    loop.add_reader(process.sentinel, end)
    try:
        await ended
    finally:
        loop.remove_reader(process.sentinel)
    process.join()  # at once: it has ended


class Store:
    """The application's handle on its database."""

    def __init__(self, url: str, build_preload: Sequence[str] = ()) -> None:
        """``build_preload`` names the modules the forkserver imports once for every child of
        ``build_apart`` (the handlers whose work the children run), so a child starts in milliseconds."""
        self.url = url
        self.engine = create_engine(url)
        # The SQLite file opened, once noted (``note_file``): its path, and its (device, inode).
        self._file: tuple[Path, tuple[int, int]] | None = None
        sqlite = self.engine.dialect.name == "sqlite"
        # SQLite's transactions run on the loop (storage/loop_connection.py); PostgreSQL's through asyncpg.
        self.loop_engine = _loop_engine(url) if sqlite else None
        self._loop_pool = (
            LoopPool(self.loop_engine, SQLITE_POOL_SIZE if _file_based(url) else 1)
            if self.loop_engine
            else None
        )
        self._server_pool = None if sqlite else ServerPool(self.engine, SERVER_POOL_SIZE)
        # This process's writers take turns here, first come first served, before asking SQLite for its
        # lock: SQLite serves no one in order, and a writer refused the lock sleeps before asking again.
        self._writers = asyncio.Lock() if sqlite else None
        self._readers = ThreadPoolExecutor(HEAVY_READERS, thread_name_prefix="thidua-read")
        self._builders = asyncio.Semaphore(HEAVY_BUILDERS)
        self._build_preload = list(build_preload)
        self._spawned = False  # True once no forkserver could start here (see _started)
        # Kept on the loop's thread only: a heavy read on a worker thread keeps nothing.
        self.memo = Memo()

    @property
    def deferred_reads_only(self) -> bool:
        """True on PostgreSQL, where a ``deferred`` unit of work cannot write at all (``WriteNeeded``); on
        SQLite it may, unless another writer holds the lock."""
        return self._server_pool is not None

    def seen_due(self, channel: str, user_id: str, now: datetime) -> bool:
        """True when this process knows that the account's next update writes: its last-seen minute has
        passed (``storage.repos.accounts.seen_due``)."""
        return seen_due(self.memo, channel, user_id, now)

    @property
    def in_memory(self) -> bool:
        """True for an in-memory SQLite database: it lives in this process only (no child can open it)."""
        return self.engine.dialect.name == "sqlite" and not _file_based(self.url)

    @asynccontextmanager
    async def begin(self, *, deferred: bool = False, hold: str | None = None) -> AsyncIterator[Repos]:
        """One transaction: committed when the block ends, rolled back if it raises.

        On SQLite it holds the write lock from the start (waiting its turn behind this process's other
        writers), unless ``deferred``: then it reads alongside the others and its first write may raise an
        error for which ``is_busy`` is true; the caller runs it again. On PostgreSQL ``hold`` names a chat
        (``channel:chat_id``) whose other transactions, on any instance, wait for this one to end (a lock
        taken with the BEGIN), so a chat's updates are answered one at a time, each seeing what the one
        before wrote; SQLite serves one instance, which keeps each chat's order itself
        (bot/engine/channel.py ChatOrder). ``deferred`` there is a unit of work that only reads: no
        transaction, each statement on its own; its first statement must then be ``Repos.opening``, which
        takes the chat's lock and reads after it; a write raises ``WriteNeeded`` before anything is written,
        and the caller runs it again. A PostgreSQL connection found lost before the commit raises
        ``ConnectionLost``: the caller runs the work again.
        """
        if self._server_pool is not None:
            async with self._server_pool.transaction(None if deferred else hold, read_only=deferred) as conn:
                repos = Repos(conn, self.memo, hold if deferred else None)
                yield repos
                if repos.hold is not None:
                    raise RuntimeError(f"chat {hold}'s lock was never taken: begin with Repos.opening")
            return
        assert self._loop_pool is not None and self._writers is not None
        if deferred:
            async with self._loop_pool.transaction(immediate=False) as loop_conn:
                yield Repos(loop_conn, self.memo)
            return
        async with self._writers, self._loop_pool.transaction(immediate=True) as loop_conn:
            yield Repos(loop_conn, self.memo)

    async def read_apart(self, work: Callable[[Repos], Awaitable[T]]) -> T:
        """``work``'s result, read apart from every update: on its own connection in a read-only deferred
        transaction, on a worker thread's own event loop (see the module's docstring), where it may also
        compute at length without keeping anyone else waiting. ``work`` must only read."""
        if self.in_memory:
            async with self.begin(deferred=True) as repos:
                return await work(repos)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, _read_in_thread, self.url, work)

    async def build_apart(self, work: Callable[[Repos], Awaitable[T]], timeout: float) -> T:
        """``work``'s result, as ``read_apart`` gives it, computed in a child process of its own (see the
        module's docstring) within ``timeout`` seconds, after waiting for a turn among ``HEAVY_BUILDERS``;
        ``work`` and its result must pickle. Raises ``BuildFailed`` when the child crashes, raises or runs
        out of time. An in-memory database has no file a child could open: there it is ``read_apart``."""
        if self.in_memory:
            return await self.read_apart(work)
        async with self._builders:
            folder = Path(tempfile.mkdtemp(prefix="thidua-build-"))
            try:
                return await self._build(work, timeout, folder)
            finally:
                shutil.rmtree(folder, ignore_errors=True)

    async def start_builders(self) -> None:
        """Start the forkserver that ``build_apart``'s children come from, with its imports, now (in a process
        of its own, beside start-up) rather than within the first build; nothing where no child is built."""
        if self.in_memory or self._spawned:
            return
        multiprocessing.get_context("forkserver").set_forkserver_preload(self._build_preload)
        try:
            _ignoring_ctrl_c(multiprocessing.forkserver.ensure_running)  # ~10 ms: two processes spawned
        except OSError as error:  # as in _started: a TMPDIR too long for the forkserver's socket
            log.warning("the forkserver cannot start (%s): builds are spawned instead", error)
            self._spawned = True

    def _child(self, work: Callable[[Repos], Awaitable[T]], folder: Path) -> BaseProcess:
        args = (self.url, work, str(folder))
        if self._spawned:
            return multiprocessing.get_context("spawn").Process(
                target=_build_in_child, args=args, name="thidua-build", daemon=True
            )
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(self._build_preload)
        return context.Process(target=_build_in_child, args=args, name="thidua-build", daemon=True)

    async def _started(self, work: Callable[[Repos], Awaitable[T]], folder: Path) -> BaseProcess:
        # Starting asks the forkserver for a child (the first time, starts the forkserver and its imports).
        # The forkserver listens on a Unix socket in the temporary folder: under a TMPDIR too long for a
        # socket's path (~100 characters) it cannot start, and the builds are spawned instead (slower to
        # start, the same otherwise).
        process = self._child(work, folder)
        try:
            await asyncio.to_thread(process.start)
            return process
        except OSError as error:
            if self._spawned:
                raise
            log.warning("the forkserver cannot start (%s): builds are spawned instead", error)
        self._spawned = True
        process = self._child(work, folder)
        await asyncio.to_thread(process.start)
        return process

    async def _build(self, work: Callable[[Repos], Awaitable[T]], timeout: float, folder: Path) -> T:
        try:
            process = await self._started(work, folder)
        except Exception as error:
            log.exception("a build could not start its child process")
            raise BuildFailed(f"no child process: {error}") from error
        try:
            await asyncio.wait_for(_exited(process), timeout)
        except TimeoutError:
            process.kill()
            await _exited(process)
            log.error("a build in a child process ran out of time (%.0f s): killed", timeout)
            raise BuildFailed(f"out of time after {timeout:.0f} s") from None
        except BaseException:  # cancelled (the bot stops): the child goes too
            process.kill()
            raise
        result_path = folder / RESULT
        if process.exitcode != 0 or not result_path.exists():
            error_path = folder / ERROR
            why = error_path.read_text() if error_path.exists() else "no error reported (it crashed)"
            log.error("a build in a child process failed: exit code %s\n%s", process.exitcode, why)
            raise BuildFailed(f"the child exited with code {process.exitcode}")
        result, seconds, peak_mb = pickle.loads(result_path.read_bytes())
        log.info(
            "built in a child process in %.2f s, its peak memory %.0f MB",
            seconds,
            peak_mb,
            extra={"build_seconds": seconds, "build_peak_mb": peak_mb},
        )
        return result  # type: ignore[no-any-return]

    def note_file(self) -> None:
        """Remember which file a SQLite database is, once it exists, so ``file_lost`` tells when it goes."""
        database = self.engine.url.database
        if self.engine.dialect.name == "sqlite" and database and _file_based(self.url):
            path = Path(database).absolute()
            with contextlib.suppress(OSError):
                found = path.stat()
                self._file = (path, (found.st_dev, found.st_ino))

    def file_lost(self) -> bool:
        """True when the SQLite file noted is no longer at its path (deleted, or replaced by a copy) while
        this process still writes to the one it opened, which nobody will open again."""
        if self._file is None:
            return False
        path, noted = self._file
        try:
            found = path.stat()
        except OSError:
            return True
        return (found.st_dev, found.st_ino) != noted

    async def close(self) -> None:
        """Release every pooled connection; heavy reads under way finish on their threads."""
        self._readers.shutdown(wait=False, cancel_futures=True)
        if self._loop_pool is not None:
            self._loop_pool.close()
        if self._server_pool is not None:
            await self._server_pool.close()
        await self.engine.dispose()


def _read_in_thread(url: str, work: Callable[[Repos], Awaitable[T]]) -> T:
    return asyncio.run(_read_on_own_loop(url, work))
