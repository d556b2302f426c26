"""The officer's XLSX workbook of one campaign: summary, units, registrations, initiatives, deliveries, the
titles reached per unit, the commendations by form, every proposal, the certificates to print (one row each,
commendations granted then titles reached, for a mail merge) and, when given, the review report.
``build_workbook(data, language, zone)`` returns the file's bytes; every word comes from the catalogs, dates
are real Excel dates in local time, money and shares real numbers. libxlsxwriter (the C library by
XlsxWriter's author, bot/reports/xlsx_native.py) or, where it is missing, XlsxWriter writes each row as it
comes, in constant-memory mode, so the rows may be any iterables. The rows are read and put into words here
while a forked process of its own writes them (``_write_apart``): two cores; where this process cannot fork
safely, both happen here, in turn.
"""

from __future__ import annotations

import io
import operator
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from itertools import chain, islice
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from typing import Any, NoReturn, Protocol
from zoneinfo import ZoneInfo

from bot.domain.initiatives import CRITERIA, score_figures
from bot.domain.insights import (
    CampaignFigures,
    CommendationRow,
    DeliveryRow,
    ExportData,
    FormFigures,
    InitiativeRow,
    RegistrationRow,
    TitleCount,
    TitleHolderRow,
    UnitFigures,
    title_totals,
)
from bot.domain.records import Campaign
from bot.domain.vn.phones import written_phone
from bot.reports import xlsx_native
from messages import DEFAULT_LANGUAGE, LANGUAGES, formatting, has_key, plain, text
from messages.catalog import catalog
from storage.records import ReviewStep

DAY = "dd/mm/yyyy"
MOMENT = "dd/mm/yyyy hh:mm"
MONEY = formatting.MONEY_CELL_FORMAT
PERCENT = "[<0.01]0.0%;0%"  # one decimal below 1%, as formatting.percent: 0.2%, 12%
COUNT = "#,##0"
MIN_WIDTH, MAX_WIDTH, WRAPPED_WIDTH = 8, 60, 50
DATE_WIDTHS = {DAY: 12, MOMENT: 17}
CELL_LIMIT = 32_767  # characters Excel keeps in a cell
_LONG_TEXT = CELL_LIMIT // 7  # longer, its escapes (7 characters at most for one) may not fit in a cell
WRITE_BATCH = 500  # rows handed to the writer at a time: a few hundred KB pickled
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # control codes XML 1.0 cannot carry
_LEADING_SYMBOLS = re.compile(r"^\W+")

Value = str | int | float | None  # a date or time is its serial number, in a DAY or MOMENT format


@dataclass(frozen=True, slots=True)
class Styled:
    """A value with its own number format, where a column holds values of several kinds (the summary)."""

    value: Value
    number_format: str


Cell = Value | Styled


@dataclass(frozen=True, slots=True)
class Column:
    """A column's header, the number format of its cells and whether long text wraps inside them."""

    header: str
    number_format: str | None = None
    wrap: bool = False


@dataclass(slots=True)
class Table:
    """One sheet: a header row, the rows under the autofilter (read once, as they come) and, below them,
    rows such as totals."""

    title: str
    columns: list[Column]
    rows: Iterable[Sequence[Cell]]
    footer: list[list[Cell]] = field(default_factory=list)


def build_workbook(
    data: ExportData, language: str, zone: ZoneInfo, report_lines: list[str] | None = None
) -> bytes:
    """The workbook as XLSX bytes; a Report sheet is added only when ``report_lines`` is given. The
    registrations, initiatives and deliveries are read once, in order, so they may come from a cursor."""
    words = _Words(language, zone)
    recognised = _RecognisedValue()
    tables = [
        _units(words, data.figures),
        _registrations(words, data.registrations),
        _initiatives(words, recognised.counted(data.initiatives)),
        _deliveries(words, data.deliveries),
        _titles(words, data.titles),
        _commendations(words, data.commendations),
        _proposals(words, data.proposals),
        _certificates(words, data.certificates, data.title_holders, data.figures.campaign),
    ]
    if report_lines is not None:
        tables.append(_report(words, report_lines))
    # Its date, not the wall clock's: the same data, the same bytes.
    created = data.generated_at.astimezone(UTC) if data.generated_at is not None else None

    def sheets() -> Iterator[_Event]:
        yield _Book([words("export.sheet_summary"), *(table.title for table in tables)], created)
        for place, table in enumerate(tables, start=1):
            yield from _sheet(place, table)
        # The summary is the first sheet but written last: it adds up the initiatives as their rows went by.
        yield from _sheet(0, _summary(words, data, recognised.total))

    xlsx_native.library()  # looked for here, before a writer is forked: any word on it goes to this log
    return _write_apart(sheets()) if _can_fork() else _write(sheets())


class _RecognisedValue:
    """The value of the recognised initiatives, added up while their rows are written."""

    def __init__(self) -> None:
        self.total = 0

    def counted(self, initiatives: Iterable[InitiativeRow]) -> Iterator[InitiativeRow]:
        """The initiatives as they come, each recognised one's value added to the total."""
        for row in initiatives:
            if row.status == "recognised":
                self.total += row.value_dong or 0
            yield row


class _Words:
    """Catalog texts as plain words for cells, and local times, in one language and zone; the texts asked for
    on every row are looked up once."""

    def __init__(self, language: str, zone: ZoneInfo) -> None:
        self.language = language
        self.zone = zone
        self._texts: dict[str, str] = {}
        self._names: dict[str, str] = {}
        self._templates: dict[str, str] = {}

    def __call__(self, key: str, **params: object) -> str:
        if params:
            return plain(text(self.language, key, **params))
        if key not in self._texts:
            self._texts[key] = plain(text(self.language, key))
        return self._texts[key]

    def named(self, key: str, fallback: str) -> str:
        """The catalog's name for a code (a title, a status), without its emoji; the code if it has none."""
        if key not in self._names:
            self._names[key] = _LEADING_SYMBOLS.sub("", self(key)) if has_key(key) else fallback
        return self._names[key]

    def filled(self, key: str, **params: object) -> str:
        """A catalog text with plain parameters, for a cell (no HTML escaping on the way)."""
        if key not in self._templates:
            language = self.language if self.language in LANGUAGES else DEFAULT_LANGUAGE
            self._templates[key] = plain(catalog(language).get(key) or catalog(DEFAULT_LANGUAGE)[key])
        return self._templates[key].format(**params)

    def moment(self, stored: datetime) -> float:
        """A stored time (UTC when naive) as the serial number of its local time, which a MOMENT cell shows:
        computed here, so the rows cross the pipe as plain numbers."""
        aware = stored if stored.tzinfo else stored.replace(tzinfo=UTC)
        return xlsx_native.excel_local_time(aware, self.zone)

    @staticmethod
    def day(value: date) -> float:
        """A date as its serial number, which a DAY cell shows."""
        return xlsx_native.excel_date(value)

    def day_cell(self, value: date | None) -> Styled | None:
        """A date in a column of values of several kinds."""
        return Styled(self.day(value), DAY) if value is not None else None


def _summary(w: _Words, data: ExportData, recognised_value: int) -> Table:
    figures, campaign = data.figures, data.figures.campaign
    scope = figures.scope

    def fact(key: str, value: Cell) -> list[Cell]:
        return [w(f"export.{key}"), value, None, None, None]

    def share(key: str, part: int, whole: int | None) -> list[Cell]:
        if not whole:
            return [w(f"export.{key}"), formatting.number(part, w.language), part, None, None]
        progress = (
            f"{formatting.number(part, w.language)}/{formatting.number(whole, w.language)}"
            f" ({formatting.percent(part, whole, w.language)})"
        )
        return [w(f"export.{key}"), progress, part, whole, _rate(part, whole, w.language)]

    kind_key = f"campaigns.kind_{campaign.kind}"
    rows: list[list[Cell]] = [
        fact("campaign", campaign.title),
        fact("campaign_code", campaign.code),
        fact("campaign_kind", w(kind_key) if has_key(kind_key) else campaign.kind),
        fact("scope", scope.unit.name),
        fact("starts_on", w.day_cell(campaign.starts_on)),
        fact("ends_on", w.day_cell(campaign.ends_on)),
        fact("registration_deadline", w.day_cell(campaign.registration_deadline)),
        fact("initiative_deadline", w.day_cell(campaign.initiative_deadline)),
        fact("target", scope.target if scope.target is not None else w("export.no_target")),
        fact("roster", scope.roster),
        share("linked", scope.linked, scope.roster),
        share("registered", scope.registered, scope.roster),
        share("submitted", scope.submitted, scope.target),
        share("valid", scope.valid, scope.submitted),
        share("recognised", scope.recognised, scope.submitted),
        fact("recognised_value", Styled(recognised_value, MONEY)),
    ]
    if data.generated_at is not None:
        rows.append(fact("generated_at", Styled(w.moment(data.generated_at), MOMENT)))
    columns = [
        Column(w("export.item")),
        Column(w("export.value"), wrap=True),
        Column(w("export.count"), COUNT),
        Column(w("export.out_of"), COUNT),
        Column(w("export.rate"), PERCENT),
    ]
    return Table(w("export.sheet_summary"), columns, rows)


def _units(w: _Words, figures: CampaignFigures) -> Table:
    def line(name: str, f: UnitFigures) -> list[Cell]:
        return [
            name,
            f.unit.code,
            f.roster,
            f.linked,
            f.registered,
            _rate(f.registered, f.roster, w.language),  # a unit without members has none: blank, as "—"
            f.target,
            f.submitted,
            _rate(f.submitted, f.target, w.language),
            f.valid,
            f.recognised,
        ]

    columns = [
        Column(w("export.unit")),
        Column(w("export.unit_code")),
        Column(w("export.roster"), COUNT),
        Column(w("export.linked"), COUNT),
        Column(w("export.registered"), COUNT),
        Column(w("export.registration_rate"), PERCENT),
        Column(w("export.target"), COUNT),
        Column(w("export.submitted"), COUNT),
        Column(w("export.target_rate"), PERCENT),
        Column(w("export.valid"), COUNT),
        Column(w("export.recognised"), COUNT),
    ]
    rows = [line(f.unit.name, f) for f in figures.children]
    own = _own(figures)
    if own is not None:  # without it the rows would not add up to the totals below them
        rows.append(line(w("export.own", unit=own.unit.name), own))
    whole = line(w("export.whole", unit=figures.scope.unit.name), figures.scope)
    return Table(w("export.sheet_units"), columns, rows, footer=[whole])


def _rate(part: int, whole: int | None, language: str) -> Styled | None:
    """``part / whole`` as a number, in the format that shows it as the chat does (``formatting.percent``):
    whole percents, one decimal below 1% or just short of all, "<0,1%" and ">99,9%" as words; the column's
    one format could not say "0%" for none (it said "0.0%") nor keep 199 of 200 from "100%"."""
    if not whole:
        return None
    words = formatting.percent(part, whole, language)
    number_format = f'"{words}"' if words[0] in "<>" else "0.0%" if any(c in words for c in ",.") else "0%"
    return Styled(part / whole, number_format)


def _own(figures: CampaignFigures) -> UnitFigures | None:
    """The scope unit's own members and initiatives, in no unit below it (a district's staff), if any: the
    scope's figures less those of the units below."""
    scope, below = figures.scope, figures.children
    own = replace(
        scope,
        roster=scope.roster - sum(f.roster for f in below),
        linked=scope.linked - sum(f.linked for f in below),
        registered=scope.registered - sum(f.registered for f in below),
        submitted=scope.submitted - sum(f.submitted for f in below),
        valid=scope.valid - sum(f.valid for f in below),
        recognised=scope.recognised - sum(f.recognised for f in below),
        target=None,
    )
    counted = (own.roster, own.linked, own.registered, own.submitted, own.valid, own.recognised)
    return own if below and any(counted) else None


def _registrations(w: _Words, registrations: Iterable[RegistrationRow]) -> Table:
    collective = w("export.collective")
    columns = [
        Column(w("export.unit")),
        Column(w("export.member_code")),
        Column(w("export.full_name")),
        Column(w("export.phone")),
        Column(w("export.titles"), wrap=True),
        Column(w("export.pledges"), wrap=True),
        Column(w("export.planned_initiative"), wrap=True),
        Column(w("export.status")),
        Column(w("export.updated_at"), MOMENT),
    ]
    rows: Iterable[list[Cell]] = (
        [
            row.unit_name,
            row.member_code,
            row.full_name if row.full_name is not None else collective,
            _phone(row.phone),
            "\n".join(w.named(f"titles.{title}", title) for title in row.titles),
            "\n".join(_pledge(content, unit, figure) for content, unit, figure in row.pledges),
            row.initiative_title,
            w.named(f"campaigns.status_{row.status}", row.status),
            w.moment(row.updated_at),
        ]
        for row in registrations
    )
    return Table(w("export.sheet_registrations"), columns, rows)


def _phone(stored: str | None) -> str | None:
    """A phone number as people write it ("0912 345 678"); one that cannot be read stays as stored."""
    return (written_phone(stored) or stored) if stored else stored


def _pledge(content: str, unit: str, figure: str) -> str:
    amount = f"{figure} {unit}".strip()
    return f"{content} — {amount}" if amount else content


def _initiatives(w: _Words, initiatives: Iterable[InitiativeRow]) -> Table:
    columns = [
        Column(w("export.initiative_id")),
        Column(w("export.unit")),
        Column(w("export.author_code")),
        Column(w("export.author")),
        Column(w("export.author_share"), PERCENT),
        Column(w("initiative.part_coauthors"), wrap=True),
        Column(w("export.initiative"), wrap=True),
        Column(w("initiative.part_field")),
        Column(w("initiative.part_problem"), wrap=True),
        Column(w("initiative.part_before"), wrap=True),
        Column(w("initiative.part_steps"), wrap=True),
        Column(w("initiative.part_improvement"), wrap=True),
        Column(w("initiative.part_first_applied_on"), DAY),
        Column(w("initiative.part_conditions"), wrap=True),
        Column(w("initiative.part_benefit"), wrap=True),
        Column(w("initiative.part_value"), MONEY),
        Column(w("export.status")),
        *(Column(w(f"initiative.criterion_{criterion}")) for criterion in CRITERIA),
        Column(w("export.score_total")),
        Column(w("export.submitted_at"), MOMENT),
        Column(w("export.history"), wrap=True),
    ]
    rows = (_initiative(w, row) for row in initiatives)
    return Table(w("export.sheet_initiatives"), columns, rows)


def _initiative(w: _Words, row: InitiativeRow) -> list[Cell]:
    coauthors = "\n".join(
        w.filled("initiative.author_line", name=n, share=share) for n, share in row.coauthors
    )
    history = "\n".join([_step(w, entry) for entry in row.history])
    return [
        row.id,
        row.unit_name,
        row.author_code,
        row.author_name,
        row.author_share / 100,
        coauthors,
        row.title,
        row.field,
        row.problem,
        row.before,
        row.steps,
        row.improvement,
        w.day(row.first_applied_on) if row.first_applied_on else None,
        row.conditions,
        row.benefit,
        row.value_dong,
        w.named(f"initiative.status_{row.status}", row.status),
        *(row.scores.get(criterion) for criterion in CRITERIA),
        sum(row.scores.values()) if row.scores else None,
        w.moment(row.submitted_at) if row.submitted_at else None,
        history,
    ]


def _step(w: _Words, entry: ReviewStep) -> str:
    """One line of the review's history: when, what happened, the note if any, between dashes."""
    return " — ".join(
        filter(None, (formatting.moment(entry.at, w.language, w.zone), _event(w, entry), entry.note))
    )


def _event(w: _Words, entry: ReviewStep) -> str:
    """What happened at one step of the review: the status it moved to, or the scores given."""
    if entry.event != "scored":
        return w.named(f"initiative.status_{entry.to_status}", entry.to_status)
    if not entry.scores:  # scored before scores were kept in the history
        return w.named("initiative.history_scored_unknown", entry.event)
    total = sum(entry.scores.values())
    scored = w("initiative.history_scored", scores=score_figures(entry.scores), total=total)
    return _LEADING_SYMBOLS.sub("", scored)


def _deliveries(w: _Words, deliveries: Iterable[DeliveryRow]) -> Table:
    columns = [
        Column(w("export.kind")),
        Column(w("export.title"), wrap=True),
        Column(w("export.created_at"), MOMENT),
        Column(w("export.recipients"), COUNT),
        Column(w("export.sent"), COUNT),
        Column(w("export.unreachable"), COUNT),
        Column(w("export.failed"), COUNT),
        Column(w("export.pending"), COUNT),
        Column(w("export.sent_rate"), PERCENT),
    ]
    rows: Iterable[list[Cell]] = (
        [
            w.named(f"export.kind_{row.kind}", row.kind),
            row.title,
            w.moment(row.created_at),
            row.total,
            row.sent,
            row.unreachable,
            row.failed,
            row.pending,
            row.sent / row.total if row.total else None,
        ]
        for row in deliveries
    )
    return Table(w("export.sheet_deliveries"), columns, rows)


def _titles(w: _Words, titles: list[TitleCount]) -> Table:
    """The titles the evaluation found reached, per unit, with a total per title below."""

    def line(unit: str, count: TitleCount) -> list[Cell]:
        return [unit, w.named(f"titles.{count.title}", count.title), count.individual, count.collective]

    columns = [
        Column(w("export.unit")),
        Column(w("export.reached_title")),
        Column(w("export.individuals"), COUNT),
        Column(w("export.collectives"), COUNT),
    ]
    rows = [line(count.unit or "", count) for count in titles]
    footer = [line(w("export.total"), count) for count in title_totals(titles)]
    return Table(w("export.sheet_titles"), columns, rows, footer=footer)


def _commendations(w: _Words, commendations: list[FormFigures]) -> Table:
    def line(form: str, level: str | None, f: FormFigures) -> list[Cell]:
        counts = [f.proposed, f.granted, f.collectives, f.individuals, f.initiatives, f.returned, f.waiting]
        return [form, level, *counts]

    columns = [
        Column(w("export.form")),
        Column(w("export.level")),
        *(
            Column(w(f"export.{name}"), COUNT)
            for name in (
                "proposed",
                "granted",
                "granted_collectives",
                "granted_individuals",
                "granted_initiatives",
                "returned",
                "waiting",
            )
        ),
    ]
    rows = [
        line(w.named(f"commendation.form_{f.form}", f.form), w(f"commendation.level_{f.level}"), f)
        for f in commendations
    ]
    total = FormFigures(
        "",
        "",
        *(sum(getattr(f, name) for f in commendations) for name in _FORM_COUNTS),
    )
    return Table(
        w("export.sheet_commendations"), columns, rows, footer=[line(w("export.total"), None, total)]
    )


_FORM_COUNTS = ("proposed", "collectives", "individuals", "initiatives", "returned", "waiting")


def _proposals(w: _Words, proposals: Iterable[CommendationRow]) -> Table:
    columns = [
        Column(w("export.unit")),
        Column(w("export.commended_kind")),
        Column(w("export.member_code")),
        Column(w("export.commended_name")),
        Column(w("export.initiative"), wrap=True),
        Column(w("export.form")),
        Column(w("export.level")),
        Column(w("export.granting_unit")),
        Column(w("export.achievements"), wrap=True),
        Column(w("export.status")),
        Column(w("export.decision_note"), wrap=True),
        Column(w("export.proposed_at"), MOMENT),
        Column(w("export.decided_at"), MOMENT),
    ]
    rows: Iterable[list[Cell]] = (
        [
            row.unit_name,
            w.named(f"commendation.kind_{row.kind}", row.kind),
            row.member_code,
            row.full_name or row.unit_name,
            row.initiative_title,
            w.named(f"commendation.form_{row.form}", row.form),
            w(f"commendation.level_{row.level}"),
            row.granting_unit_name,
            row.achievements,
            w.named(f"commendation.status_{row.status}", row.status),
            row.note or None,
            w.moment(row.created_at),
            w.moment(row.decided_at) if row.decided_at else None,
        ]
        for row in proposals
    )
    return Table(w("export.sheet_proposals"), columns, rows)


def _certificates(
    w: _Words, approved: Iterable[CommendationRow], holders: Iterable[TitleHolderRow], campaign: Campaign
) -> Table:
    """One row per certificate to print, in the words that go on it: a mail merge's data source. The
    commendations granted come first, then the titles reached (recognised by the base union itself, so no
    granting unit is named)."""
    columns = [
        Column(w("export.commended_name")),
        Column(w("export.unit")),
        Column(w("export.award")),
        Column(w("export.initiative"), wrap=True),
        Column(w("export.granting_unit")),
        Column(w("export.campaign")),
        Column(w("export.year")),
    ]
    commended: Iterable[list[Cell]] = (
        [
            row.full_name or row.unit_name,
            row.unit_name,
            w.named(f"commendation.form_{row.form}", row.form),
            row.initiative_title,
            row.granting_unit_name,
            campaign.title,
            row.year,
        ]
        for row in approved
    )
    reached: Iterable[list[Cell]] = (
        [
            row.full_name or row.unit_name,
            row.unit_name,
            w.named(f"titles.{row.title}", row.title),
            None,
            None,
            campaign.title,
            campaign.ends_on.year,
        ]
        for row in holders
    )
    return Table(w("export.sheet_certificates"), columns, chain(commended, reached))


def _report(w: _Words, lines: list[str]) -> Table:
    rows: list[list[Cell]] = []
    for index, paragraph in enumerate(lines):
        if index:
            rows.append([None])
        rows.extend([line] for line in paragraph.splitlines() or [""])
    return Table(w("export.sheet_report"), [Column(w("export.report"))], rows)


class _Writer(Protocol):
    """A workbook being written, in the shape both writers take here (``xlsx_native.NativeWorkbook`` and
    ``_XlsxWriterBook``): sheets and formats made, then closed into the file's bytes."""

    def set_created(self, created: datetime) -> None:
        """When the workbook was made, as its properties say."""

    def add_worksheet(self, name: str) -> Any:
        """The next sheet, a ``_Sheet``."""

    def add_format(self, number_format: str | None, wrap: bool, bold: bool) -> Any:
        """A cell format."""

    def close(self) -> bytes:
        """The file."""

    def discard(self) -> None:
        """Give the workbook up unwritten, its temporary files removed."""


class _XlsxWriterBook:
    """XlsxWriter's Workbook, in constant-memory mode, in the shape of ``_Writer``: where libxlsxwriter is
    missing (several times slower: its per-cell work is Python)."""

    def __init__(self) -> None:
        from xlsxwriter import Workbook  # only where it writes: the C library is the usual writer

        self._output = io.BytesIO()
        # constant_memory: each sheet's rows go to a temporary file as they are written, not into memory;
        # in a folder of its own, removed whether the workbook is written or given up.
        self._folder = tempfile.mkdtemp(prefix="thidua-xlsx-")
        self._book = Workbook(self._output, {"constant_memory": True, "tmpdir": self._folder})

    def set_created(self, created: datetime) -> None:
        """When the workbook was made."""
        self._book.set_properties({"created": created})

    def add_worksheet(self, name: str) -> Any:
        """The next sheet, XlsxWriter's own but for its text cells."""
        return _XlsxWriterSheet(self._book.add_worksheet(name))

    def add_format(self, number_format: str | None, wrap: bool, bold: bool) -> Any:
        """A cell format."""
        properties: dict[str, object] = {}
        if number_format:
            properties["num_format"] = number_format
        if wrap:
            properties.update(text_wrap=True, valign="top")
        if bold:
            properties["bold"] = True
        return self._book.add_format(properties)

    def close(self) -> bytes:
        """The file."""
        try:
            self._book.close()
        finally:
            self.discard()
        return self._output.getvalue()

    def discard(self) -> None:
        """Remove the workbook's temporary files."""
        shutil.rmtree(self._folder, ignore_errors=True)


def _writer() -> _Writer:
    """libxlsxwriter's workbook where the library is here, else XlsxWriter's."""
    native = xlsx_native.library()
    return xlsx_native.NativeWorkbook(native) if native is not None else _XlsxWriterBook()


class _Formats:
    """The workbook's formats by number format, wrapping and boldness, each made once."""

    def __init__(self, book: _Writer) -> None:
        self._book = book
        self._formats: dict[tuple[str | None, bool, bool], Any] = {}

    def get(self, number_format: str | None, wrap: bool, bold: bool) -> Any:
        """The format of such a cell, ``None`` for the default style."""
        key = (number_format, wrap, bold)
        if key not in self._formats:
            plain_cell = not (number_format or wrap or bold)
            self._formats[key] = None if plain_cell else self._book.add_format(number_format, wrap, bold)
        return self._formats[key]


@dataclass(frozen=True, slots=True)
class _Book:
    """The workbook's sheets by title, in their order, and when it was made."""

    titles: list[str]
    created: datetime | None


@dataclass(frozen=True, slots=True)
class _Begin:
    """A sheet begins: its place in the workbook and its columns (their headers make its first row)."""

    place: int
    columns: list[Column]


@dataclass(frozen=True, slots=True)
class _Rows:
    """The sheet's next rows, from row number ``first`` (the header is row 0); ``bold`` for those below the
    autofilter (totals), which ends at the row above them."""

    rows: list[Sequence[Cell]]
    first: int
    bold: bool


@dataclass(frozen=True, slots=True)
class _End:
    """The sheet ends: its widths are set and its header row frozen."""


_Event = _Book | _Begin | _Rows | _End


def _sheet(place: int, table: Table) -> Iterator[_Event]:
    """A table as the writer takes it: its columns, its rows a batch at a time as they come, its footer."""
    yield _Begin(place, table.columns)
    rows = iter(table.rows)
    filtered = 0
    while batch := list(islice(rows, WRITE_BATCH)):
        yield _Rows(batch, filtered + 1, False)
        filtered += len(batch)
    yield _Rows(list(table.footer), filtered + 1, True)
    yield _End()


def _write(events: Iterable[_Event]) -> bytes:
    """The workbook the events describe, as XLSX bytes: each row written as it comes, the autofilter over
    the rows above the footer (set before it: in constant memory no row above the last written may be
    touched), then each sheet's widths, measured here as the cells go by (the writer's side of the pipe
    has the lighter load), and its frozen header row."""
    book = _writer()
    try:
        formats = _Formats(book)
        sheets: list[Any] = []
        cells: _SheetCells | None = None
        for event in events:
            if isinstance(event, _Book):
                if event.created is not None:
                    book.set_created(event.created)
                sheets = [book.add_worksheet(title) for title in event.titles]
            elif isinstance(event, _Begin):
                cells = _SheetCells(sheets[event.place], event.columns, formats)
            elif isinstance(event, _Rows):
                assert cells is not None
                cells.write(event.rows, event.first, event.bold)
            else:
                assert cells is not None
                cells.end()
    except BaseException:  # rows that failed: nothing is written, nothing is left behind
        book.discard()
        raise
    return book.close()


def _can_fork() -> bool:
    """Whether this process may fork a writer: one thread only (a fork copies no other thread, so a lock
    one of them held would stay held in the copy)."""
    return hasattr(os, "fork") and threading.active_count() == 1


def _write_apart(events: Iterator[_Event]) -> bytes:
    """``_write(events)`` in a forked process, fed through a pipe as the events come, so that reading and
    wording the rows here and XlsxWriter's writing there take a core each; its bytes come back the same way.
    The writer ends at the end of the events, or when this side's end of the pipe closes (this process gone
    or failed); a writer that fails makes this raise."""
    ours, theirs = Pipe()
    writer = os.fork()
    if writer == 0:  # the writer: nothing of this process's own runs here, not even its exit handlers
        code = 1
        try:
            # Nothing of the event loop it was forked beside: a signal ends it plainly.
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            ours.close()
            theirs.send_bytes(_write(_received(theirs)))
            code = 0
        except EOFError:
            pass  # this side is gone (failed, or killed out of time): there is no one to write for
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stderr.flush()
            os._exit(code)
    theirs.close()
    done = False
    try:
        for event in events:  # what the rows raise (the database gone) goes up as it is
            _to_writer(ours.send, event)
        _to_writer(ours.send, None)
        book: bytes = _to_writer(ours.recv_bytes)
        done = True
        return book
    finally:
        ours.close()
        if not done:
            os.kill(writer, signal.SIGKILL)
        os.waitpid(writer, 0)


def _to_writer(call: Callable[..., Any], *args: Any) -> Any:
    """``call(*args)`` on the pipe to the writer; the writer gone (a broken pipe while sending, or, once a
    small workbook's rows are all sent, its end closed with rows unread, a reset, or with nothing to read) is
    the writer's failure."""
    try:
        return call(*args)
    except (ConnectionError, EOFError) as error:
        raise RuntimeError("the workbook's writer failed (its error is on standard error)") from error


class _XlsxWriterSheet:
    """An XlsxWriter worksheet in the shape of ``_Sheet``, whose text cells hold the text as typed: in
    constant memory XlsxWriter writes a text shaped "<r>…</r>" into the file as rich-text XML, unescaped (a
    member's title "<r>x</r>" made a cell Excel calls damaged); such a text goes as three plain runs, which
    XlsxWriter escapes."""

    text_data = str  # XlsxWriter takes the text and the number as they are, and escapes the text itself
    number_data = staticmethod(operator.pos)

    def __init__(self, sheet: Any) -> None:
        self._sheet = sheet
        self.number_cell = sheet.write_number

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sheet, name)

    def text_cell(self, row: int, col: int, string: str, cell_format: Any) -> int:
        """A text cell: XlsxWriter's error code, 0 when written."""
        if string.startswith("<r>") and string.endswith("</r>"):
            runs = [string[:1], string[1:2], string[2:]]
            return int(
                self._sheet.write_rich_string(row, col, *runs, *([cell_format] if cell_format else []))
            )
        return int(self._sheet.write_string(row, col, string, cell_format))

    @staticmethod
    def escaped(words: str) -> str:
        """The text itself: XlsxWriter escapes it as it writes."""
        return words

    def failed(self, error: int) -> NoReturn:
        """Raise for a cell XlsxWriter refused."""
        raise RuntimeError(f"XlsxWriter refused a cell (its error code {error})")


def _received(conn: Connection) -> Iterator[_Event]:
    """The events sent through ``conn`` until the end (None)."""
    while (event := conn.recv()) is not None:
        yield event


class _Sheet(Protocol):
    """A sheet being written, in the shape both writers' sheets take here (``xlsx_native.NativeSheet`` and
    ``_XlsxWriterSheet``). The two calls made for every cell take the writer's own form of a value
    (``text_data(words)``, ``number_data(number)``: bytes and a C double for libxlsxwriter) and answer an
    error code, 0 when the cell is written, for ``failed`` to raise on: no Python frame of ours between the
    row loop and the writer."""

    text_cell: Callable[[int, int, Any, Any], int]
    number_cell: Callable[[int, int, Any, Any], int]
    text_data: Callable[[str], Any]
    number_data: Callable[[float], Any]

    def escaped(self, words: str) -> str:
        """Text as this writer must be given it for Excel to show ``words`` (``xlsx_native.excel_text``)."""

    def failed(self, error: int) -> NoReturn:
        """Raise the writer's error for a cell call's code."""

    def set_column(self, first_col: int, last_col: int, width: float) -> Any:
        """The columns' width, in characters."""

    def freeze_panes(self, row: int, col: int) -> Any:
        """The rows above ``row`` stay in view."""

    def autofilter(self, first_row: int, first_col: int, last_row: int, last_col: int) -> Any:
        """An autofilter over the range."""


class _SheetCells:
    """One sheet's cells: its header row at once, its rows a batch at a time, and at the end its widths and
    frozen header. Each cell is looked at once, in one loop: its kind by exact type (text; a number, a date
    being its serial number, in its column's format; a ``Styled`` value), the formats chosen per column
    before the rows, the columns' widths measured on the way."""

    def __init__(self, sheet: _Sheet, columns: Sequence[Column], formats: _Formats) -> None:
        self._sheet = sheet
        self._columns = columns
        self._formats = formats
        self._widths = _Widths(columns)
        header = formats.get(None, False, True)
        for index, column in enumerate(columns):
            self._text(0, index, column.header, header)

    def write(self, rows: Iterable[Sequence[Cell]], first: int, bold: bool) -> None:
        """Rows from row number ``first`` (the header is row 0); ``bold`` for those below the autofilter
        (totals), which ends at the row above them. Empty cells (None or no text) are left out."""
        sheet, columns, formats = self._sheet, self._columns, self._formats
        if bold:
            sheet.autofilter(0, 0, first - 1, len(columns) - 1)
        text_cell, text_data, escaped = sheet.text_cell, sheet.text_data, sheet.escaped
        number_cell, number_data = sheet.number_cell, sheet.number_data
        plain, wrapped = formats.get(None, False, bold), formats.get(None, True, bold)
        number_formats = [formats.get(column.number_format, False, bold) for column in columns]
        wraps = [column.wrap for column in columns]
        widths = self._widths
        measured, longest, bottom, top = widths.measured, widths.longest, widths.bottom, widths.top
        for number, row in enumerate(rows, start=first):
            for index, value in enumerate(row):
                if isinstance(value, str):
                    if not value:
                        continue
                    if measured[index]:
                        length = len(value) if "\n" not in value else _length(value)
                        if length > longest[index]:
                            widths.widen(index, length)
                    if value.isprintable():  # one line, no control code: the usual cell
                        words = value if len(value) <= _LONG_TEXT else _within_a_cell(value)
                        data = text_data(words if "_x" not in words else escaped(words))
                    else:
                        # Stray control codes in what people typed: XML cannot carry them.
                        words = _within_a_cell(_ILLEGAL.sub("", value))
                        data = text_data(escaped(words))
                    wrap = wraps[index] and ("\n" in words or len(words) > WRAPPED_WIDTH)
                    error = text_cell(number, index, data, wrapped if wrap else plain)
                elif value is None:
                    continue
                elif isinstance(value, Styled):
                    error = self._styled(number, index, value, bold)
                else:
                    if measured[index] and not bottom[index] <= value <= top[index]:
                        widths.widen_to_number(index, value)
                    error = number_cell(number, index, number_data(value), number_formats[index])
                if error:
                    sheet.failed(error)

    def end(self) -> None:
        """The sheet's widths, and its header row frozen."""
        for index, width in enumerate(self._widths.result()):
            self._sheet.set_column(index, index, width)
        self._sheet.freeze_panes(1, 0)

    def _styled(self, number: int, index: int, styled: Styled, bold: bool) -> int:
        """A value with its own number format (the summary's mixed column, a unit's rate)."""
        value = styled.value
        if value is None or value == "":
            return 0
        if self._widths.measured[index]:
            length = _length(value) if isinstance(value, str) else _number_length(value)
            self._widths.widen(index, DATE_WIDTHS.get(styled.number_format, length))
        if isinstance(value, str):
            wrap = self._columns[index].wrap and ("\n" in value or len(value) > WRAPPED_WIDTH)
            return self._text(number, index, value, self._formats.get(None, wrap, bold))
        cell_format = self._formats.get(styled.number_format, False, bold)
        return self._sheet.number_cell(number, index, self._sheet.number_data(value), cell_format)

    def _text(self, number: int, index: int, value: str, cell_format: Any) -> int:
        """A text cell outside the rows' loop (a header, a styled text)."""
        words = _within_a_cell(_ILLEGAL.sub("", value))
        return self._sheet.text_cell(
            number, index, self._sheet.text_data(self._sheet.escaped(words)), cell_format
        )


def _within_a_cell(words: str) -> str:
    """``words`` cut so that, escaped as both writers escape text (``xlsx_native.excel_text``: "_x0041_" typed
    is written "_x005F_x0041_"), they fit in a cell; past the limit libxlsxwriter refuses the cell and
    XlsxWriter writes one Excel calls damaged. Cutting k characters shortens the escaped text by k or more."""
    words = words[:CELL_LIMIT]
    if len(words) <= _LONG_TEXT:
        return words
    over = len(xlsx_native.excel_text(words)) - CELL_LIMIT
    return words[: len(words) - over] if over > 0 else words


class _Widths:
    """Each column as wide as its longest line (header included), within sensible bounds, measured as the
    rows go by: the row loop compares a value's length with ``longest`` while ``measured`` says the column
    is still measured (until one of its values reaches its cap; a date column is as wide as its dates)."""

    def __init__(self, columns: Sequence[Column]) -> None:
        self._caps = [WRAPPED_WIDTH if column.wrap else MAX_WIDTH for column in columns]
        self.longest = [
            max(DATE_WIDTHS.get(column.number_format or "", 0), _length(column.header)) for column in columns
        ]
        self.measured = [
            column.number_format not in DATE_WIDTHS and longest < cap
            for column, longest, cap in zip(columns, self.longest, self._caps, strict=True)
        ]
        # The numbers measured in each column lie between these (0 takes fewer characters than any width).
        self.bottom: list[float] = [0] * len(columns)
        self.top: list[float] = [0] * len(columns)

    def widen(self, index: int, length: int) -> None:
        """Widen a column to a value ``length`` characters long, if it is longer than the longest yet."""
        if length > self.longest[index]:
            self.longest[index] = length
            self.measured[index] = length < self._caps[index]

    def widen_to_number(self, index: int, number: float) -> None:
        """Widen a column to a number outside the range of those measured in it (a number within that range
        is no longer, as shown, than the range's ends)."""
        self.bottom[index], self.top[index] = min(number, self.bottom[index]), max(number, self.top[index])
        self.widen(index, _number_length(number))

    def result(self) -> list[float]:
        """The widths, in characters."""
        return [
            float(min(cap, max(MIN_WIDTH, longest + 2)))
            for cap, longest in zip(self._caps, self.longest, strict=True)
        ]


def _length(text: str) -> int:
    """How many characters the longest line of a text takes."""
    return len(text) if "\n" not in text else max(map(len, text.split("\n")))


def _number_length(number: float) -> int:
    """How many characters a number takes as shown, with its thousands separators and a margin."""
    return len(f"{number:,.0f}") + 2
