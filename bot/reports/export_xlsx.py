"""The officer's XLSX workbook of one campaign: summary, units, registrations, initiatives, deliveries and,
when given, the review report. ``build_workbook(data, language, zone)`` returns the file's bytes; every word
comes from the catalogs, dates are real Excel dates in local time, money and shares real numbers.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import chain
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import Cell as OpenpyxlCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.worksheet import Worksheet

from bot.domain.initiatives import CRITERIA, score_figures
from bot.domain.insights import (
    CampaignFigures,
    DeliveryRow,
    ExportData,
    InitiativeRow,
    RegistrationRow,
    UnitFigures,
)
from bot.domain.vn.phones import display_phone, normalize_phone
from messages import DEFAULT_LANGUAGE, LANGUAGES, formatting, has_key, plain, text
from messages.catalog import catalog
from storage.records import HistoryEntry

DAY = "dd/mm/yyyy"
MOMENT = "dd/mm/yyyy hh:mm"
MONEY = formatting.MONEY_CELL_FORMAT
PERCENT = "[<0.01]0.0%;0%"  # one decimal below 1%, as formatting.percent: 0.2%, 12%
COUNT = "#,##0"
MIN_WIDTH, MAX_WIDTH, WRAPPED_WIDTH = 8, 60, 50
DATE_WIDTHS = {DAY: 12, MOMENT: 17}
CELL_LIMIT = 32_767  # characters Excel keeps in a cell
COMPRESSION = 1  # zlib level: the rows compress well enough at the fastest setting
EMPTY_SHEET_DATA = "<sheetData></sheetData>"
_DIMENSION = re.compile(r"<dimension ref=\"[^\"]*\"\s*/>")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # control codes XML 1.0 cannot carry
_PRESERVE = ' xml:space="preserve"'
_LEADING_SYMBOLS = re.compile(r"^\W+")
_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")

Value = str | int | float | date | datetime | None


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
    """One sheet: a header row, the rows under the autofilter and, below them, rows such as totals."""

    title: str
    columns: list[Column]
    rows: list[list[Cell]]
    footer: list[list[Cell]] = field(default_factory=list)


def build_workbook(
    data: ExportData, language: str, zone: ZoneInfo, report_lines: list[str] | None = None
) -> bytes:
    """The workbook as XLSX bytes; a Report sheet is added only when ``report_lines`` is given."""
    words = _Words(language, zone)
    tables = [
        _summary(words, data),
        _units(words, data.figures),
        _registrations(words, data.registrations),
        _initiatives(words, data.initiatives),
        _deliveries(words, data.deliveries),
    ]
    if report_lines is not None:
        tables.append(_report(words, report_lines))
    book = Workbook()
    book.remove(book.active)
    sheets = [(_lay_out(book, table), table) for table in tables]
    styles = _Styles(sheets[0][0])
    rows = [(_sheet_data(table, styles), _dimension(table)) for _, table in sheets]  # registers the styles
    skeleton = io.BytesIO()
    book.save(skeleton)
    # Sheets learn their part names (xl/worksheets/sheetN.xml) while the workbook is saved.
    parts = {sheet.path.lstrip("/"): data for (sheet, _), data in zip(sheets, rows, strict=True)}
    return _with_sheet_data(skeleton.getvalue(), parts)


def _dimension(table: Table) -> str:
    return f"A1:{get_column_letter(len(table.columns))}{1 + len(table.rows) + len(table.footer)}"


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

    def local(self, moment: datetime) -> datetime:
        """A stored time (UTC when naive) as the naive local time Excel shows."""
        aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return aware.astimezone(self.zone).replace(tzinfo=None)


def _summary(w: _Words, data: ExportData) -> Table:
    figures, campaign = data.figures, data.figures.campaign
    scope = figures.scope
    recognised_value = sum(row.value_dong or 0 for row in data.initiatives if row.status == "recognised")

    def fact(key: str, value: Cell) -> list[Cell]:
        return [w(f"export.{key}"), value, None, None, None]

    def share(key: str, part: int, whole: int | None) -> list[Cell]:
        if not whole:
            return [w(f"export.{key}"), formatting.number(part, w.language), part, None, None]
        progress = (
            f"{formatting.number(part, w.language)}/{formatting.number(whole, w.language)}"
            f" ({formatting.percent(part, whole, w.language)})"
        )
        return [w(f"export.{key}"), progress, part, whole, part / whole]

    kind_key = f"campaigns.kind_{campaign.kind}"
    rows: list[list[Cell]] = [
        fact("campaign", campaign.title),
        fact("campaign_code", campaign.code),
        fact("campaign_kind", w(kind_key) if has_key(kind_key) else campaign.kind),
        fact("scope", scope.unit.name),
        fact("starts_on", campaign.starts_on),
        fact("ends_on", campaign.ends_on),
        fact("registration_deadline", campaign.registration_deadline),
        fact("initiative_deadline", campaign.initiative_deadline),
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
        rows.append(fact("generated_at", w.local(data.generated_at)))
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
            f.registration_rate,
            f.target,
            f.submitted,
            f.submitted / f.target if f.target else None,
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
    whole = line(w("export.whole", unit=figures.scope.unit.name), figures.scope)
    return Table(w("export.sheet_units"), columns, rows, footer=[whole])


def _registrations(w: _Words, registrations: list[RegistrationRow]) -> Table:
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
    rows: list[list[Cell]] = [
        [
            row.unit_name,
            row.member_code,
            row.full_name if row.full_name is not None else collective,
            _phone(row.phone),
            "\n".join(w.named(f"titles.{title}", title) for title in row.titles),
            "\n".join(_pledge(content, unit, figure) for content, unit, figure in row.pledges),
            row.initiative_title,
            w.named(f"campaigns.status_{row.status}", row.status),
            w.local(row.updated_at),
        ]
        for row in registrations
    ]
    return Table(w("export.sheet_registrations"), columns, rows)


def _phone(stored: str | None) -> str | None:
    """A phone number as people write it ("0912 345 678"); one that cannot be read stays as stored."""
    e164 = normalize_phone(stored) if stored else None
    return display_phone(e164) if e164 is not None else stored


def _pledge(content: str, unit: str, figure: str) -> str:
    amount = f"{figure} {unit}".strip()
    return f"{content} — {amount}" if amount else content


def _initiatives(w: _Words, initiatives: list[InitiativeRow]) -> Table:
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
    rows = [_initiative(w, row) for row in initiatives]
    return Table(w("export.sheet_initiatives"), columns, rows)


def _initiative(w: _Words, row: InitiativeRow) -> list[Cell]:
    coauthors = "\n".join(
        w.filled("initiative.author_line", name=n, share=share) for n, share in row.coauthors
    )
    steps = (
        (formatting.moment(entry.at, w.language, w.zone), _event(w, entry), entry.note)
        for entry in row.history
    )
    history = "\n".join(" — ".join(part for part in step if part) for step in steps)
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
        row.first_applied_on,
        row.conditions,
        row.benefit,
        row.value_dong,
        w.named(f"initiative.status_{row.status}", row.status),
        *(row.scores.get(criterion) for criterion in CRITERIA),
        sum(row.scores.values()) if row.scores else None,
        w.local(row.submitted_at) if row.submitted_at else None,
        history,
    ]


def _event(w: _Words, entry: HistoryEntry) -> str:
    """What happened at one step of the review: the status it moved to, or the scores given."""
    if entry.event != "scored":
        return w.named(f"initiative.status_{entry.to_status}", entry.to_status)
    if not entry.scores:  # scored before scores were kept in the history
        return w.named("initiative.history_scored_unknown", entry.event)
    total = sum(entry.scores.values())
    scored = w("initiative.history_scored", scores=score_figures(entry.scores), total=total)
    return _LEADING_SYMBOLS.sub("", scored)


def _deliveries(w: _Words, deliveries: list[DeliveryRow]) -> Table:
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
    rows: list[list[Cell]] = [
        [
            w.named(f"export.kind_{row.kind}", row.kind),
            row.title,
            w.local(row.created_at),
            row.total,
            row.sent,
            row.unreachable,
            row.failed,
            row.pending,
            row.sent / row.total if row.total else None,
        ]
        for row in deliveries
    ]
    return Table(w("export.sheet_deliveries"), columns, rows)


def _report(w: _Words, lines: list[str]) -> Table:
    rows: list[list[Cell]] = []
    for index, paragraph in enumerate(lines):
        if index:
            rows.append([None])
        rows.extend([line] for line in paragraph.splitlines() or [""])
    return Table(w("export.sheet_report"), [Column(w("export.report"))], rows)


class _Styles:
    """Cell style attributes by number format, wrapping and boldness, registered through openpyxl so that the
    stylesheet it writes holds them."""

    def __init__(self, sheet: Worksheet) -> None:
        self._sheet = sheet
        self._attributes: dict[tuple[str | None, bool, bool], str] = {}

    def attribute(self, number_format: str | None, wrap: bool, bold: bool) -> str:
        """The cell's ``s="…"`` attribute, empty for the default style."""
        key = (number_format, wrap, bold)
        if key not in self._attributes:
            cell = OpenpyxlCell(self._sheet)
            if number_format:
                cell.number_format = number_format
            if wrap:
                cell.alignment = _WRAP
            if bold:
                cell.font = _BOLD
            style = int(cell.style_id)
            self._attributes[key] = f' s="{style}"' if style else ""
        return self._attributes[key]


def _lay_out(book: Workbook, table: Table) -> Worksheet:
    """An empty sheet with the table's column widths, frozen header row and autofilter."""
    sheet = book.create_sheet(table.title)
    for index, width in enumerate(_widths(table), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(table.columns))}{1 + len(table.rows)}"
    return sheet


def _sheet_data(table: Table, styles: _Styles) -> str:
    """The ``<sheetData>`` element of a table: its header, rows and footer as SpreadsheetML."""
    letters = [get_column_letter(index) for index in range(1, len(table.columns) + 1)]
    headers: list[Cell] = [column.header for column in table.columns]
    parts = ["<sheetData>", _row_xml(1, letters, [Column("")] * len(letters), headers, styles, True)]
    number = 2
    for rows, bold in ((table.rows, False), (table.footer, True)):
        for row in rows:
            parts.append(_row_xml(number, letters, table.columns, row, styles, bold))
            number += 1
    parts.append("</sheetData>")
    # Characters XML cannot carry (stray control codes in what people typed) go in one pass at the end.
    return _ILLEGAL.sub("", "".join(parts))


def _row_xml(
    number: int,
    letters: list[str],
    columns: Sequence[Column],
    row: Sequence[Cell],
    styles: _Styles,
    bold: bool,
) -> str:
    """One ``<row>``; empty cells are left out."""
    cells = [
        _cell_xml(f"{letter}{number}", value, column, styles, bold)
        for letter, column, value in zip(letters, columns, row, strict=False)
        if value is not None
    ]
    return f'<row r="{number}">{"".join(cells)}</row>'


def _cell_xml(ref: str, value: Cell, column: Column, styles: _Styles, bold: bool) -> str:
    number_format = column.number_format
    if isinstance(value, Styled):
        number_format = value.number_format
        value = value.value
    if isinstance(value, str):
        wrap = column.wrap and ("\n" in value or len(value) > WRAPPED_WIDTH)
        words = value[:CELL_LIMIT].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        space = _PRESERVE if words[:1].isspace() or words[-1:].isspace() else ""
        style = styles.attribute(None, wrap, bold)
        return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{words}</t></is></c>'
    if value is None:
        return ""
    if isinstance(value, datetime):
        number_format, value = MOMENT, float(to_excel(value))
    elif isinstance(value, date):
        number_format, value = DAY, float(to_excel(value))
    return f'<c r="{ref}"{styles.attribute(number_format, False, bold)}><v>{value!r}</v></c>'


def _with_sheet_data(skeleton: bytes, sheet_data: dict[str, tuple[str, str]]) -> bytes:
    """openpyxl's package with each sheet's empty ``<sheetData>`` replaced by the table's rows."""
    result = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(skeleton)) as source,
        zipfile.ZipFile(result, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESSION) as target,
    ):
        if not set(sheet_data) <= set(source.namelist()):
            raise RuntimeError("openpyxl named the worksheet parts differently")
        for item in source.infolist():
            content = source.read(item)
            if item.filename in sheet_data:
                rows, dimension = sheet_data[item.filename]
                xml = content.decode()
                if EMPTY_SHEET_DATA not in xml:
                    raise RuntimeError(f"openpyxl wrote {item.filename} in an unexpected shape")
                xml = xml.replace(EMPTY_SHEET_DATA, rows, 1)
                content = _DIMENSION.sub(f'<dimension ref="{dimension}" />', xml, count=1).encode()
            target.writestr(item.filename, content)
    return result.getvalue()


def _widths(table: Table) -> list[float]:
    """Each column as wide as its longest line (header included), within sensible bounds."""
    widths: list[float] = []
    for index, column in enumerate(table.columns):
        cap = WRAPPED_WIDTH if column.wrap else MAX_WIDTH
        if column.number_format in DATE_WIDTHS:
            longest = DATE_WIDTHS[column.number_format]
        else:
            longest = _longest(
                (row[index] for row in chain(table.rows, table.footer) if index < len(row)), cap
            )
        longest = max(longest, _longest([column.header], cap))
        widths.append(float(min(cap, max(MIN_WIDTH, longest + 2))))
    return widths


def _longest(values: Iterable[Cell], cap: int) -> int:
    """The longest line among ``values`` as shown, looking no further once one reaches ``cap``."""
    longest = 0
    for value in values:
        if isinstance(value, Styled):
            value = value.value
        if isinstance(value, str):
            length = len(value) if "\n" not in value else max(map(len, value.split("\n")))
        elif isinstance(value, datetime):
            length = DATE_WIDTHS[MOMENT]
        elif isinstance(value, date):
            length = DATE_WIDTHS[DAY]
        elif isinstance(value, int | float):
            length = len(f"{value:,.0f}") + 2
        else:
            continue
        if length > longest:
            longest = length
            if longest >= cap:
                break
    return longest
