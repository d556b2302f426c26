"""Instances benchmark: one `thidua run`, then two behind one address, on one PostgreSQL database.

    python bench/instances.py             # 2,000 updates from 500 linked members of 10,000; best of 3 rounds
    python bench/instances.py --small     # 300 updates from 100 linked members of 1,000, one round, for CI
    python bench/instances.py --updates 4000 --rounds 5

A throwaway PostgreSQL database (bench/databases.py) seeded as bench/updates.py seeds it (the roster, the
linked members, a dozen launched campaigns); the Bot API sandbox in a child process (bench/load.py's), which
delivers the updates by webhook, one call at a time and in order, as it does for the tests; a round-robin
proxy in this process stands for the load balancer in front of the instances (each webhook call to the next
one). The instances are real `thidua run` processes in webhook mode. In each round, one instance and then
two (new processes each time) take the same number of queued updates (/campaigns, /help, /start in turn from
the linked members): the updates are queued, the instances started, and only once every one has registered
its webhook does the proxy pass on the calls it answered 503 until then (the sandbox tries again). One
instance goes through the proxy too, so that the number of instances is all that differs.

Prints for each setup, its best round by updates/s: updates/s from the first update handed on to the last
answer; p50/p95/p99 of the reply time, from the update's webhook call to its answer; CPU milliseconds per
update of the instances together, of the sandbox, of the proxy and of the PostgreSQL server (its postmaster
and backends), all read from /proc/PID/stat; how often the instances' event loops went to sleep per update
(their voluntary context switches: many when an instance has one update in hand at a time and waits on each
round trip to the server, few when it always has another to go on with) and how often they were preempted
(involuntary: waiting for a core); the cores the whole machine kept
busy meanwhile (/proc/stat: other work included); the campaign lists seen, the apologies and the errors the
instances logged. Every round's updates/s are printed too. Never asserts: figures are for people to compare.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.databases import bench_database
from bench.load import Members, Session, free_port, percentile, sandbox_session
from bench.updates import (
    CAMPAIGNS,
    COMMANDS,
    QUEUE_CONCURRENCY,
    WAIT_SECONDS,
    queue_parser,
    queue_updates,
    seeded_runtime,
)
from bot.channels.telegram.channel import WEBHOOK_PATH
from messages import plain, text

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-instances-secret"
READY = "telegram channel webhook as"  # what an instance logs once its webhook is registered
START_SECONDS = 120.0  # for an instance to register its webhook: a bound, not an expectation
STOP_SECONDS = 30.0
TICKS = os.sysconf("SC_CLK_TCK")
SETUPS = (1, 2)  # instances, in the order each round runs them
_NAMES = {1: "one instance", 2: "two instances"}


def _stat(pid: int) -> list[str]:
    """/proc/PID/stat's fields from the third (the state) on: field n is at index n - 3."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    return raw[raw.rindex(")") + 2 :].split()


def process_cpu(pid: int, ended_children: bool = False) -> float:
    """A process's user and system CPU seconds (all its threads); with ``ended_children``, plus those of
    the children it has waited for."""
    fields = _stat(pid)
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if ended_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / TICKS


def server_cpu(postmaster: int) -> float:
    """CPU seconds of a PostgreSQL server: its postmaster, the backends and workers it has now and those
    that have ended."""
    total = process_cpu(postmaster, ended_children=True)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat(int(entry.name))
        except OSError:  # ended while we looked
            continue
        if int(fields[1]) == postmaster:
            total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def switches(pid: int) -> tuple[int, int]:
    """How many times a process's main thread (an instance's event loop) gave up the CPU to wait for
    something (its voluntary context switches) and was made to give it up to another (involuntary)."""
    counts = dict(
        line.split(":")
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if "ctxt_switches" in line
    )
    return int(counts["voluntary_ctxt_switches"]), int(counts["nonvoluntary_ctxt_switches"])


def machine_busy() -> float:
    """CPU seconds all the machine's cores have spent on anything but idling since boot."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / TICKS  # all but idle and iowait; no guest twice


@dataclass(frozen=True)
class Cpu:
    """CPU seconds used so far by the instances together, the sandbox, the proxy (this process), the server
    and the whole machine; how many times the instances' event loops went to sleep waiting and were
    preempted; and the clock (``time.monotonic``)."""

    instances: float
    sandbox: float
    proxy: float
    server: float | None
    machine: float
    sleeps: int
    preempted: int
    wall: float

    @classmethod
    def now(cls, instances: list[int], sandbox: int, postmaster: int | None) -> Cpu:
        """Read them all now."""
        server = server_cpu(postmaster) if postmaster is not None else None
        proxy = process_cpu(os.getpid())
        counted = [switches(pid) for pid in instances]
        return cls(
            sum(map(process_cpu, instances)),
            process_cpu(sandbox),
            proxy,
            server,
            machine_busy(),
            sum(sleeps for sleeps, _preempted in counted),
            sum(preempted for _sleeps, preempted in counted),
            time.monotonic(),
        )

    def since(self, before: Cpu) -> Cpu:
        """What was used between ``before`` and this reading."""
        server = None if self.server is None or before.server is None else self.server - before.server
        return Cpu(
            self.instances - before.instances,
            self.sandbox - before.sandbox,
            self.proxy - before.proxy,
            server,
            self.machine - before.machine,
            self.sleeps - before.sleeps,
            self.preempted - before.preempted,
            self.wall - before.wall,
        )


async def postmaster_pid(url: str) -> int | None:
    """The PostgreSQL server's main process, when it runs on this machine (its CPU is read from /proc)."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            backend = int((await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one())
            return postmaster_of(backend)
    finally:
        await engine.dispose()


def postmaster_of(backend: int) -> int | None:
    """The parent of this PostgreSQL backend, or None when the server is not on this machine (a server at
    THIDUA_TEST_POSTGRES_URL elsewhere: the number is some other process's, or none)."""
    try:
        parent = int(_stat(backend)[1])
        return parent if Path(f"/proc/{parent}/comm").read_text().strip() == "postgres" else None
    except OSError:
        return None


class Balancer:
    """The load balancer's stand-in: each webhook call goes to the next instance in turn. Closed, it
    answers 503 (the sandbox tries the update again shortly); open, it notes when each update was first
    handed on, and its chat."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session
        self._ports: list[int] = []
        self._turn = 0
        self.handed: dict[int, tuple[float, int]] = {}  # update id: (time.monotonic(), chat id)

    def open(self, ports: list[int]) -> None:
        """Pass calls on to the instances on these ports, from now on; forget the updates of earlier runs."""
        self.handed = {}
        self._ports = ports

    def close(self) -> None:
        """Answer 503 to every call from now on."""
        self._ports = []

    async def forward(self, request: web.Request) -> web.Response:
        """Pass one webhook call on to the next instance and its answer back."""
        if not self._ports:
            return web.Response(status=503)
        body = await request.read()
        update = json.loads(body)
        self.handed.setdefault(update["update_id"], (time.monotonic(), update["message"]["chat"]["id"]))
        port = self._ports[self._turn % len(self._ports)]
        self._turn += 1
        headers = {name: value for name, value in request.headers.items() if name.lower().startswith("x-")}
        headers["Content-Type"] = request.content_type
        async with self._session.post(
            f"http://127.0.0.1:{port}{request.path}", data=body, headers=headers
        ) as answer:
            return web.Response(status=answer.status)


@asynccontextmanager
async def balancer() -> AsyncIterator[tuple[Balancer, str]]:
    """The proxy, closed, and its address, for the length of the block."""
    async with aiohttp.ClientSession() as session:
        proxy = Balancer(session)
        app = web.Application()
        app.router.add_post(WEBHOOK_PATH, proxy.forward)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            yield proxy, f"http://127.0.0.1:{port}"
        finally:
            await runner.cleanup()


@dataclass(frozen=True)
class Instance:
    """A `thidua run` child process, the port it listens on and its log (JSON lines)."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def errors(self) -> list[str]:
        """The messages of the ERROR and CRITICAL records it has logged."""
        found = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("level") in ("ERROR", "CRITICAL"):
                found.append(str(record.get("message", "")))
        return found

    async def registered(self) -> None:
        """Wait until it has registered its webhook (bound it with a timeout)."""
        while READY not in self.log.read_text(encoding="utf-8", errors="replace"):
            if self.process.poll() is not None:
                raise SystemExit(
                    f"an instance stopped at start; see its log:\n{self.log.read_text()[-2000:]}"
                )
            await asyncio.sleep(0.1)


@contextmanager
def instances(count: int, bench: Session, url: str, public_url: str, rate: float) -> Iterator[list[Instance]]:
    """``count`` `thidua run` processes in webhook mode on the bench's database and sandbox, registered at
    ``public_url``; stopped (SIGTERM, then killed if need be) at the end."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PTB_TIMEDELTA": "1",
        "THIDUA_DATABASE_URL": url,
        "THIDUA_TELEGRAM_TOKEN": bench.token,
        "THIDUA_TELEGRAM_API_URL": bench.api_url,
        "THIDUA_TELEGRAM_RATE": str(rate),
        "THIDUA_WEBHOOK_URL": public_url,
        "THIDUA_WEBHOOK_SECRET": SECRET,
        "THIDUA_LOG_FORMAT": "json",
    }
    started: list[Instance] = []
    try:
        for _ in range(count):
            workdir = Path(tempfile.mkdtemp(prefix="instance-", dir=bench.folder))
            port, log = free_port(), workdir / "thidua.log"
            with log.open("wb") as stderr:
                process = subprocess.Popen(
                    [sys.executable, "-m", "bot", "run"],
                    cwd=workdir,
                    env={**env, "THIDUA_LISTEN": f"127.0.0.1:{port}"},
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                )
            started.append(Instance(process, port, log))
        yield started
    finally:
        for instance in started:
            instance.process.send_signal(signal.SIGTERM)
        for instance in started:
            try:
                instance.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                instance.process.kill()
                instance.process.wait(STOP_SECONDS)


@dataclass(frozen=True)
class Figures:
    """One setup's run."""

    updates: int
    answered: int
    seconds: float
    reply_seconds: list[float]
    cpu: Cpu
    lists: int
    asked: int
    apologies: int
    errors: list[str]

    @property
    def rate(self) -> float:
        """Updates answered per second, wall clock."""
        return self.answered / self.seconds

    def per_update_ms(self, seconds: float | None) -> str:
        """CPU milliseconds per update, or n/a."""
        return "n/a" if seconds is None else f"{1000 * seconds / self.answered:.2f} ms"


@dataclass(frozen=True)
class Bench:
    """What every setup of a run shares: the sandbox and its members, the database and the proxy."""

    session: Session
    url: str
    members: Members
    proxy: Balancer
    public_url: str
    postmaster: int | None
    linked: int
    rate: float


async def run_setup(bench: Bench, how_many: int, count: int) -> Figures:
    """Queue ``count`` updates, start ``how_many`` instances, open the proxy once all have registered their
    webhook, wait for every answer; the figures."""
    await queue_updates(bench.members, bench.linked, count)
    earlier = {user: len(times) for user, times in (await bench.members.sent_at()).items()}
    target = await bench.members.delivered() + count  # one answer each
    sandbox = bench.session.sandbox_pid
    with instances(how_many, bench.session, bench.url, bench.public_url, bench.rate) as running:
        async with asyncio.timeout(START_SECONDS):
            await asyncio.gather(*(instance.registered() for instance in running))
        pids = [instance.process.pid for instance in running]
        before = Cpu.now(pids, sandbox, bench.postmaster)
        bench.proxy.open([instance.port for instance in running])
        await bench.members.delivered(target, WAIT_SECONDS)
        cpu = Cpu.now(pids, sandbox, bench.postmaster).since(before)
        bench.proxy.close()
    errors = [message for instance in running for message in instance.errors()]
    times, texts = await bench.members.sent_at(), await bench.members.texts()
    handed: dict[int, list[float]] = {}
    for at, chat in sorted(bench.proxy.handed.values()):  # a chat's updates in the order they came
        handed.setdefault(chat, []).append(at)
    replies: list[float] = []
    for user, sent in handed.items():
        answers = times[user][earlier[user] :]
        replies += [answer - at for at, answer in zip(sent, answers, strict=False)]
    said = [words for user, seen in texts.items() for words in seen[earlier[user] :]]
    first = min(at for at, _chat in bench.proxy.handed.values())
    last = max(max(seen[earlier[user] :], default=first) for user, seen in times.items())
    apology, listed = plain(text("vi", "fallback.error")), plain(text("vi", "campaigns.member_head"))
    return Figures(
        updates=count,
        answered=len(said),
        seconds=last - first,
        reply_seconds=replies,
        cpu=cpu,
        lists=sum(listed in words for words in said),
        asked=len(range(0, count, len(COMMANDS))),
        apologies=sum(words == apology for words in said),
        errors=errors,
    )


def report(rounds: dict[int, list[Figures]]) -> None:
    """The best round of each setup side by side, then every round's updates/s."""
    best = {how_many: max(figures, key=lambda f: f.rate) for how_many, figures in rounds.items()}
    one, two = best[1], best[2]
    rows: list[tuple[str, str, str]] = [
        ("updates/s", f"{one.rate:,.0f}", f"{two.rate:,.0f}"),
        ("answered in", f"{one.seconds:.2f} s", f"{two.seconds:.2f} s"),
    ]
    for label, share in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
        rows.append(
            (
                f"reply time {label}",
                f"{percentile(one.reply_seconds, share):.3f} s",
                f"{percentile(two.reply_seconds, share):.3f} s",
            )
        )
    rows += [
        (
            "CPU per update: instances",
            one.per_update_ms(one.cpu.instances),
            two.per_update_ms(two.cpu.instances),
        ),
        (
            "event loop sleeps per update",
            f"{one.cpu.sleeps / one.answered:.2f}",
            f"{two.cpu.sleeps / two.answered:.2f}",
        ),
        (
            "event loop preempted per update",
            f"{one.cpu.preempted / one.answered:.2f}",
            f"{two.cpu.preempted / two.answered:.2f}",
        ),
        ("CPU per update: sandbox", one.per_update_ms(one.cpu.sandbox), two.per_update_ms(two.cpu.sandbox)),
        ("CPU per update: proxy", one.per_update_ms(one.cpu.proxy), two.per_update_ms(two.cpu.proxy)),
        ("CPU per update: PostgreSQL", one.per_update_ms(one.cpu.server), two.per_update_ms(two.cpu.server)),
        (
            "cores busy, whole machine",
            f"{one.cpu.machine / one.cpu.wall:.2f}",
            f"{two.cpu.machine / two.cpu.wall:.2f}",
        ),
        ("answers", f"{one.answered:,} of {one.updates:,}", f"{two.answered:,} of {two.updates:,}"),
        ("campaign lists seen", f"{one.lists} of {one.asked}", f"{two.lists} of {two.asked}"),
        ("apologies", str(one.apologies), str(two.apologies)),
        ("errors logged", str(len(one.errors)), str(len(two.errors))),
    ]
    print(f"  {'':32} {_NAMES[1]:>16} {_NAMES[2]:>16}")
    for label, first, second in rows:
        print(f"  {label:32} {first:>16} {second:>16}")
    for how_many, figures in rounds.items():
        each = ", ".join(f"{f.rate:,.0f}" for f in figures)
        print(f"  {_NAMES[how_many]}, updates/s each round: {each}")
    ratios = ", ".join(f"{b.rate / a.rate:.2f}" for a, b in zip(rounds[1], rounds[2], strict=True))
    print(f"  two/one updates/s each round: {ratios}")
    for setup in (one, two):
        if setup.errors:
            print(f"  first error logged: {setup.errors[0][:200]}")


async def run(roster: int, linked: int, count: int, rate: float, rounds: int) -> None:
    """Seed, then in each round run one instance and then two over the same queue; print the figures."""
    with sandbox_session(linked, "thidua-instances-") as session:
        async with bench_database("postgres", session.folder, "instances") as url:
            await (await seeded_runtime(session, url, roster, linked, rate)).store.close()
            postmaster = await postmaster_pid(url)
            load = os.getloadavg()
            results: dict[int, list[Figures]] = {how_many: [] for how_many in SETUPS}
            connector = aiohttp.TCPConnector(limit=QUEUE_CONCURRENCY)
            async with (
                aiohttp.ClientSession(connector=connector) as client,
                balancer() as (proxy, public_url),
            ):
                bench = Bench(
                    session,
                    url,
                    Members(client, session.control_url),
                    proxy,
                    public_url,
                    postmaster,
                    linked,
                    rate,
                )
                for _round in range(rounds):
                    for how_many in SETUPS:
                        results[how_many].append(await run_setup(bench, how_many, count))
    print(
        f"{count:,} queued updates ({', '.join(COMMANDS)} in turn) from {linked:,} linked members of "
        f"{roster:,}, {CAMPAIGNS} campaigns, one PostgreSQL database; `thidua run` in webhook mode behind a "
        f"round-robin proxy, the sandbox calling the webhook one update at a time; limit {rate:,.0f} msg/s; "
        f"{rounds} round(s), each one instance then two; the best round of each:"
    )
    report(results)
    print(f"  load average (1, 5, 15 min) before {_load(load)}, after {_load(os.getloadavg())}")


def _load(averages: tuple[float, float, float]) -> str:
    return " ".join(f"{value:.2f}" for value in averages)


def main() -> None:
    """Parse the arguments and run."""
    args = queue_parser(__doc__ or "", "the instances", "one instance then two").parse_args()
    if args.small:
        asyncio.run(run(1_000, 100, 300, args.rate, 1))
    else:
        asyncio.run(run(args.members, args.linked, args.updates, args.rate, args.rounds))


if __name__ == "__main__":
    main()
