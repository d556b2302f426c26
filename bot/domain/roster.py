"""Imports the union tree (units.csv) and the roster (members.csv): every row or none, and safe to repeat.

Used by ``thidua import units|members FILE.csv`` and ``thidua demo``: ``import_units`` first, then
``import_members``. Files are UTF-8 with or without BOM, comma- or semicolon-separated. Rows are matched by
code, so a re-import updates what changed and leaves the rest; rows missing from the file are left alone.
Any bad line stops the whole import before anything is written, and ``RosterError`` names every bad line.
Members link their chat account by phone, so two members with one phone number are refused (naming both
lines, or the member already stored) unless the admin says ``allow_shared_phones``; then linking by that
number asks the person to see an officer instead of guessing.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path

from bot.domain.vn.phones import display_phone, normalize_phone
from bot.domain.vn.textkeys import search_key
from storage.database import Repos, Store
from storage.records import Member, Unit

UNIT_COLUMNS = ("code", "name", "parent_code")
MEMBER_COLUMNS = ("member_code", "full_name", "phone", "unit_code")
MEMBER_OPTIONAL_COLUMNS = ("email",)

MAX_CODE = 64
MAX_NAME = 255
MAX_PROBLEMS = 50  # shown to the admin; the rest are counted

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_WHITESPACE = re.compile(r"\s")


class RosterError(Exception):
    """A roster file that cannot be imported; nothing was written.

    ``problems`` names the bad lines ("line 7: ..."), at most ``MAX_PROBLEMS`` of them followed by
    "... and N more"; ``str(error)`` is a one-line summary followed by the problems, one a line.
    """

    summary: str
    problems: list[str]

    def __init__(self, summary: str, problems: Sequence[str]) -> None:
        self.summary = summary
        self.problems = list(problems)
        super().__init__("\n".join([summary, *self.problems]))


@dataclass(frozen=True)
class ImportReport:
    """What an import did: rows added, rows changed, rows already as in the file."""

    created: int
    updated: int
    unchanged: int


@dataclass
class _Problems:
    """The problems found in one file, each tied to the lines it concerns so they list in file order."""

    file_name: str
    found: list[tuple[int, str]] = field(default_factory=list)

    def line(self, line: int, reason: str) -> None:
        """A problem on one line."""
        self.found.append((line, f"line {line}: {reason}"))

    def lines(self, lines: Sequence[int], reason: str) -> None:
        """A problem that several lines make together, such as a cycle."""
        label = "line" if len(lines) == 1 else "lines"
        self.found.append((lines[0], f"{label} {', '.join(map(str, lines))}: {reason}"))

    def whole_file(self, reason: str) -> None:
        """A problem with the file as a whole, listed first."""
        self.found.append((0, reason))

    def error(self) -> RosterError:
        """The error to raise: the problems in file order, at most ``MAX_PROBLEMS`` of them spelled out."""
        ordered = [text for _, text in sorted(self.found, key=lambda item: item[0])]
        shown = ordered[:MAX_PROBLEMS]
        if len(ordered) > MAX_PROBLEMS:
            shown.append(f"... and {len(ordered) - MAX_PROBLEMS} more")
        count = len(ordered)
        summary = f"{self.file_name}: nothing imported, {count} problem{'' if count == 1 else 's'}:"
        return RosterError(summary, shown)

    def raise_if_any(self) -> None:
        """Stop the import when anything was found."""
        if self.found:
            raise self.error()


@dataclass(frozen=True, slots=True)
class _Row:
    """One data line of a CSV file: its physical line number and its trimmed cells by column name."""

    line: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        """The cell in this column, empty when the line is short or the file lacks the column."""
        return self.cells.get(column, "")


@dataclass(frozen=True, slots=True)
class _Sheet:
    """A whole CSV file: the column names its header has, and its non-blank data lines."""

    columns: frozenset[str]
    rows: list[_Row]


@dataclass(frozen=True, slots=True)
class _UnitLine:
    """A good line of units.csv."""

    line: int
    code: str
    name: str
    parent_code: str | None


def _clean(cell: str) -> str:
    """The cell trimmed and in composed Unicode."""
    # Vietnamese typed on some systems arrives decomposed (NFD); store one form so names compare equal.
    return unicodedata.normalize("NFC", cell.strip())


_SCIENTIFIC = re.compile(r"[0-9]+([.,][0-9]+)?[eE]\+?[0-9]+")
_SCIENTIFIC_HINT = (
    " (Excel wrote it as a rounded number: format the phone column as Text, type the numbers again)"
)
# The first bytes of the files Excel saves instead of CSV UTF-8 when another "Save as type" is chosen.
_SAVED_AS_OTHER = {
    b"PK\x03\x04": "the file is an Excel workbook (.xlsx)",
    b"\xd0\xcf\x11\xe0": "the file is an Excel 97-2003 workbook (.xls)",
    codecs.BOM_UTF16_LE: 'the file is UTF-16 text (Excel\'s "Unicode Text")',
    codecs.BOM_UTF16_BE: "the file is UTF-16 text",
}


TITLE_LINES = 5  # lines a sheet may carry above its header (the union's name, the list's title, a date)


def _header_line(text: str, required: Sequence[str]) -> tuple[int, str]:
    """The line number of the header and the delimiter it uses: the first line, among the first few that
    are not blank, that names every required column with commas or with semicolons (Excel in a Vietnamese
    locale writes those), so the titles Excel sheets often carry above it are passed over; else the first
    line that is not blank, with the delimiter it holds more of."""
    wanted = set(required)
    candidates = (
        (number, line)
        for number, line in enumerate(io.StringIO(text, newline=""), start=1)  # split as the reader splits
        if line.strip(", ;\t\r\n")
    )
    first: tuple[int, str] | None = None
    for number, line in islice(candidates, TITLE_LINES + 1):
        for delimiter in (",", ";"):
            cells = next(csv.reader([line], delimiter=delimiter), [])
            if wanted <= {_clean(cell).strip("\ufeff").lower() for cell in cells}:
                return number, delimiter
        if first is None:
            first = (number, ";" if line.count(";") > line.count(",") else ",")
    return first or (1, ",")


def _read_sheet(path: Path, required: Sequence[str], problems: _Problems) -> _Sheet:
    """The file's header and data rows; raises RosterError when the file itself cannot be read as a roster."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.whole_file(f"cannot read {path}: {exc.strerror or exc}")
        raise problems.error() from exc
    saved_as = _SAVED_AS_OTHER.get(data[:4]) or _SAVED_AS_OTHER.get(data[:2])
    if saved_as:  # what Excel writes besides CSV, named, rather than its first byte that is not UTF-8
        problems.whole_file(f"{saved_as}, not CSV UTF-8: save it again as CSV UTF-8 (Comma delimited)")
        raise problems.error()
    try:
        text = data.removeprefix(codecs.BOM_UTF8).decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.line(line, f"not UTF-8 text (byte 0x{data[exc.start]:02X}); save the file as CSV UTF-8")
        raise problems.error() from exc
    header_at, delimiter = _header_line(text, required)

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    header_line = 0
    rows: list[_Row] = []
    next_line = 1
    try:
        for cells in reader:
            line, next_line = next_line, reader.line_num + 1
            cleaned = [_clean(cell) for cell in cells]
            if not any(cleaned) or line < header_at:  # blank, or a title above the header
                continue
            if header is None:
                header = [name.strip("\ufeff").lower() for name in cleaned]
                header_line = line
                continue
            extra = [cell for cell in cleaned[len(header) :] if cell]
            if extra:
                problems.line(
                    line,
                    f"{len(cleaned)} cells but the header has {len(header)} column{_plural(len(header))}"
                    f' (put a value that contains "{delimiter}" in double quotes)',
                )
                continue
            rows.append(_Row(line, {name: cell for name, cell in zip(header, cleaned, strict=False) if name}))
    except csv.Error as exc:
        problems.line(next_line, f"cannot read the CSV: {exc}")
        raise problems.error() from exc
    if header is None:
        problems.whole_file("the file is empty")
        raise problems.error()

    duplicated = sorted({name for name in header if name and header.count(name) > 1})
    for name in duplicated:
        problems.line(header_line, f'column "{name}" appears more than once')
    missing = [name for name in required if name not in header]
    if missing:
        found = ", ".join(name for name in header if name) or "nothing"
        names = ", ".join(f'"{name}"' for name in missing)
        problems.line(header_line, f"missing column{_plural(len(missing))} {names} (the header has: {found})")
    if duplicated or missing:
        raise problems.error()
    if not rows and not problems.found:
        problems.line(header_line, "there is a header but no rows to import")
        raise problems.error()
    return _Sheet(frozenset(header), rows)


def _plural(count: int) -> str:
    return "" if count == 1 else "s"


def _check_code(problems: _Problems, line: int, column: str, value: str) -> bool:
    """Whether ``value`` can be a code; the reason is recorded when it cannot."""
    if not value:
        problems.line(line, f"{column} is empty")
        return False
    if len(value) > MAX_CODE:
        problems.line(line, f'{column} "{value}" is {len(value)} characters long (at most {MAX_CODE})')
        return False
    if _WHITESPACE.search(value):
        problems.line(line, f'{column} "{value}" contains whitespace')
        return False
    return True


def _check_name(problems: _Problems, line: int, column: str, value: str) -> bool:
    """Whether ``value`` can be a name; the reason is recorded when it cannot."""
    if not value:
        problems.line(line, f"{column} is empty")
        return False
    if len(value) > MAX_NAME:
        problems.line(line, f"{column} is {len(value)} characters long (at most {MAX_NAME})")
        return False
    return True


def _first_occurrence(problems: _Problems, seen: dict[str, int], line: int, column: str, code: str) -> bool:
    """Whether this is the first line with this code in the file; a repeat is recorded as a problem."""
    first = seen.setdefault(code, line)
    if first != line:
        problems.line(line, f'duplicate {column} "{code}" (first on line {first})')
        return False
    return True


def _find_cycles(parents: dict[str, str | None], starts: Iterable[str]) -> list[list[str]]:
    """Every cycle reachable from ``starts`` when each code points to its parent, each cycle once."""
    state: dict[str, int] = {}  # 1: on the walk now, 2: known to reach a root or a known cycle
    cycles: list[list[str]] = []
    for start in starts:
        walk: list[str] = []
        code: str | None = start
        while code is not None and code not in state:
            state[code] = 1
            walk.append(code)
            code = parents.get(code)
        if code is not None and state[code] == 1:
            cycles.append(walk[walk.index(code) :])
        for visited in walk:
            state[visited] = 2
    return cycles


def _report_cycles(problems: _Problems, cycles: list[list[str]], lines: dict[str, int]) -> None:
    """One problem per cycle, naming its lines and walking it from the unit the file lists first."""
    for cycle in cycles:
        in_file = [code for code in cycle if code in lines]
        first = min(in_file, key=lines.__getitem__)
        at = cycle.index(first)
        ordered = cycle[at:] + cycle[:at]
        problems.lines(
            sorted(lines[code] for code in in_file), "cycle: " + " -> ".join([*ordered, ordered[0]])
        )


def _validate_units(sheet: _Sheet, existing: dict[str, Unit], problems: _Problems) -> list[_UnitLine]:
    """The file's units, once every line is known good; problems are recorded otherwise."""
    seen: dict[str, int] = {}
    candidates: list[_UnitLine] = []
    for row in sheet.rows:
        code, name, parent_code = row.get("code"), row.get("name"), row.get("parent_code")
        code_ok = _check_code(problems, row.line, "code", code)
        name_ok = _check_name(problems, row.line, "name", name)
        if code_ok and _first_occurrence(problems, seen, row.line, "code", code) and name_ok:
            candidates.append(_UnitLine(row.line, code, name, parent_code or None))

    parent_codes = {unit.id: unit.code for unit in existing.values()}
    parents: dict[str, str | None] = {
        code: parent_codes.get(unit.parent_id) if unit.parent_id is not None else None
        for code, unit in existing.items()
    }
    accepted: list[_UnitLine] = []
    for unit in candidates:
        if unit.parent_code is not None and unit.parent_code not in seen and unit.parent_code not in existing:
            problems.line(unit.line, f'unknown parent_code "{unit.parent_code}"')
            parents[unit.code] = None
            continue
        parents[unit.code] = unit.parent_code
        accepted.append(unit)
    lines = {unit.code: unit.line for unit in candidates}
    _report_cycles(problems, _find_cycles(parents, [unit.code for unit in accepted]), lines)
    return accepted


def _tree_paths(units: Sequence[Unit]) -> dict[int, tuple[str, int]]:
    """Each unit's materialised path ("/1/4/9/", root first) and depth (the root is 0), by id."""
    parent_of = {unit.id: unit.parent_id for unit in units}
    placed: dict[int, tuple[str, int]] = {}
    for unit_id in parent_of:
        chain: list[int] = []
        current: int | None = unit_id
        while current is not None and current not in placed:
            chain.append(current)
            current = parent_of[current]
        path, depth = ("/", -1) if current is None else placed[current]
        for node in reversed(chain):
            path, depth = f"{path}{node}/", depth + 1
            placed[node] = (path, depth)
    return placed


async def _write_units(
    repos: Repos, units: list[_UnitLine], existing: dict[str, Unit], now: datetime
) -> ImportReport:
    """Add the new units, rename and move the changed ones, then place every unit in the tree again."""
    await repos.units.insert_many(
        [(unit.code, unit.name, search_key(unit.name)) for unit in units if unit.code not in existing], now
    )
    ids = await repos.units.ids_by_code()
    changes: list[tuple[int, str, str, int | None]] = []
    created = updated = 0
    for unit in units:
        parent_id = ids[unit.parent_code] if unit.parent_code is not None else None
        before = existing.get(unit.code)
        if before is None:
            created += 1
        elif before.name != unit.name or before.parent_id != parent_id:
            updated += 1
        else:
            continue
        changes.append((ids[unit.code], unit.name, search_key(unit.name), parent_id))
    await repos.units.update_many(changes, now)

    tree = await repos.units.all()
    paths = _tree_paths(tree)
    await repos.units.set_paths(
        [(unit.id, *paths[unit.id]) for unit in tree if (unit.path, unit.depth) != paths[unit.id]]
    )
    return ImportReport(created=created, updated=updated, unchanged=len(units) - created - updated)


async def import_units(store: Store, path: Path, *, actor: str, now: datetime) -> ImportReport:
    """Create, rename and move units from ``path`` (code, name, parent_code) in one transaction.

    A parent may be in the file (before or after its children) or already in the database. Raises
    ``RosterError`` naming every bad line, and then changes nothing.
    """
    problems = _Problems(path.name)
    sheet = _read_sheet(path, UNIT_COLUMNS, problems)
    async with store.begin() as repos:
        existing = {unit.code: unit for unit in await repos.units.all()}
        units = _validate_units(sheet, existing, problems)
        problems.raise_if_any()
        report = await _write_units(repos, units, existing, now)
        await _record(repos, "import.units", path, report, actor, now)
    return report


def _validate_members(
    sheet: _Sheet, unit_ids: dict[str, int], existing: dict[str, Member], problems: _Problems
) -> list[tuple[int, Member]]:
    """The file's members as they should be stored (id 0 for new ones), each with its line; problems are
    recorded otherwise."""
    has_email = "email" in sheet.columns
    seen: dict[str, int] = {}
    wanted: list[tuple[int, Member]] = []
    for row in sheet.rows:
        line = row.line
        code, full_name, raw_phone, unit_code = (row.get(column) for column in MEMBER_COLUMNS)
        email: str | None = row.get("email") or None
        ok = _check_code(problems, line, "member_code", code) and _first_occurrence(
            problems, seen, line, "member_code", code
        )
        ok = _check_name(problems, line, "full_name", full_name) and ok
        phone = normalize_phone(raw_phone) if raw_phone else None
        if raw_phone and phone is None:
            # Excel shows a long number as 9,12E+08 and saves it so: the digits are gone from the file.
            hint = _SCIENTIFIC_HINT if _SCIENTIFIC.fullmatch(raw_phone) else ""
            problems.line(line, f'phone "{raw_phone}" is not a valid phone number{hint}')
            ok = False
        unit_id = unit_ids.get(unit_code)
        if not unit_code:
            problems.line(line, "unit_code is empty")
        elif unit_id is None:
            problems.line(line, f'unknown unit_code "{unit_code}" (import it with the units first)')
        if email is not None and (len(email) > MAX_NAME or not _EMAIL.fullmatch(email)):
            problems.line(line, f'email "{email}" is not an email address')
            ok = False
        if not ok or unit_id is None:
            continue
        before = existing.get(code)
        if not has_email and before is not None:
            email = before.email  # a file without the column says nothing about emails
        wanted.append((line, Member(before.id if before else 0, code, full_name, phone, email, unit_id)))
    return wanted


def _check_shared_phones(
    wanted: Sequence[tuple[int, Member]], existing: dict[str, Member], problems: _Problems
) -> None:
    """Record every phone number the file would leave with more than one member, in the file or stored."""
    lines = {member.code: line for line, member in wanted}
    after = existing | {member.code: member for _, member in wanted}  # the roster once the file is in
    holders: dict[str, list[Member]] = {}
    for member in after.values():
        if member.phone is not None:
            holders.setdefault(member.phone, []).append(member)
    for phone, sharing in holders.items():
        in_file = sorted((m for m in sharing if m.code in lines), key=lambda m: lines[m.code])
        if len(sharing) < 2 or not in_file:
            continue  # a number shared before this file, by members it does not mention, is not its doing
        stored = [m for m in sharing if m.code not in lines]
        reason = f"phone {display_phone(phone)}"
        if len(in_file) > 1:
            reason += " is given to " + " and ".join(m.code for m in in_file)
        if stored:
            reason += (" and" if len(in_file) > 1 else "") + " already belongs to "
            reason += ", ".join(f"{m.code} ({m.full_name})" for m in stored)
        problems.lines(
            [lines[m.code] for m in in_file],
            reason + "; members link their chat by phone, so each needs their own"
            " (or import with --allow-shared-phones: linking by it then sends them to an officer)",
        )


async def import_members(
    store: Store, path: Path, *, actor: str, now: datetime, allow_shared_phones: bool = False
) -> ImportReport:
    """Add and update roster members from ``path`` (member_code, full_name, phone, unit_code[, email]).

    Units must already be in the database. Phones are stored in E.164 whatever form the file uses; an empty
    phone is allowed, one phone for two members only with ``allow_shared_phones``. Raises ``RosterError``
    naming every bad line, and then changes nothing.
    """
    problems = _Problems(path.name)
    sheet = _read_sheet(path, MEMBER_COLUMNS, problems)
    async with store.begin() as repos:
        unit_ids = await repos.units.ids_by_code()
        existing = await repos.members.all_by_code()
        lined = _validate_members(sheet, unit_ids, existing, problems)
        if not allow_shared_phones:
            _check_shared_phones(lined, existing, problems)
        problems.raise_if_any()
        wanted = [member for _, member in lined]
        new = [member for member in wanted if member.code not in existing]
        changed = [member for member in wanted if member.code in existing and member != existing[member.code]]
        await repos.members.insert_many(
            [(m.code, m.full_name, m.phone, m.email, m.unit_id) for m in new], source="roster", now=now
        )
        await repos.members.update_many(changed, now)
        report = ImportReport(
            created=len(new), updated=len(changed), unchanged=len(wanted) - len(new) - len(changed)
        )
        await _record(
            repos, "import.members", path, report, actor, now, shared_phones_allowed=allow_shared_phones
        )
    return report


async def _record(
    repos: Repos,
    action: str,
    path: Path,
    report: ImportReport,
    actor: str,
    now: datetime,
    *,
    shared_phones_allowed: bool = False,
) -> None:
    """The import's audit entry."""
    details: dict[str, int | bool] = {
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
    }
    if shared_phones_allowed:
        details["shared_phones_allowed"] = True
    await repos.audit.record(actor, action, subject=path.name[:128], details=details, now=now)
