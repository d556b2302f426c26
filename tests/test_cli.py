"""The ``thidua`` command: imports, role grants, migrations and the demo, as an admin runs them."""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import IO

import pytest
import sqlalchemy as sa

from bot.cli import main
from bot.demo import claimed
from messages import plain, text
from storage.database import Store
from storage.migrate import upgrade
from tests.helpers.ports import free_port
from tests.helpers.roster import MEMBERS_CSV, UNITS_CSV, vietnam_today


@pytest.fixture
def workdir(tmp_path: Path, db_url: str, postgres_url: str | None, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding the roster files, and the database the commands work on: SQLite is migrated by
    the commands themselves, PostgreSQL by ``thidua db upgrade`` first, as an admin does."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("THIDUA_DATABASE_URL", db_url)
    if postgres_url is not None:
        upgrade(db_url)
    (tmp_path / "units.csv").write_text(UNITS_CSV, encoding="utf-8")
    (tmp_path / "members.csv").write_text(MEMBERS_CSV, encoding="utf-8")
    return tmp_path


def test_import_then_reimport_reports_counts(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "units", "units.csv"]) == 0
    assert main(["import", "members", "members.csv"]) == 0
    assert main(["import", "members", "members.csv"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "units: 6 created, 0 updated, 0 unchanged",
        "members: 4 created, 0 updated, 0 unchanged",
        "members: 0 created, 0 updated, 4 unchanged",
    ]


def test_a_bad_file_names_the_line_and_exits_non_zero(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", "units", "units.csv"]) == 0
    (workdir / "bad.csv").write_text(MEMBERS_CSV + "DV009,Người Lạ,12345,CDCS-DL,\n", encoding="utf-8")
    assert main(["import", "members", "bad.csv"]) == 1
    err = capsys.readouterr().err
    assert 'line 6: phone "12345" is not a valid phone number' in err
    assert main(["import", "members", "members.csv"]) == 0
    assert "4 created" in capsys.readouterr().out  # the bad file imported nothing


def test_one_phone_for_two_members_only_with_allow_shared_phones(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", "units", "units.csv"]) == 0
    (workdir / "shared.csv").write_text(MEMBERS_CSV + "DV009,Lục Văn Hải,84911222333,CDCS-THPT,\n", "utf-8")
    assert main(["import", "members", "shared.csv"]) == 1
    err = capsys.readouterr().err
    assert "lines 4, 6: phone 0911 222 333 is given to DV003 and DV009;" in err
    assert main(["import", "members", "shared.csv", "--allow-shared-phones"]) == 0
    assert "members: 5 created" in capsys.readouterr().out


def test_grant_officer_by_member_and_by_user(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["import", "units", "units.csv"])
    main(["import", "members", "members.csv"])
    capsys.readouterr()
    assert main(["grant", "officer", "--unit", "LDLD-HQ", "--member", "DV002"]) == 0
    assert main(["grant", "officer", "--unit", "LDLD-HQ", "--member", "DV002"]) == 0
    assert main(["grant", "officer", "--unit", "CDN-GD", "--user", "telegram:777"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "DV002 is now an officer of LDLD-HQ",
        "DV002 already was an officer of LDLD-HQ",
        "telegram:777 is now an officer of CDN-GD",
    ]
    assert main(["grant", "officer", "--unit", "NOPE", "--member", "DV002"]) == 2
    assert main(["grant", "officer", "--unit", "LDLD-HQ", "--user", "whatsapp:1"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "thidua: --unit 'NOPE': no such unit",
        "thidua: --user 'whatsapp:1': expected telegram:ID or zalo:ID",
    ]


def test_a_telegram_id_must_be_a_number_a_zalo_id_need_not(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["import", "units", "units.csv"])
    capsys.readouterr()
    refused = ("telegram:abc", "telegram:-5", "telegram:12a", "telegram:０１")
    for user in refused:
        assert main(["grant", "officer", "--unit", "CDN-GD", "--user", user]) == 2
    assert main(["grant", "officer", "--unit", "CDN-GD", "--user", "zalo:a1b2c3"]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"thidua: --user {user!r}: a Telegram user id is a number, e.g. telegram:123456" for user in refused
    ]
    assert captured.out.splitlines() == ["zalo:a1b2c3 is now an officer of CDN-GD"]


def test_run_without_a_token_explains_what_to_do(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run"]) == 2
    assert "set THIDUA_TELEGRAM_TOKEN or THIDUA_ZALO_TOKEN" in capsys.readouterr().err


def test_a_bad_setting_stops_with_one_line(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("THIDUA_TIMEZONE", "Nowhere/Land")
    assert main(["db", "upgrade"]) == 2
    assert (
        capsys.readouterr().err
        == "thidua: THIDUA_TIMEZONE: is not a known time zone such as Asia/Ho_Chi_Minh\n"
    )


def test_a_misspelt_variable_is_named_with_the_setting_meant(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("THIDUA_TELEGRAM_TOKN", "123:ABC")
    (workdir / ".env").write_text("THIDUA_WEBHOOK_SECERT=abcdefgh12\nTHIDUA_LANGUAGE=vi\n", encoding="utf-8")
    assert main(["import", "units", "units.csv"]) == 0  # a warning, not a stop: other tools may set THIDUA_*
    assert capsys.readouterr().err.splitlines() == [
        "thidua: THIDUA_TELEGRAM_TOKN is not a setting (did you mean THIDUA_TELEGRAM_TOKEN?); it is ignored",
        "thidua: THIDUA_WEBHOOK_SECERT is not a setting (did you mean THIDUA_WEBHOOK_SECRET?); it is ignored",
    ]


def test_on_postgresql_commands_wait_for_db_upgrade(
    tmp_path: Path,
    db_url: str,
    postgres_url: str | None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if postgres_url is None:
        pytest.skip("SQLite is migrated by the commands themselves (the other tests here)")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("THIDUA_DATABASE_URL", db_url)
    (tmp_path / "units.csv").write_text(UNITS_CSV, encoding="utf-8")
    assert main(["import", "units", "units.csv"]) == 2
    assert capsys.readouterr().err == "thidua: the database is empty, run `thidua db upgrade` first\n"
    assert main(["db", "upgrade"]) == 0
    assert main(["import", "units", "units.csv"]) == 0
    assert "units: 6 created" in capsys.readouterr().out


def test_db_upgrade_is_repeatable(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out.count("database is up to date") == 2


@pytest.mark.sqlite_only("SQLite's one write lock, held by another program")
def test_a_database_locked_by_another_program_is_one_line_and_nothing_is_imported(
    workdir: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = Path(sa.make_url(db_url).database or "")
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    monkeypatch.setattr("storage.sqlite_inloop.LOCK_WAIT_SECONDS", 0.2)  # 30 s as shipped
    shell = sqlite3.connect(path, isolation_level=None)  # a sqlite3 shell left mid-transaction
    try:
        shell.execute("BEGIN IMMEDIATE")
        assert main(["import", "units", "units.csv"]) == 2
        assert capsys.readouterr().err == (
            f"thidua: THIDUA_DATABASE_URL {path}: database is locked (another program held its"
            " write lock too long: a sqlite3 shell in a transaction?)\n"
        )
    finally:
        shell.close()
    assert main(["import", "units", "units.csv"]) == 0
    assert capsys.readouterr().out == "units: 6 created, 0 updated, 0 unchanged\n"


async def _stamp(url: str, revision: str) -> None:
    """The database marked as migrated to ``revision``, as a newer version of thidua leaves it."""
    store = Store(url)
    try:
        async with store.engine.begin() as conn:
            await conn.execute(sa.text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    finally:
        await store.close()


def test_a_database_upgraded_by_a_newer_version_is_refused_saying_so(
    workdir: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "upgrade"]) == 0
    asyncio.run(_stamp(db_url, "9999_future"))
    capsys.readouterr()
    monkeypatch.setenv("THIDUA_TELEGRAM_TOKEN", "123:SECRET")  # `run` stops at the database, before Telegram
    for command in (["import", "units", "units.csv"], ["db", "upgrade"], ["run"]):
        assert main(command) == 2, command
        err = capsys.readouterr().err
        assert err.startswith(
            "thidua: the database is at revision 9999_future, which this version of thidua does not know"
        ), err
        assert err.endswith("a newer version upgraded it, so run that version or a later one\n"), err
        assert "\n" not in err[:-1], err


def test_a_database_that_cannot_be_opened_is_one_line_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("THIDUA_TELEGRAM_TOKEN", "123:SECRET")  # `run` stops at the database, before Telegram
    (tmp_path / "units.csv").write_text(UNITS_CSV, encoding="utf-8")
    (tmp_path / "junk.db").write_text("not a database, whatever its name says\n", encoding="utf-8")
    port = free_port()
    cases = {
        "sqlite:///missing/thidua.db": f"{tmp_path / 'missing' / 'thidua.db'}: unable to open database file"
        " (does its folder exist, and may this user write there?)",
        "sqlite:///junk.db": f"{tmp_path / 'junk.db'}: file is not a database",
        f"postgresql+asyncpg://union:pass-word@127.0.0.1:{port}/thidua": (
            f"postgresql+asyncpg://union:***@127.0.0.1:{port}/thidua: connection refused"
        ),
    }
    commands = (["db", "upgrade"], ["import", "units", "units.csv"], ["db", "recount"], ["run"])
    for url, reason in cases.items():
        monkeypatch.setenv("THIDUA_DATABASE_URL", url)
        for command in commands:
            assert main(command) == 2, command
            assert capsys.readouterr().err == f"thidua: cannot open THIDUA_DATABASE_URL {reason}\n", command
    assert not (tmp_path / "missing").exists()
    assert (tmp_path / "junk.db").read_text(encoding="utf-8").startswith("not a database")


def run_demo(cwd: Path, *args: str, stdin: IO[bytes] | int | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m bot demo ARGS`` as someone runs it, with no THIDUA_* settings; bounded in time."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("THIDUA_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", "demo", *args],
        cwd=cwd,
        env=env,
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_demo_database_in_a_missing_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "missing" / "demo.db"
    assert main(["demo", "--tour", "--db", str(database)]) == 2
    assert capsys.readouterr().err == f"thidua: --db {database}: there is no folder {database.parent}\n"


@pytest.mark.parametrize("mode", [["--tour"], ["--port", "0"]], ids=["terminal", "web"])
def test_a_demo_folder_it_cannot_write_in_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mode: list[str]
) -> None:
    # A read-only folder or disk (as root, which writes through file modes, a folder where the log should
    # be is the same refusal): the log's FileHandler raised, and the person saw a traceback.
    database = tmp_path / "demo.db"
    (tmp_path / "demo.log").mkdir()
    assert main(["demo", *mode, "--db", str(database)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"thidua: --db {database}: cannot write {tmp_path / 'demo.log'} (")
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("mode", [["--tour"], ["--port", "0"]], ids=["terminal", "web"])
def test_a_second_demo_on_the_same_database_is_one_line_and_leaves_the_first_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mode: list[str]
) -> None:
    # It deleted the running demo's database from under it (that demo went on writing to deleted files) and
    # emptied its log; with another port, it even started beside it.
    database = tmp_path / "demo.db"
    database.write_bytes(b"the first demo's database")
    with claimed(database):  # the first demo, running
        assert main(["demo", *mode, "--db", str(database)]) == 2
    assert capsys.readouterr().err == (
        f"thidua: --db {database}: another demo is running on it; stop it, or choose another --db\n"
    )
    assert database.read_bytes() == b"the first demo's database"


@pytest.mark.sqlite_only("the demo keeps its own SQLite file")
def test_the_demo_tour_runs_end_to_end_without_a_token(tmp_path: Path) -> None:
    result = run_demo(tmp_path, "--tour")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "Xin chào Hoàng Thị Mai" in result.stdout
    assert "Đã duyệt: Trần Văn Nam" in result.stdout
    # The officer is linked before the newcomer asks: the request reaches him, not "nobody was told".
    unit = "CĐCS Cơ quan Ủy ban nhân dân huyện Bảo Lạc"
    assert plain(text("vi", "requests.new_notice", name="Trần Văn Nam", unit=unit)) in result.stdout
    assert plain(text("vi", "join.sent_to_nobody", unit=unit)) not in result.stdout
    assert "đã được duyệt" in result.stdout  # the newcomer's notice went through the outbox
    assert "Đã ghi nhận đăng ký thi đua" in result.stdout
    assert "Đã gửi: 4/4" in result.stdout  # the launch reached Mai, Hùng, the newcomer and Hằng on Zalo
    assert "Hàng chờ xét" in result.stdout  # the seeded initiatives wait for the council
    assert (tmp_path / "thidua-demo.db").exists()
    year, today = vietnam_today().year, vietnam_today().isoformat()  # the bot's day, in Vietnam
    for received in (f"thidua-demo-LDG-{year}-thong-ke.png", f"thidua-demo-LDG-{year}-{today}.xlsx"):
        assert (tmp_path / received).stat().st_size > 0  # the chart and the workbook, beside the database
        assert str(tmp_path.resolve() / received) in result.stdout
    assert (tmp_path / "thidua-demo.log").exists()
    assert not re.search(r"</?[a-z]+>|&(amp|lt|gt|quot|#\d+);", result.stdout)  # plain text, no HTML


SCRIPT = """/start
:share
/phongtrao
:press Lao động giỏi
:press Đăng ký thi đua
:press tiên tiến
:press Xong
Đọc <sách> & báo; cuốn; 5\\
Sáng kiến; sáng kiến; 1
1
"""


@pytest.mark.sqlite_only("the demo keeps its own SQLite file")
def test_the_demo_plays_a_script_from_a_file_and_ends_with_it(tmp_path: Path) -> None:
    (tmp_path / "script.txt").write_text(SCRIPT, encoding="utf-8")
    with (tmp_path / "script.txt").open("rb") as script:
        result = run_demo(tmp_path, "--terminal", stdin=script)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "[mai] > :press Xong" in result.stdout  # the script's lines are echoed as typed
    assert "Đọc <sách> & báo" in result.stdout  # the member's words as typed, back from the bot's HTML
    # The two lines joined by the backslash are one message with two pledges; "1" then confirmed.
    pledges = asyncio.run(_mai_pledges(tmp_path / "thidua-demo.db"))
    assert pledges == [("Đọc <sách> & báo", "cuốn", "5"), ("Sáng kiến", "sáng kiến", "1")]


async def _mai_pledges(database: Path) -> list[tuple[str, str, str]]:
    store = Store(f"sqlite+aiosqlite:///{database}")
    try:
        async with store.begin() as repos:
            mai = await repos.members.by_code("CB-0001")
            campaign = await repos.campaigns.by_code(f"LDG-{vietnam_today().year}")
            assert mai is not None and campaign is not None
            registration = await repos.registrations.of_member(campaign.id, mai.id)
    finally:
        await store.close()
    assert registration is not None and registration.status == "active"
    return [(p.content, p.unit, p.figure) for p in registration.pledges]


@pytest.mark.sqlite_only("the demo keeps its own SQLite file")
def test_the_demo_ends_at_once_without_input(tmp_path: Path) -> None:
    result = run_demo(tmp_path, "--terminal", stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.rstrip().endswith(plain(text("vi", "demo.finished", database="thidua-demo.db")))


CAMPAIGN_TOML = """
code = "tcn-2027"
title = "Tháng Công nhân năm 2027"
description = "Đợt thi đua cao điểm chào mừng Tháng Công nhân."
kind = "peak"
unit = "LDLD-HQ"
starts_on = 2027-05-01
ends_on = 2027-05-31
registration_deadline = "25/4/2027"
individual_titles = ["advanced_worker", "outstanding_member"]
collective_titles = ["excellent_collective"]
"""


def test_campaign_create_from_toml_and_yaml(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["import", "units", "units.csv"])
    (workdir / "tcn.toml").write_text(CAMPAIGN_TOML, encoding="utf-8")
    assert main(["campaign", "create", "tcn.toml"]) == 0
    assert "draft campaign TCN-2027 created" in capsys.readouterr().out
    (workdir / "ldg.yaml").write_text(
        "code: LDG-2027\ntitle: Lao động giỏi, lao động sáng tạo năm 2027\nunit: LDLD-CB\n"
        "starts_on: 2027-01-01\nends_on: 2027-12-31\nregistration_deadline: 2027-03-25\n"
        "initiative_target: 431\nindividual_titles: [good_worker, creative_worker]\n",
        encoding="utf-8",
    )
    assert main(["campaign", "create", "ldg.yaml"]) == 0
    assert "LDG-2027" in capsys.readouterr().out


def test_a_campaign_file_starting_in_the_past_is_created_with_a_warning(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["import", "units", "units.csv"])
    capsys.readouterr()
    (workdir / "late.toml").write_text(
        CAMPAIGN_TOML.replace("starts_on = 2027-05-01", "starts_on = 2021-05-01")
    )
    assert main(["campaign", "create", "late.toml"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "draft campaign TCN-2027 created; an officer launches it with /launch TCN-2027",
        plain(text("en", "problem.start_in_past", start="01/05/2021")),
    ]


@pytest.mark.parametrize(
    ("replace", "message"),  # the CLI speaks English throughout, the campaign's problems included
    [
        (('code = "tcn-2027"', 'code = "t"'), "The code «T» is not valid"),
        (
            ("ends_on = 2027-05-31", "ends_on = 2027-04-30"),
            "The end date 30/04/2027 is before the start date",
        ),
        (('registration_deadline = "25/4/2027"', 'registration_deadline = "31/6/2027"'), "not a date"),
        (('unit = "LDLD-HQ"', 'unit = "NOPE"'), "There is no unit with code «NOPE»"),
        (
            ('registration_deadline = "25/4/2027"', "registration_deadline = 2021-04-25"),
            "The registration deadline 25/04/2021 has already passed",
        ),
        (('kind = "peak"', 'kind = "peak"\ncolor = "red"'), "unknown field(s): color"),
        (
            ('individual_titles = ["advanced_worker", "outstanding_member"]', 'individual_titles = ["hero"]'),
            "There are no such titles: hero",
        ),
    ],
)
def test_a_bad_campaign_file_names_the_problem_and_creates_nothing(
    workdir: Path, capsys: pytest.CaptureFixture[str], replace: tuple[str, str], message: str
) -> None:
    main(["import", "units", "units.csv"])
    (workdir / "bad.toml").write_text(CAMPAIGN_TOML.replace(*replace), encoding="utf-8")
    assert main(["campaign", "create", "bad.toml"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    (workdir / "good.toml").write_text(CAMPAIGN_TOML, encoding="utf-8")
    assert main(["campaign", "create", "good.toml"]) == 0  # the code was not taken by the bad file
