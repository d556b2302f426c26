"""The ``thidua`` command (also ``python -m bot``): run the bot, try the demo, migrate, import, grant roles,
print link codes.

Every command has ``--help``; bad input exits non-zero with a one-line reason and changes nothing.
The CLI is an administrator's tool and speaks English throughout (its help, results and reasons, whatever
THIDUA_LANGUAGE says); what it writes for the union (workbooks, the demo's chat) is in the configured
language.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Generic, TypeVar

from sqlalchemy.exc import DBAPIError

from bot.app import Runtime, SchemaOutdated, prepare_database
from bot.domain.campaign_file import CampaignFileError, load_spec
from bot.domain.campaigns import create_draft, date_warnings
from bot.domain.commendations import forms
from bot.domain.insight_queries import (
    campaign_figures,
    commendation_figures,
    commended,
    export_data,
    recognised_initiatives,
)
from bot.domain.insights import ExportData
from bot.domain.linking import issue_codes
from bot.domain.officers import GrantError, grant_officer
from bot.domain.records import Campaign, Unit
from bot.domain.roster import ImportReport, RosterError, import_members, import_units
from bot.engine.channel import ChannelStartError
from bot.engine.clock import SystemClock
from bot.engine.config import ConfigError, Settings, load_settings, unknown_settings
from bot.engine.logs import setup_logging
from bot.web.server import CannotListen
from handlers.campaign_views import word_problem
from handlers.insights import report_lines
from messages import plain
from storage.database import Repos, Store
from storage.migrate import (
    DatabaseUnavailable,
    MigrationFailed,
    SchemaTooNew,
    current_revision,
    refuse_unknown,
    upgrade_async,
)

T = TypeVar("T")

CLI_ACTOR = "cli"
CLI_LANGUAGE = "en"  # the CLI's own words; see the module docstring


class CliError(Exception):
    """A reason to stop, shown as one line."""


def build_parser() -> argparse.ArgumentParser:
    """The command-line grammar."""
    parser = argparse.ArgumentParser(prog="thidua", description="Emulation campaigns bot for trade unions.")
    parser.add_argument(
        "--config", type=Path, help="a TOML file with the same keys as the THIDUA_* variables"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("run", help="run the bot on the configured channels")

    demo = commands.add_parser(
        "demo", help="run the bot against the built-in sandbox with demo data, no token"
    )
    demo.add_argument(
        "--db",
        type=Path,
        default=Path("thidua-demo.db"),
        help="demo database file (recreated at each run unless --keep)",
    )
    demo.add_argument(
        "--keep",
        action="store_true",
        help="keep the database of the last run (seeded only when there is none)",
    )
    demo.add_argument(
        "--port", type=int, default=8765, help="port of the web chat on 127.0.0.1 (0: any free port)"
    )
    demo.add_argument(
        "--terminal",
        action="store_true",
        help="chat in the terminal instead of the browser (reads a script too)",
    )
    demo.add_argument(
        "--tour", action="store_true", help="play a short scripted conversation in the terminal and exit"
    )

    database = commands.add_parser("db", help="database maintenance")
    database_commands = database.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    database_commands.add_parser("upgrade", help="apply the database migrations")
    database_commands.add_parser(
        "recount", help="rebuild the per-unit counters behind /stats from the rows, in one transaction"
    )

    imports = commands.add_parser(
        "import", help="import the unit tree or the roster from CSV (all or nothing)"
    )
    import_commands = imports.add_subparsers(dest="import_command", required=True, metavar="WHAT")
    for what, columns in (
        ("units", "code,name,parent_code"),
        ("members", "member_code,full_name,phone,unit_code[,email]"),
    ):
        sub = import_commands.add_parser(what, help=f"CSV with columns {columns}")
        sub.add_argument("file", type=Path)
        if what == "members":
            sub.add_argument(
                "--allow-shared-phones",
                action="store_true",
                help="accept one phone number for several members (linking by it then asks them to see an"
                " officer); refused by default, since members link their chat by phone",
            )

    campaign = commands.add_parser("campaign", help="manage campaigns")
    campaign_commands = campaign.add_subparsers(dest="campaign_command", required=True, metavar="ACTION")
    create = campaign_commands.add_parser("create", help="create a draft campaign from a TOML or YAML file")
    create.add_argument("file", type=Path)

    export = commands.add_parser(
        "export", help="write a campaign's XLSX workbook (the whole campaign subtree)"
    )
    export.add_argument("--campaign", required=True, metavar="CODE")
    export.add_argument("--out", required=True, type=Path, metavar="FILE.xlsx")

    codes = commands.add_parser("codes", help="personal link codes, for members who cannot share a contact")
    codes_commands = codes.add_subparsers(dest="codes_command", required=True, metavar="ACTION")
    codes_export = codes_commands.add_parser(
        "export",
        help="make new codes for every member of a unit's subtree and write them as an XLSX sheet to print"
        " (their unused older codes stop working)",
    )
    codes_export.add_argument("--unit", required=True, metavar="CODE")
    codes_export.add_argument("--out", required=True, type=Path, metavar="FILE.xlsx")

    grant = commands.add_parser("grant", help="grant a role")
    grant_commands = grant.add_subparsers(dest="grant_command", required=True, metavar="ROLE")
    officer = grant_commands.add_parser("officer", help="make someone an officer of a unit and its subtree")
    officer.add_argument("--unit", required=True, metavar="CODE")
    holder = officer.add_mutually_exclusive_group(required=True)
    holder.add_argument("--user", metavar="CHANNEL:ID", help="e.g. telegram:123456")
    holder.add_argument("--member", metavar="CODE", help="a member code from the roster")
    return parser


async def _with_store(settings: Settings, work: Callable[[Store], Awaitable[str]]) -> str:
    store = Store(settings.database_url)
    try:
        await prepare_database(store)
        return await work(store)
    finally:
        await store.close()


async def _run(settings: Settings) -> str:
    runtime = Runtime(settings)  # with no channel token, its start says which settings to set
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # SIGHUP too: a closed terminal (or ssh session) stops the bot cleanly instead of killing it mid-send.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(signum, stop.set)
    try:
        await runtime.start()
    except BaseException:
        # Close what did start before saying why in one line; the first error is the one to tell.
        try:
            await runtime.stop()
        except Exception:
            await runtime.store.close()
        raise
    try:
        await stop.wait()
    finally:
        await runtime.stop()
    return "stopped"


async def _dispatch(args: argparse.Namespace, settings: Settings) -> str:
    now = SystemClock().now()
    if args.command == "run":
        return await _run(settings)
    if args.command == "demo" and not args.db.parent.is_dir():  # its log goes beside it, opened first
        raise CliError(f"--db {args.db}: there is no folder {args.db.parent}")
    if args.command == "demo" and (args.terminal or args.tour):
        from bot.demo import run_demo  # the demo pulls in the sandbox, which `run` never needs

        return await run_demo(settings, args.db, tour=args.tour, keep=args.keep)
    if args.command == "demo":
        from bot.demo_web import run_web_demo

        return await run_web_demo(settings, args.db, port=args.port, keep=args.keep)
    if args.command == "db" and args.db_command == "recount":
        return await _with_store(settings, _recount)
    if args.command == "db":
        return await _upgrade(settings)
    if args.command == "import":
        report = await _with_store(
            settings,
            lambda store: _report(
                import_units(store, args.file, actor=CLI_ACTOR, now=now)
                if args.import_command == "units"
                else import_members(
                    store, args.file, actor=CLI_ACTOR, now=now, allow_shared_phones=args.allow_shared_phones
                )
            ),
        )
        return f"{args.import_command}: {report}"
    if args.command == "campaign":
        return await _with_store(settings, lambda store: _create_campaign(store, settings, args.file))
    if args.command == "export":
        return await _with_store(settings, lambda store: _export(store, settings, args.campaign, args.out))
    if args.command == "codes":
        return await _with_store(settings, lambda store: _export_codes(store, settings, args.unit, args.out))
    if args.command == "grant":

        async def grant(store: Store) -> str:
            done = await grant_officer(
                store, args.unit, member_code=args.member, user=args.user, actor=CLI_ACTOR, now=now
            )
            who = args.member or args.user
            return (
                f"{who} is now an officer of {args.unit}"
                if done
                else f"{who} already was an officer of {args.unit}"
            )

        return await _with_store(settings, grant)
    raise CliError(f"unknown command {args.command}")


async def _upgrade(settings: Settings) -> str:
    store = Store(settings.database_url)
    try:
        # One line if it cannot be opened or is newer than this code, before Alembic's traceback could.
        refuse_unknown(await current_revision(store.engine))
    finally:
        await store.close()
    await upgrade_async(settings.database_url)
    return "database is up to date"


async def _recount(store: Store) -> str:
    async with store.begin() as repos:
        found = await repos.counters.recount()
    return f"counters rebuilt: {_counted(found.rows, 'row')}, {found.wrong} of them were wrong"


async def _create_campaign(store: Store, settings: Settings, path: Path) -> str:
    clock = SystemClock()
    today = clock.now().astimezone(settings.zone).date()
    spec = load_spec(path, today)
    async with store.begin() as repos:
        result = await create_draft(repos, None, spec, CLI_ACTOR, clock.now(), today)
    if isinstance(result, list):
        worded = "; ".join(word_problem(CLI_LANGUAGE, problem) for problem in result)
        raise CliError(f"{path.name}: nothing created: {plain(worded)}")
    warnings = [plain(word_problem(CLI_LANGUAGE, w)) for w in date_warnings(result.starts_on, today)]
    created = f"draft campaign {result.code} created; an officer launches it with /launch {result.code}"
    return "\n".join([created, *warnings])


async def _export(store: Store, settings: Settings, code: str, out: Path) -> str:
    now = SystemClock().now()
    async with store.begin() as repos:
        campaign = await repos.campaigns.by_code(code)
        if campaign is None:
            raise CliError(f"--campaign {code!r}: no such campaign")
        owner = await repos.units.get(campaign.unit_id)
        assert owner is not None
    content, registrations, initiatives = await store.read_apart(
        partial(_workbook, campaign=campaign, owner=owner, settings=settings, now=now)
    )
    await _write_out(out, content)
    return f"{out}: {_counted(registrations, 'registration')}, {_counted(initiatives, 'initiative')}"


async def _workbook(
    repos: Repos, campaign: Campaign, owner: Unit, settings: Settings, now: datetime
) -> tuple[bytes, int, int]:
    """Read apart, as the bot's /export: the workbook of the campaign's whole subtree, its rows written as
    the cursor gives them, and how many registrations and initiatives went into it."""
    from bot.reports.export_xlsx import build_workbook  # XlsxWriter only for the commands that write one

    figures = await campaign_figures(repos, campaign, owner, now, settings.zone)
    today = now.astimezone(settings.zone).date()
    configured = [form.code for form in forms(settings)]
    granted = (
        await commendation_figures(repos, campaign, owner, configured),
        await commended(repos, campaign, owner),
    )
    lines = await recognised_initiatives(
        repos,
        campaign,
        owner,
        partial(report_lines, settings.language, figures, today=today, commendations=granted),
    )

    def write(data: ExportData) -> tuple[bytes, int, int]:
        registrations, initiatives = _Tally(data.registrations), _Tally(data.initiatives)
        tallied = replace(data, registrations=registrations, initiatives=initiatives)
        return (
            build_workbook(tallied, settings.language, settings.zone, lines),
            registrations.n,
            initiatives.n,
        )

    return await export_data(repos, campaign, figures, [owner.path], now, write, forms=configured)


class _Tally(Generic[T]):
    """Rows on their way into the workbook, counted as they pass."""

    def __init__(self, rows: Iterable[T]) -> None:
        self.rows = rows
        self.n = 0

    def __iter__(self) -> Iterator[T]:
        for row in self.rows:
            self.n += 1
            yield row


async def _write_out(out: Path, content: bytes) -> None:
    """Write the ``--out`` file, or fail with a CliError that says why it could not be written."""
    try:
        await asyncio.to_thread(out.write_bytes, content)
    except OSError as error:
        raise CliError(f"--out {out}: cannot write ({error.strerror})") from error


async def _export_codes(store: Store, settings: Settings, unit_code: str, out: Path) -> str:
    now = SystemClock().now()
    async with store.begin() as repos:
        unit = await repos.units.by_code(unit_code)
        if unit is None:
            raise CliError(f"--unit {unit_code!r}: no such unit")
        valid_for = timedelta(days=settings.link_code_days)
        issued = await issue_codes(repos, CLI_ACTOR, unit, now, valid_for)
        from bot.reports.link_codes import build_codes_sheet

        content = await asyncio.to_thread(build_codes_sheet, issued, settings.language, settings.zone)
        # Inside the transaction: codes nobody could print are not stored, and the old ones still work.
        await _write_out(out, content)
    expires = issued[0].expires_at.astimezone(settings.zone).date() if issued else None
    until = f", valid until the end of {expires:%d/%m/%Y}" if expires else ""
    return f"{out}: {_counted(len(issued), 'link code')}{until}"


def _counted(count: int, noun: str) -> str:
    """The English count of a regular noun: "1 registration", "2 registrations"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


async def _report(pending: Awaitable[ImportReport]) -> str:
    report = await pending
    return f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``thidua`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    # python-telegram-bot 22 reports RetryAfter.retry_after as a timedelta when asked; the code handles both.
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    try:
        settings = load_settings(args.config)
        for line in unknown_settings(os.environ):
            print(f"thidua: {line}", file=sys.stderr)
        setup_logging(settings.secrets(), log_format=settings.log_format)  # the demo: to a file
        print(asyncio.run(_dispatch(args, settings)))
    except RosterError as error:
        print(f"thidua: {error}", file=sys.stderr)
        return 1
    except DatabaseUnavailable as error:
        print(f"thidua: cannot open THIDUA_DATABASE_URL {error.where}: {error.reason}", file=sys.stderr)
        return 2
    except DBAPIError as error:  # opened, but refused the work: read-only, full, locked by another program
        failed = DatabaseUnavailable.explained(settings.database_url, error)
        print(f"thidua: THIDUA_DATABASE_URL {failed.where}: {failed.reason}", file=sys.stderr)
        return 2
    except (
        ConfigError,
        CliError,
        GrantError,
        SchemaOutdated,
        SchemaTooNew,
        MigrationFailed,
        CampaignFileError,
        ChannelStartError,
        CannotListen,
    ) as error:
        print(f"thidua: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
