"""Targets per unit (issue 10, item 1) and leading/lagging units (item 2): each scope is measured against the
target its own unit was given, "no target" where none was, and no unit both leads and lags.

Texts are checked through the catalog (the key with the values shown), so rewording them breaks nothing here.
The conversations run on every channel (``people``).
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.campaign_file import CampaignFileError, load_spec
from bot.domain.campaigns import (
    TARGET_MAX,
    CampaignSpec,
    create_draft,
    parse_unit_targets,
    split_by_roster,
)
from bot.domain.insights import CampaignFigures, UnitFigures
from bot.domain.officers import grant_officer
from bot.domain.problems import Problem
from handlers.campaign_views import word_problem
from messages import formatting, plain, text
from storage.database import Store
from storage.records import Campaign, Unit
from tests.conftest import People
from tests.helpers.campaigns import campaign_running
from tests.helpers.chat import Chat
from tests.helpers.choices import choices
from tests.helpers.files import attached, sends_files
from tests.helpers.flows import linked
from tests.helpers.initiatives import stored_initiative
from tests.helpers.memory_chat import MemoryChat
from tests.helpers.roster import HOA, MAI, NOW

PROVINCE = "LDLD-CB"
DISTRICT = "Liên đoàn Lao động huyện Hà Quảng"
EDUCATION = "Công đoàn ngành Giáo dục"
POWER = "Công đoàn cơ sở Điện lực Hà Quảng"
HEALTH = "Công đoàn cơ sở Trung tâm Y tế huyện Hà Quảng"


def t(key: str, **params: object) -> str:
    """A catalog text as the person reads it."""
    return plain(text("vi", key, **params))


def vi(value: int) -> str:
    return formatting.number(value, "vi")


def against(submitted: int, target: int) -> str:
    """ "1/431 (0,2%)" as the catalog words it."""
    return t(
        "initiative.progress_figure",
        submitted=vi(submitted),
        target=vi(target),
        percent=formatting.percent(submitted, target),
    )


async def province_campaign(store: Store, **targets: object) -> Campaign:
    """A launched province-wide campaign with a target of 431 initiatives."""
    spec = CampaignSpec(
        code="SK-2026",
        title="Sáng kiến vì người lao động 2026",
        unit_code=PROVINCE,
        starts_on=date(2026, 3, 1),
        ends_on=date(2026, 12, 31),
        registration_deadline=date(2026, 4, 30),
        initiative_target=431,
        individual_titles=["good_worker"],
        **targets,  # type: ignore[arg-type]
    )
    async with store.begin() as repos:
        result = await create_draft(repos, None, spec, "test", NOW, NOW.date())
        assert isinstance(result, Campaign), result
        assert await repos.campaigns.move(result.id, "draft", "launched", NOW)
    return result


async def submitted_by(store: Store, member_code: str, campaign: Campaign, title: str) -> None:
    """A submitted initiative of this member for the campaign."""
    await stored_initiative(store, member_code, campaign.id, title, ("submitted",), NOW)


async def province_officer(people: People, store: Store) -> Chat | MemoryChat:
    """Hoa (DV003) leads the province."""
    await grant_officer(store, PROVINCE, member_code="DV003", actor="test", now=NOW)
    return await linked(people, HOA)


async def open_page(officer: Chat | MemoryChat, title: str) -> None:
    await officer.send("/phongtrao")
    await officer.press(title)


@pytest.mark.telegram
@pytest.mark.zalo
async def test_a_district_is_measured_against_its_own_target_or_none(people: People, store: Store) -> None:
    campaign = await province_campaign(store)
    await submitted_by(store, "DV001", campaign, "Đọc công tơ từ xa")
    hung = await linked(people, (1002, "Hùng", "Nông Văn", "0987654321"))
    await hung.send("/thongke SK-2026")
    words = hung.last.plain_text
    no_target = t("insights.progress_no_target", submitted=vi(1))
    assert no_target in words  # never "1/431": that is the province's target
    assert "/431" not in words

    hoa = await province_officer(people, store)
    await hoa.send("/thongke SK-2026")
    assert against(1, 431) in hoa.last.plain_text and "0,2%" in against(1, 431)

    await open_page(hoa, campaign.title)
    assert t("targets.button") in choices(hoa.last)
    await hoa.press(t("targets.button"))
    assert "LDLD-HQ" in hoa.last_text  # the codes an officer is asked to type are shown
    await hoa.send("LDLD-HQ: 120\nCDN-GD: 311")
    assert t("targets.saved") in hoa.last_text

    await hung.send("/thongke SK-2026")
    assert against(1, 120) in hung.last.plain_text
    await open_page(hoa, campaign.title)
    page = hoa.last_text
    assert (
        t(
            "initiative.progress_line",
            unit="Liên đoàn Lao động tỉnh Cao Bằng",
            progress=against(1, 431),
            valid="0",
            recognised="0",
        )
        in page
    )
    assert (
        t("initiative.progress_child", unit=DISTRICT, progress=against(1, 120), valid="0", recognised="0")
        in page
    )
    assert (
        t("initiative.progress_child", unit=EDUCATION, progress=against(0, 311), valid="0", recognised="0")
        in page
    )

    # A member's page: their own unit, which was given no target.
    mai = await linked(people, MAI)
    await mai.send("/phongtrao")
    await mai.press(campaign.title)
    assert (
        t(
            "initiative.progress_line",
            unit=POWER,
            progress=t("insights.progress_no_target", submitted="1"),
            valid="0",
            recognised="0",
        )
        in mai.last_text
    )


async def test_bad_target_lines_are_refused_and_change_nothing(people: People, store: Store) -> None:
    campaign = await province_campaign(store)
    hoa = await province_officer(people, store)
    await open_page(hoa, campaign.title)
    await hoa.press(t("targets.button"))
    await hoa.send("NOPE: 5\nLDLD-CB: 10\nLDLD-HQ: -5\nrubbish")
    said = hoa.last_text
    assert t("problem.unit_unknown", code="NOPE") in said
    assert (
        t(
            "problem.unit_target_outside",
            unit="Liên đoàn Lao động tỉnh Cao Bằng",
            owner="Liên đoàn Lao động tỉnh Cao Bằng",
        )
        in said
    )
    assert t("problem.unit_target_format", line=4) in said
    await hoa.send("LDLD-HQ: -5")
    refused = Problem("unit_targets", "unit_target_range", {"unit": "LDLD-HQ", "high": TARGET_MAX})
    assert plain(word_problem("vi", refused)) in hoa.last_text
    assert "từ 0 đến 10.000.000" in hoa.last_text  # a figure as every figure is shown, not "10000000"
    async with store.begin() as repos:
        assert await repos.campaigns.unit_targets(campaign.id) == {}


async def test_the_launching_unit_splits_its_target_by_roster(people: People, store: Store) -> None:
    # LDG-2026 of the district, target 431; one member in each base union
    hung, _ = await campaign_running(people)
    await hung.send("/phongtrao")
    await hung.press("Lao động giỏi, lao động sáng tạo 2026")
    await hung.press(t("targets.button"))
    await hung.press(t("targets.split_button"))
    assert t("targets.saved") in hung.last_text
    async with store.begin() as repos:
        campaign = await repos.campaigns.by_code("LDG-2026")
        assert campaign is not None
        parts = await repos.campaigns.unit_targets(campaign.id)
        power = await repos.units.by_code("CDCS-DL")
        health = await repos.units.by_code("CDCS-YT")
    assert power is not None and health is not None
    assert parts == {power.id: 216, health.id: 215}  # the parts add up to 431
    await hung.send("/thongke LDG-2026")
    assert against(0, 431) in hung.last.plain_text


async def test_a_base_union_officer_sees_its_own_target(people: People, store: Store) -> None:
    campaign = await province_campaign(store, unit_targets={"CDCS-DL": 40})
    await submitted_by(store, "DV001", campaign, "Đọc công tơ từ xa")
    await grant_officer(store, "CDCS-DL", member_code="DV001", actor="test", now=NOW)
    mai = await linked(people, MAI)
    await mai.send("/thongke SK-2026")
    assert against(1, 40) in mai.last.plain_text
    assert "/431" not in mai.last.plain_text
    assert t("insights.no_units_below", unit=POWER) in mai.last.plain_text  # a base union ranks nobody


async def test_the_new_campaign_preview_takes_targets_for_the_units_below(
    people: People, store: Store
) -> None:
    hung = await linked(people, (1002, "Hùng", "Nông Văn", "0987654321"))
    await hung.send("/taophongtrao")
    for answer in ("LDG-2026", "Lao động giỏi, lao động sáng tạo 2026"):
        await hung.send(answer)
    await hung.press("Bỏ qua")
    await hung.press("Thường xuyên")
    for answer in ("2/3/2026", "31/12/2026", "25/3/2026"):
        await hung.send(answer)
    await hung.press("Bỏ qua")
    await hung.send("431")
    await hung.press("Lao động giỏi")
    await hung.press("Xong")
    await hung.press("Xong")
    await hung.press(t("targets.button"))
    assert "CDCS-DL" in hung.last_text and "CDCS-YT" in hung.last_text
    await hung.send("cdcs-dl: 300\nCDCS-YT: 131")
    assert t("targets.preview_units", targets="CDCS-DL: 300, CDCS-YT: 131") in hung.last_text
    await hung.press(t("targets.button"))
    await hung.press(t("targets.split_button"))
    assert t("targets.preview_split") in hung.last_text
    await hung.press(t("newcampaign.save_button"))
    async with store.begin() as repos:
        campaign = await repos.campaigns.by_code("LDG-2026")
        assert campaign is not None
        parts = await repos.campaigns.unit_targets(campaign.id)
    assert sorted(parts.values()) == [215, 216]


@given(
    total=st.integers(0, 100_000),
    rosters=st.dictionaries(st.integers(1, 50), st.integers(0, 5_000), min_size=1, max_size=12),
)
def test_a_split_adds_up_to_the_whole_and_follows_the_rosters(total: int, rosters: dict[int, int]) -> None:
    parts = split_by_roster(total, rosters)
    assert sum(parts.values()) == total and set(parts) == set(rosters)
    whole = sum(rosters.values())
    for unit, part in parts.items():
        quota = total * rosters[unit] / whole if whole else total / len(rosters)
        assert quota - 1 < part < quota + 1


def test_typed_targets_read_codes_and_numbers_the_vietnamese_way() -> None:
    assert parse_unit_targets("CDCS-DL: 1.200\n• CDCS-YT = 35\n") == ({"CDCS-DL": 1200, "CDCS-YT": 35}, [])
    assert parse_unit_targets("CDCS-DL: -5") == ({"CDCS-DL": -5}, [])  # the check refuses it, naming the unit
    entries, problems = parse_unit_targets("CDCS-DL: ²\nCDCS-YT: 3")
    assert entries == {"CDCS-YT": 3} and [(p.code, p.params) for p in problems] == [
        ("unit_target_format", {"line": 1})
    ]


TOML = """
code = "SK-2027"
title = "Sáng kiến vì người lao động 2027"
unit = "LDLD-CB"
starts_on = 2027-01-01
ends_on = 2027-12-31
registration_deadline = 2027-03-25
initiative_target = 431
individual_titles = ["good_worker"]
"""


async def test_the_campaign_file_gives_targets_by_table_or_by_split(store: Store, tmp_path: Path) -> None:
    today = NOW.date()
    table = tmp_path / "table.toml"
    table.write_text(TOML + "\n[unit_targets]\nLDLD-HQ = 120\nCDN-GD = 311\n", encoding="utf-8")
    inline = tmp_path / "inline.yaml"
    inline.write_text(
        "code: SK-2028\ntitle: Sáng kiến vì người lao động 2028\nunit: LDLD-CB\nstarts_on: 2027-01-01\n"
        "ends_on: 2027-12-31\nregistration_deadline: 2027-03-25\ninitiative_target: 431\n"
        "individual_titles: [good_worker]\nsplit_target: roster\n",
        encoding="utf-8",
    )
    async with store.begin() as repos:
        first = await create_draft(repos, None, load_spec(table, today), "test", NOW, today)
        second = await create_draft(repos, None, load_spec(inline, today), "test", NOW, today)
        assert isinstance(first, Campaign) and isinstance(second, Campaign)
        district, education = await repos.units.by_code("LDLD-HQ"), await repos.units.by_code("CDN-GD")
        assert district is not None and education is not None
        assert await repos.campaigns.unit_targets(first.id) == {district.id: 120, education.id: 311}
        # By roster: two members in the district, two in education.
        split = await repos.campaigns.unit_targets(second.id)
        assert sum(split.values()) == 431 and set(split) == {district.id, education.id}


@pytest.mark.parametrize(
    ("extra", "key", "params"),
    [
        ("unit_targets = {NOPE = 5}", "problem.unit_unknown", {"code": "NOPE"}),
        (
            "unit_targets = {LDLD-HQ = -5}",
            "problem.unit_target_range",
            {"unit": "LDLD-HQ", "high": TARGET_MAX},
        ),
        ('split_target = "size"', "problem.split_unknown", {"how": "size"}),
    ],
)
async def test_bad_targets_in_a_file_are_problems_and_create_nothing(
    store: Store, tmp_path: Path, extra: str, key: str, params: dict[str, object]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(TOML + extra + "\n", encoding="utf-8")
    async with store.begin() as repos:
        result = await create_draft(repos, None, load_spec(path, NOW.date()), "test", NOW, NOW.date())
        assert isinstance(result, list) and [(p.code, p.params) for p in result] == [
            (key.split(".")[1], params)
        ]
        assert await repos.campaigns.by_code("SK-2027") is None


async def test_a_unit_outside_the_subtree_is_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "outside.toml"
    path.write_text(TOML.replace('unit = "LDLD-CB"', 'unit = "LDLD-HQ"') + "unit_targets = {CDN-GD = 5}\n")
    async with store.begin() as repos:
        result = await create_draft(repos, None, load_spec(path, NOW.date()), "test", NOW, NOW.date())
    assert isinstance(result, list) and [p.code for p in result] == ["unit_target_outside"]
    assert result[0].params == {"unit": EDUCATION, "owner": DISTRICT}


def test_targets_that_are_not_numbers_are_named(tmp_path: Path) -> None:
    path = tmp_path / "words.toml"
    path.write_text(TOML + 'unit_targets = {LDLD-HQ = "many"}\n', encoding="utf-8")
    with pytest.raises(CampaignFileError, match="LDLD-HQ"):
        load_spec(path, NOW.date())


# --------------------------------------------------------------------------- item 2: leading and lagging


def figures(*rates: tuple[str, int, int]) -> CampaignFigures:
    """Figures with one unit below per (name, registered, roster)."""
    root = Unit(1, "ROOT", "Gốc", None, "/1/", 0)
    children = [
        UnitFigures(Unit(index, f"U{index}", name, 1, f"/1/{index}/", 1), roster, roster, registered, 0, 0, 0)
        for index, (name, registered, roster) in enumerate(rates, start=2)
    ]
    campaign = Campaign(
        1,
        "C",
        "Chiến dịch",
        "",
        "ongoing",
        1,
        date(2026, 1, 1),
        date(2026, 12, 31),
        date(2026, 3, 1),
        None,
        None,
        (),
        (),
        "launched",
    )
    return CampaignFigures(campaign, UnitFigures(root, 0, 0, 0, 0, 0, 0), children, [])


def names(units: list[UnitFigures]) -> list[str]:
    return [f.unit.name for f in units]


def test_leading_and_lagging_never_share_a_unit() -> None:
    three = figures(("A", 5, 10), ("B", 0, 10), ("C", 0, 10)).standing(3)
    assert names(three.leading) == ["A"] and names(three.lagging) == ["C"]
    six = figures(*((name, rate, 10) for name, rate in zip("ABCDEF", (9, 7, 5, 3, 0, 0), strict=True)))
    standing = six.standing(3)
    assert names(standing.leading) == ["A", "B", "C"] and names(standing.lagging) == ["F", "E", "D"]
    zeros = figures(("A", 0, 10), ("B", 0, 10), ("C", 0, 10), ("D", 2, 10)).standing(3)
    assert names(zeros.leading) == ["D"] and "D" not in names(zeros.lagging)


def test_few_or_level_units_are_not_ranked() -> None:
    assert figures(("A", 3, 10)).standing(3).level
    assert figures(("A", 0, 10), ("B", 0, 10), ("C", 0, 5)).standing(3).level
    assert figures(("A", 1, 2), ("B", 5, 10)).standing(3).level


async def test_stats_report_and_workbook_name_different_units(people: People, store: Store) -> None:
    hung, mai = await campaign_running(people)
    await mai.send("/dangky LDG-2026")
    await mai.press("Lao động giỏi")
    await mai.press("Xong")
    await mai.send("Sáng kiến cải tiến; sáng kiến; 2")
    await mai.press("Xác nhận đăng ký")
    leading = t("insights.top", units=t("insights.rated_unit", unit=POWER, rate="100%"))
    lagging = t("insights.bottom", units=t("insights.rated_unit", unit=HEALTH, rate="0%"))
    await hung.send("/thongke LDG-2026")
    assert leading in hung.last.plain_text and lagging in hung.last.plain_text
    await hung.send("/tongket LDG-2026")  # plain text for a written report: the same lines without emoji
    report_text = hung.last_text
    assert leading.split(" ", 1)[1] in report_text and lagging.split(" ", 1)[1] in report_text
    await hung.send("/baocao LDG-2026")
    workbook = attached(hung.last)
    if not sends_files(hung):
        return  # no workbook where no files go out (tests/test_insights.py checks what is said instead)
    assert workbook is not None
    book = openpyxl.load_workbook(io.BytesIO(workbook.content))
    report = "\n".join(str(row[0]) for row in book.worksheets[-1].iter_rows(values_only=True) if row[0])
    assert leading.split(" ", 1)[1] in report and lagging.split(" ", 1)[1] in report  # as /tongket words it


async def test_level_units_are_said_to_be_level(people: People, store: Store) -> None:
    hung, _ = await campaign_running(people)  # nobody registered: both base unions at 0%
    await hung.send("/thongke LDG-2026")
    words = hung.last.plain_text
    assert t("insights.units_level", count=2, rate="0%") in words
    assert t("insights.top", units="").rstrip() not in words
    await hung.send("/baocao LDG-2026")
    workbook = attached(hung.last)
    if not sends_files(hung):
        return  # no workbook where no files go out (tests/test_insights.py checks what is said instead)
    assert workbook is not None
    book = openpyxl.load_workbook(io.BytesIO(workbook.content))
    units = list(book.worksheets[1].iter_rows(values_only=True))
    headers = list(units[0])
    assert t("export.target") in headers and t("export.target_rate") in headers


def test_percentages_below_one_show_one_decimal() -> None:
    assert formatting.percent(1, 431) == "0,2%" and formatting.percent(1, 431, "en") == "0.2%"
    assert formatting.percent(5, 431) == "1%" and formatting.percent(4, 401) == "1%"  # 0,998% reads as 1%
    assert formatting.percent(1709, 431) == "397%" and formatting.percent(0, 431) == "0%"
    assert formatting.percent(1, 10_000) == "<0,1%" and formatting.percent(3, 0) == "—"
