"""The roster import an admin runs (``thidua import units|members``): what is stored, what a bad file says.

Every test works on a real database (SQLite, or PostgreSQL with ``--db=postgres``); a bad file must name its
bad lines and leave the database untouched.
"""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.domain.roster import ImportReport, RosterError, import_members, import_units
from messages import plain, text
from storage.database import Store
from storage.migrate import upgrade
from storage.records import Unit
from storage.tables import audit_log, members, units
from tests.helpers.chat import Chat
from tests.helpers.databases import drop_database, new_database

NOW = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
LATER = datetime(2025, 3, 2, 8, 0, tzinfo=UTC)
DATA = Path(__file__).resolve().parent.parent / "bot" / "data"

UNITS = """code,name,parent_code
CDCS-THPT-BL,CĐCS Trường THPT Bảo Lạc,CDN-GD
LDLD-CB,Liên đoàn Lao động tỉnh Cao Bằng,
LDLD-BL,Liên đoàn Lao động huyện Bảo Lạc,LDLD-CB
CDCS-UBND-BL,CĐCS Cơ quan Ủy ban nhân dân huyện Bảo Lạc,LDLD-BL
CDN-GD,Công đoàn ngành Giáo dục tỉnh Cao Bằng,LDLD-CB
CDCS-BAOTOAN,CĐCS xã Bảo Toàn,LDLD-BL
"""

MEMBERS = """member_code,full_name,phone,unit_code,email
CB-1,Hoàng Thị Mai,0912 345 678,CDCS-THPT-BL,mai@example.com
CB-2,Nông Văn Hùng,+84987654321,CDCS-UBND-BL,
CB-3,Lục Thị Nga,84912345680,CDCS-BAOTOAN,
"""


# --- helpers --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def migrated_db(postgres_url: str | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One migrated, empty database; each test works on its own copy (migrating takes a while)."""
    url = asyncio.run(new_database(postgres_url, tmp_path_factory.mktemp("template")))
    upgrade(url)
    yield url
    asyncio.run(drop_database(postgres_url, url))


@pytest.fixture
def database_template(migrated_db: str) -> str:
    """Each test's ``store`` starts empty, migrated."""
    return migrated_db


def write(tmp_path: Path, name: str, text: str, *, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


async def load_units(store: Store, tmp_path: Path, text: str = UNITS) -> ImportReport:
    return await import_units(store, write(tmp_path, "units.csv", text), actor="cli", now=NOW)


async def load_members(store: Store, tmp_path: Path, text: str = MEMBERS) -> ImportReport:
    return await import_members(store, write(tmp_path, "members.csv", text), actor="cli", now=NOW)


async def tree(store: Store) -> dict[str, Unit]:
    async with store.begin() as repos:
        return {unit.code: unit for unit in await repos.units.all()}


async def snapshot(store: Store) -> dict[str, list[Any]]:
    """Every stored row of the tables an import writes."""
    async with store.engine.connect() as conn:
        return {
            table.name: [tuple(row) for row in await conn.execute(sa.select(table).order_by(table.c.id))]
            for table in (units, members, audit_log)
        }


async def roster(store: Store) -> dict[str, tuple[str, str | None, str | None, str]]:
    """Each member by code as (full name, phone, email, unit code)."""
    async with store.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(
                members.c.code, members.c.full_name, members.c.phone, members.c.email, units.c.code
            ).join(units, members.c.unit_id == units.c.id)
        )
        return {code: (name, phone, email, unit) for code, name, phone, email, unit in rows}


def assert_placed(units_by_code: dict[str, Unit], code: str, parent_code: str | None, depth: int) -> None:
    unit = units_by_code[code]
    parent_path = units_by_code[parent_code].path if parent_code else "/"
    assert unit.parent_id == (units_by_code[parent_code].id if parent_code else None)
    assert unit.path == f"{parent_path}{unit.id}/"
    assert unit.depth == depth


# --- good files -----------------------------------------------------------------------------------


async def test_units_import_builds_the_tree_whatever_the_line_order(store: Store, tmp_path: Path) -> None:
    report = await load_units(store, tmp_path)

    assert report == ImportReport(created=6, updated=0, unchanged=0)
    placed = await tree(store)
    assert_placed(placed, "LDLD-CB", None, 0)
    assert_placed(placed, "LDLD-BL", "LDLD-CB", 1)
    assert_placed(placed, "CDN-GD", "LDLD-CB", 1)
    assert_placed(placed, "CDCS-THPT-BL", "CDN-GD", 2)  # listed before its parent
    assert_placed(placed, "CDCS-UBND-BL", "LDLD-BL", 2)
    assert placed["CDCS-THPT-BL"].name == "CĐCS Trường THPT Bảo Lạc"
    async with store.begin() as repos:
        assert [u.code for u in await repos.units.search("truong thpt bao lac", 5)] == ["CDCS-THPT-BL"]
        assert await repos.audit.recent(1) == [
            ("cli", "import.units", "units.csv", {"created": 6, "updated": 0, "unchanged": 0})
        ]


async def test_members_import_stores_phones_in_e164(store: Store, tmp_path: Path) -> None:
    await load_units(store, tmp_path)

    report = await load_members(store, tmp_path)

    assert report == ImportReport(created=3, updated=0, unchanged=0)
    assert await roster(store) == {
        "CB-1": ("Hoàng Thị Mai", "+84912345678", "mai@example.com", "CDCS-THPT-BL"),
        "CB-2": ("Nông Văn Hùng", "+84987654321", None, "CDCS-UBND-BL"),
        "CB-3": ("Lục Thị Nga", "+84912345680", None, "CDCS-BAOTOAN"),
    }
    async with store.begin() as repos:
        assert [m.code for m in await repos.members.by_phone("+84912345678")] == ["CB-1"]
        assert (await repos.audit.recent(1))[0][:3] == ("cli", "import.members", "members.csv")


async def test_bom_semicolons_loose_headers_blank_lines_and_extra_columns_are_accepted(
    store: Store, tmp_path: Path
) -> None:
    await load_units(
        store, tmp_path, "\ufeff Code ;NAME; Parent_Code\r\nLDLD-CB;Liên đoàn Lao động tỉnh;\r\n"
    )
    decomposed = unicodedata.normalize("NFD", "Lương Thị Hằng")
    text = (
        "\ufeffMember_Code; Full_Name ;PHONE;Unit_Code;Ghi chú\r\n"
        "\r\n"
        f" CB-7 ; {decomposed} ; 0912.345.681 ;LDLD-CB;tổ trưởng\r\n"
        ";;;;\r\n"
        'CB-8;"Bế Thị Thu";;LDLD-CB;\r\n'
    )

    report = await load_members(store, tmp_path, text)

    assert report == ImportReport(created=2, updated=0, unchanged=0)
    assert await roster(store) == {
        "CB-7": ("Lương Thị Hằng", "+84912345681", None, "LDLD-CB"),
        "CB-8": ("Bế Thị Thu", None, None, "LDLD-CB"),
    }


async def test_the_titles_an_excel_sheet_carries_above_its_header_are_passed_over(
    store: Store, tmp_path: Path
) -> None:
    await load_units(store, tmp_path, "code,name,parent_code\nLDLD-CB,Liên đoàn Lao động tỉnh,\n")
    text = (
        "LIÊN ĐOÀN LAO ĐỘNG TỈNH CAO BẰNG;;;\r\n"
        "DANH SÁCH ĐOÀN VIÊN NĂM 2026\r\n"
        "\r\n"
        "member_code;full_name;phone;unit_code\r\n"
        "CB-7;Lương Thị Hằng;0912 345 681;LDLD-CB\r\n"
    )

    report = await load_members(store, tmp_path, text)

    assert report == ImportReport(created=1, updated=0, unchanged=0)
    assert await roster(store) == {"CB-7": ("Lương Thị Hằng", "+84912345681", None, "LDLD-CB")}


async def test_reimporting_the_same_files_changes_nothing(store: Store, tmp_path: Path) -> None:
    await load_units(store, tmp_path)
    await load_members(store, tmp_path)
    before = await snapshot(store)

    assert await load_units(store, tmp_path) == ImportReport(created=0, updated=0, unchanged=6)
    assert await load_members(store, tmp_path) == ImportReport(created=0, updated=0, unchanged=3)

    after = await snapshot(store)
    assert after["units"] == before["units"]
    assert after["members"] == before["members"]
    assert len(after["audit_log"]) == len(before["audit_log"]) + 2


async def test_reimport_renames_and_moves_a_unit_and_its_subtree_follows(
    store: Store, tmp_path: Path
) -> None:
    await load_units(store, tmp_path)
    moved = UNITS.replace(
        "LDLD-BL,Liên đoàn Lao động huyện Bảo Lạc,LDLD-CB", "LDLD-BL,LĐLĐ huyện Bảo Lạc (mới),CDN-GD"
    )

    report = await import_units(store, write(tmp_path, "units.csv", moved), actor="cli", now=LATER)

    assert report == ImportReport(created=0, updated=1, unchanged=5)
    placed = await tree(store)
    assert placed["LDLD-BL"].name == "LĐLĐ huyện Bảo Lạc (mới)"
    assert_placed(placed, "LDLD-BL", "CDN-GD", 2)
    assert_placed(placed, "CDCS-UBND-BL", "LDLD-BL", 3)
    assert_placed(placed, "CDCS-BAOTOAN", "LDLD-BL", 3)
    assert_placed(placed, "CDCS-THPT-BL", "CDN-GD", 2)
    async with store.begin() as repos:
        assert [u.code for u in await repos.units.search("ldld huyen bao lac (moi)", 5)] == ["LDLD-BL"]


async def test_a_partial_file_may_move_units_under_units_already_stored(store: Store, tmp_path: Path) -> None:
    await load_units(store, tmp_path)

    report = await load_units(
        store, tmp_path, "code,name,parent_code\nCDCS-BAOTOAN,CĐCS xã Bảo Toàn,CDN-GD\n"
    )

    assert report == ImportReport(created=0, updated=1, unchanged=0)
    placed = await tree(store)
    assert_placed(placed, "CDCS-BAOTOAN", "CDN-GD", 2)
    assert len(placed) == 6  # units missing from the file are left alone


async def test_members_reimport_renames_rephones_and_moves(store: Store, tmp_path: Path) -> None:
    await load_units(store, tmp_path)
    await load_members(store, tmp_path)
    changed = MEMBERS.replace(
        "Nông Văn Hùng,+84987654321,CDCS-UBND-BL", "Nông Văn Hưng,0987 654 322,CDCS-BAOTOAN"
    )

    report = await load_members(store, tmp_path, changed + "CB-4,Đàm Văn Toàn,,LDLD-BL,\n")

    assert report == ImportReport(created=1, updated=1, unchanged=2)
    stored = await roster(store)
    assert stored["CB-2"] == ("Nông Văn Hưng", "+84987654322", None, "CDCS-BAOTOAN")
    assert stored["CB-4"] == ("Đàm Văn Toàn", None, None, "LDLD-BL")


async def test_a_file_without_the_email_column_keeps_stored_emails(store: Store, tmp_path: Path) -> None:
    await load_units(store, tmp_path)
    await load_members(store, tmp_path)

    report = await load_members(
        store, tmp_path, "member_code,full_name,phone,unit_code\nCB-1,Hoàng Thị Mai,0912345678,CDCS-THPT-BL\n"
    )

    assert report == ImportReport(created=0, updated=0, unchanged=1)
    assert (await roster(store))["CB-1"][2] == "mai@example.com"


async def test_the_demo_roster_imports_cleanly(store: Store) -> None:
    units_report = await import_units(store, DATA / "demo_units.csv", actor="demo", now=NOW)
    members_report = await import_members(store, DATA / "demo_members.csv", actor="demo", now=NOW)

    assert units_report.created == 17 and members_report.created == 40
    placed = await tree(store)
    root = placed["LDLD-CB"]
    assert root.name == "Liên đoàn Lao động tỉnh Cao Bằng" and root.depth == 0
    assert {unit.depth for unit in placed.values()} == {0, 1, 2}
    stored = await roster(store)
    mai, hung = stored["CB-0001"], stored["CB-0002"]
    assert mai[:2] == ("Hoàng Thị Mai", "+84912345678")
    assert hung[:2] == ("Nông Văn Hùng", "+84987654321")
    hung_unit = placed[hung[3]]
    district = next(unit for unit in placed.values() if unit.id == hung_unit.parent_id)
    assert hung_unit.name.startswith("CĐCS") and district.name.startswith("Liên đoàn Lao động huyện")
    assert len({phone for _, phone, _, _ in stored.values() if phone}) == len(
        [p for _, p, _, _ in stored.values() if p]
    )


# --- bad files: every bad line named, nothing written ---------------------------------------------


async def import_fails(store: Store, tmp_path: Path, kind: str, text: str | bytes) -> list[str]:
    """Import a bad file over the stored tree and roster; assert nothing changed; return the problems."""
    path = tmp_path / f"{kind}.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    before = await snapshot(store)
    importer = import_units if kind == "units" else import_members
    with pytest.raises(RosterError) as caught:
        await importer(store, path, actor="cli", now=LATER)
    assert await snapshot(store) == before
    error = caught.value
    assert str(error).splitlines() == [error.summary, *error.problems]
    assert error.summary.startswith(f"{kind}.csv: nothing imported, ")
    return error.problems


@pytest.fixture
async def loaded(store: Store, tmp_path: Path) -> Store:
    """A database already holding the sample tree and roster, which a bad file must not touch."""
    await load_units(store, tmp_path)
    await load_members(store, tmp_path)
    return store


SHARED_PHONE_ADVICE = (
    "members link their chat by phone, so each needs their own"
    " (or import with --allow-shared-phones: linking by it then sends them to an officer)"
)
HEADER_U = "code,name,parent_code\n"
HEADER_M = "member_code,full_name,phone,unit_code,email\n"
GOOD_U = "LDLD-BL,Renamed but never stored,LDLD-CB\nNEW-1,A new unit never stored,LDLD-CB\n"
GOOD_M = "CB-1,Renamed but never stored,0912345678,CDCS-THPT-BL,\nCB-9,New but never stored,,LDLD-CB,\n"


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        pytest.param("", ["the file is empty"], id="empty"),
        pytest.param(' \n\n"",""\n', ["the file is empty"], id="blank"),
        pytest.param(HEADER_U, ["line 1: there is a header but no rows to import"], id="header-only"),
        pytest.param(
            "code,title\nA,B\n",
            ['line 1: missing columns "name", "parent_code" (the header has: code, title)'],
            id="missing-columns",
        ),
        pytest.param(
            "code;name\nA;B\n",
            ['line 1: missing column "parent_code" (the header has: code, name)'],
            id="missing-column-semicolon",
        ),
        pytest.param(
            "code,name,Name,parent_code\nA,B,C,\n",
            ['line 1: column "name" appears more than once'],
            id="dup-col",
        ),
        pytest.param(
            HEADER_U + GOOD_U + "X-1,,LDLD-CB\n,Tên,LDLD-CB\n",
            ["line 4: name is empty", "line 5: code is empty"],
            id="empty-cells",
        ),
        pytest.param(
            HEADER_U + "CDCS-01,Một,LDLD-CB\n" + GOOD_U + "CDCS-01,Hai,LDLD-CB\n",
            ['line 5: duplicate code "CDCS-01" (first on line 2)'],
            id="duplicate",
        ),
        pytest.param(
            HEADER_U + GOOD_U + "CDCS-02,Hai,LDLD-XX\n",
            ['line 4: unknown parent_code "LDLD-XX"'],
            id="unknown-parent",
        ),
        pytest.param(
            HEADER_U + "A,Một,B\n" + GOOD_U + "B,Hai,A\n",
            ["lines 2, 5: cycle: A -> B -> A"],
            id="cycle-in-file",
        ),
        pytest.param(HEADER_U + GOOD_U + "A,Một,A\n", ["line 4: cycle: A -> A"], id="own-parent"),
        pytest.param(
            HEADER_U + "LDLD-CB,Liên đoàn,CDCS-BAOTOAN\n",
            ["line 2: cycle: LDLD-CB -> CDCS-BAOTOAN -> LDLD-BL -> LDLD-CB"],
            id="cycle-through-stored-units",
        ),
        pytest.param(
            HEADER_U
            + GOOD_U
            + "CDCS 01,Một,LDLD-CB\n"
            + "C" * 65
            + ",Hai,LDLD-CB\nCDCS-03,"
            + "x" * 256
            + ",\n",
            [
                'line 4: code "CDCS 01" contains whitespace',
                f'line 5: code "{"C" * 65}" is 65 characters long (at most 64)',
                "line 6: name is 256 characters long (at most 255)",
            ],
            id="bad-codes-and-names",
        ),
        pytest.param(
            "code\nCDCS-01,Một,LDLD-CB\n",
            [
                'line 1: missing columns "name", "parent_code" (the header has: code)',
                "line 2: 3 cells but the header has 1 column"
                ' (put a value that contains "," in double quotes)',
            ],
            id="one-column-header",
        ),
        pytest.param(
            HEADER_U + "CDCS-01,CĐCS Trường THPT, Bảo Lạc,LDLD-CB\n",
            ['line 2: 4 cells but the header has 3 columns (put a value that contains "," in double quotes)'],
            id="unquoted-comma",
        ),
        pytest.param(
            HEADER_U.encode()
            + "A,Một,\n".encode()
            + "B,Hai Phòng,\n".encode("latin-1"),  # saved as Windows-1252
            ["line 3: not UTF-8 text (byte 0xF2); save the file as CSV UTF-8"],
            id="not-utf8",
        ),
        pytest.param(
            b"PK\x03\x04" + bytes(60),  # the zip an .xlsx is
            [
                "the file is an Excel workbook (.xlsx), not CSV UTF-8: save it again as CSV UTF-8"
                " (Comma delimited)"
            ],
            id="xlsx",
        ),
        pytest.param(
            (HEADER_U + "A,Một,\n").encode("utf-16"),
            [
                'the file is UTF-16 text (Excel\'s "Unicode Text"), not CSV UTF-8: save it again as CSV UTF-8'
                " (Comma delimited)"
            ],
            id="utf16",
        ),
    ],
)
async def test_bad_units_file(loaded: Store, tmp_path: Path, text: str | bytes, problems: list[str]) -> None:
    assert await import_fails(loaded, tmp_path, "units", text) == problems


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        pytest.param(
            "member_code,full_name,unit_code\nCB-1,A,LDLD-CB\n",
            ['line 1: missing column "phone" (the header has: member_code, full_name, unit_code)'],
            id="missing-column",
        ),
        pytest.param(
            HEADER_M + GOOD_M + "CB-10,Hà Văn Long,0912345690,LDLD-XX,\n",
            ['line 4: unknown unit_code "LDLD-XX" (import it with the units first)'],
            id="unknown-unit",
        ),
        pytest.param(
            HEADER_M + GOOD_M + "CB-10,Hà Văn Long,12345,LDLD-CB,\n",
            ['line 4: phone "12345" is not a valid phone number'],
            id="bad-phone",
        ),
        pytest.param(
            HEADER_M.replace(",", ";") + "CB-10;Hà Văn Long;9,12E+08;LDLD-CB;\n",  # Excel, Vietnamese locale
            [
                'line 2: phone "9,12E+08" is not a valid phone number (Excel wrote it as a rounded number:'
                " format the phone column as Text, type the numbers again)"
            ],
            id="phone-in-scientific-notation",
        ),
        pytest.param(
            HEADER_M + "CB-10,Hà Văn Long,,LDLD-CB,\n" + GOOD_M + "CB-10,Hà Văn Long,,LDLD-CB,\n",
            ['line 5: duplicate member_code "CB-10" (first on line 2)'],
            id="duplicate",
        ),
        pytest.param(
            HEADER_M + GOOD_M + "CB-10,Hà Văn Long,,LDLD-CB,long.example.com\n",
            ['line 4: email "long.example.com" is not an email address'],
            id="bad-email",
        ),
        pytest.param(
            HEADER_M + GOOD_M + ",Hà Văn Long,,LDLD-CB,\nCB-11,,,LDLD-CB,\nCB-12,Bế Thị Thu,,,\n",
            ["line 4: member_code is empty", "line 5: full_name is empty", "line 6: unit_code is empty"],
            id="empty-cells",
        ),
        pytest.param(
            HEADER_M
            + GOOD_M
            + "CB 10,Hà Văn Long,,LDLD-CB,\n"
            + "C" * 65
            + ",A,,LDLD-CB,\nCB-12,"
            + "x" * 256
            + ",,LDLD-CB,\n",
            [
                'line 4: member_code "CB 10" contains whitespace',
                f'line 5: member_code "{"C" * 65}" is 65 characters long (at most 64)',
                "line 6: full_name is 256 characters long (at most 255)",
            ],
            id="bad-codes-and-names",
        ),
        pytest.param(
            HEADER_M
            + GOOD_M
            + "CB-10,Hà Văn Long,0912 000 111,LDLD-CB,\nCB-11,Bế Thị Thu,+84912000111,LDLD-CB,\n",
            [f"lines 4, 5: phone 0912 000 111 is given to CB-10 and CB-11; {SHARED_PHONE_ADVICE}"],
            id="one-phone-two-lines",
        ),
        pytest.param(
            HEADER_M + GOOD_M + "CB-10,Hà Văn Long,84987654321,LDLD-CB,\n",
            [f"line 4: phone 0987 654 321 already belongs to CB-2 (Nông Văn Hùng); {SHARED_PHONE_ADVICE}"],
            id="phone-of-a-stored-member",
        ),
        pytest.param(
            HEADER_M + "CB-10,Hà Văn Long,0987654321,LDLD-CB,\nCB-11,Bế Thị Thu,0987654321,LDLD-CB,\n",
            [
                "lines 2, 3: phone 0987 654 321 is given to CB-10 and CB-11 and already belongs to"
                f" CB-2 (Nông Văn Hùng); {SHARED_PHONE_ADVICE}"
            ],
            id="phone-of-a-stored-member-twice",
        ),
        pytest.param(
            HEADER_M + "CB-10,Hà Văn Long,0912 ABC,LDLD-XX,x\n",
            [
                'line 2: phone "0912 ABC" is not a valid phone number',
                'line 2: unknown unit_code "LDLD-XX" (import it with the units first)',
                'line 2: email "x" is not an email address',
            ],
            id="several-problems-on-one-line",
        ),
    ],
)
async def test_bad_members_file(loaded: Store, tmp_path: Path, text: str, problems: list[str]) -> None:
    assert await import_fails(loaded, tmp_path, "members", text) == problems


async def test_members_may_swap_phones_in_one_file(loaded: Store, tmp_path: Path) -> None:
    swapped = MEMBERS.replace("0912 345 678,CDCS-THPT", "84987654321,CDCS-THPT").replace(
        "+84987654321,CDCS-UBND", "0912345678,CDCS-UBND"
    )

    report = await load_members(loaded, tmp_path, swapped)

    assert report == ImportReport(created=0, updated=2, unchanged=1)
    stored = await roster(loaded)
    assert (stored["CB-1"][1], stored["CB-2"][1]) == ("+84987654321", "+84912345678")


@pytest.mark.sandbox
async def test_shared_phones_only_when_asked_and_then_linking_by_them_links_no_one(
    loaded: Store, tmp_path: Path, chat: Callable[..., Chat]
) -> None:
    shared = HEADER_M + "CB-10,Nông Thị Hà,0987 654 321,CDCS-UBND-BL,\n"  # Hùng's wife, one phone at home
    path = write(tmp_path, "shared.csv", shared)
    with pytest.raises(RosterError):
        await import_members(loaded, path, actor="cli", now=LATER)

    report = await import_members(loaded, path, actor="cli", now=LATER, allow_shared_phones=True)

    assert report.created == 1
    async with loaded.begin() as repos:
        assert [m.code for m in await repos.members.by_phone("+84987654321")] == ["CB-2", "CB-10"]
    hung = chat(2002, "Hùng", "Nông Văn", phone="0987654321")
    await hung.send("/start")
    await hung.share_contact()
    assert hung.last_text == plain(text("vi", "onboarding.ambiguous"))
    async with loaded.begin() as repos:
        account = await repos.accounts.get("telegram", "2002")
        assert account is not None and account.member_id is None


async def test_every_bad_line_is_counted_but_only_fifty_are_listed(loaded: Store, tmp_path: Path) -> None:
    bad_lines = "".join(f"CB-{n},Người {n},12345,LDLD-CB,\n" for n in range(100, 160))

    problems = await import_fails(loaded, tmp_path, "members", HEADER_M + GOOD_M + bad_lines)

    assert len(problems) == 51
    assert problems[0] == 'line 4: phone "12345" is not a valid phone number'
    assert problems[49].startswith("line 53: ")
    assert problems[50] == "... and 10 more"


async def test_a_missing_file_is_named(loaded: Store, tmp_path: Path) -> None:
    with pytest.raises(RosterError) as caught:
        await import_units(loaded, tmp_path / "nowhere.csv", actor="cli", now=NOW)

    assert str(caught.value).splitlines() == [
        "nowhere.csv: nothing imported, 1 problem:",
        f"cannot read {tmp_path / 'nowhere.csv'}: No such file or directory",
    ]
