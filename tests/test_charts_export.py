"""The /stats chart and the XLSX workbook, rendered from figures built by hand (no database, no network),
and a district officer's real export of a province-wide campaign, scoped to the district."""

from __future__ import annotations

import io
import logging
import os
import struct
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from matplotlib.axes import Axes
from openpyxl.worksheet.worksheet import Worksheet

from bot.domain.insights import (
    CampaignFigures,
    DeliveryRow,
    ExportData,
    InitiativeRow,
    RegistrationRow,
    UnitFigures,
)
from bot.reports import export_xlsx, xlsx_native
from bot.reports.charts import (
    MAX_ROWS,
    ChartData,
    ChartUnit,
    chart_data,
    chart_figure,
    short_name,
    stats_chart,
)
from bot.reports.export_xlsx import build_workbook
from messages import plain, text
from storage.database import Store
from storage.records import Campaign, ReviewStep, Unit
from tests.conftest import ADMIN_ID
from tests.helpers.campaigns import stored_draft
from tests.helpers.chat import Chat
from tests.helpers.flows import linked
from tests.helpers.roster import HOA, HUNG, MAI

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
PNG = b"\x89PNG\r\n\x1a\n"
AT = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)  # 08:30 in Hà Nội

DISTRICT = Unit(2, "LDLD-HQ", "Liên đoàn Lao động huyện Hà Quảng", 1, "/1/2/", 1)
POWER = Unit(4, "CDCS-DL", "Công đoàn cơ sở Điện lực Hà Quảng", 2, "/1/2/4/", 2)
HEALTH = Unit(5, "CDCS-YT", "Công đoàn cơ sở Trung tâm Y tế huyện Hà Quảng", 2, "/1/2/5/", 2)
CAMPAIGN = Campaign(
    id=1,
    code="LDG-2026",
    title="Lao động giỏi, lao động sáng tạo 2026",
    description="",
    kind="ongoing",
    unit_id=2,
    starts_on=date(2026, 3, 1),
    ends_on=date(2026, 11, 30),
    registration_deadline=date(2026, 3, 31),
    initiative_deadline=None,
    initiative_target=431,
    individual_titles=("good_worker",),
    collective_titles=(),
    status="launched",
)


def figures(children: int = 2) -> CampaignFigures:
    """The district with Điện lực and Y tế below it (or many made-up units), and a few days of submissions."""
    units = [UnitFigures(POWER, 120, 100, 96, 1709, 900, 310), UnitFigures(HEALTH, 80, 40, 12, 3, 1, 0)]
    units += [
        UnitFigures(
            Unit(10 + n, f"U{n}", f"Công đoàn cơ sở số {n}", 2, f"/1/2/{10 + n}/", 2), 50, 30, n, n, 0, 0
        )
        for n in range(children - 2)
    ]
    scope = UnitFigures(DISTRICT, 200 + 50 * (children - 2), 140, 108, 1712, 901, 310, target=431)
    daily = [(date(2026, 3, 1) + timedelta(days=n), n * 3) for n in range(20)]
    return CampaignFigures(CAMPAIGN, scope, units, daily)


SCORES = {"novelty": 8, "applicability": 9, "effect": 9}


def export_data() -> ExportData:
    registration = RegistrationRow(
        unit_name=POWER.name, member_code="DV001", full_name="Hoàng Thị Mai", phone="0912345678",
        titles=["good_worker", "creative_worker"],
        pledges=[("Sáng kiến cải tiến", "sáng kiến", "2"), ("Năng suất lao động", "%", "110")],
        initiative_title="Đọc công tơ từ xa", status="active", updated_at=AT,
    )  # fmt: skip
    collective = RegistrationRow(HEALTH.name, None, None, None, ["strong_union"], [], None, "withdrawn", AT)
    initiative = InitiativeRow(
        id=7, unit_name=POWER.name, author_code="DV001", author_name="Hoàng Thị Mai", author_share=70,
        coauthors=[("Nguyễn Văn Bình", 20), ("Lê Thị Thu", 10)], title="Đọc công tơ từ xa", field="Kỹ thuật",
        problem="Ghi chỉ số mất nhiều công\x07", before="Đi từng nhà", steps="1. Lắp module\n2. Cài phần mềm",
        improvement="Nhanh gấp 10 lần", first_applied_on=date(2026, 3, 15), conditions="Có sóng 4G",
        benefit="Tiết kiệm công <đáng kể> & chi phí", value_dong=80_000_000, status="recognised",
        scores=SCORES, submitted_at=AT,
        history=[
            ReviewStep(AT, "telegram:1001", "moved", "submitted", "", None),
            ReviewStep(AT + timedelta(days=3, hours=2), "telegram:1002", "moved", "valid", "", None),
            ReviewStep(AT + timedelta(days=5), "telegram:1002", "scored", "valid", "", SCORES),
            ReviewStep(AT + timedelta(days=10), "telegram:1002", "moved", "recognised", "Xuất sắc", None),
        ],
    )  # fmt: skip
    delivery = DeliveryRow("announcement", "Phát động LDG-2026", AT, 200, 180, 15, 3, 2)
    return ExportData(figures(), [registration, collective], [initiative], [delivery], generated_at=AT)


def workbook(language: str = "vi", report_lines: list[str] | None = None) -> openpyxl.Workbook:
    content = build_workbook(export_data(), language, VIETNAM, report_lines)
    return openpyxl.load_workbook(io.BytesIO(content))


def row(sheet: Worksheet, number: int) -> dict[str, object]:
    """A row's values by the header above them."""
    headers = [cell.value for cell in sheet[1]]
    return {str(header): cell.value for header, cell in zip(headers, sheet[number], strict=True)}


def png_size(content: bytes) -> tuple[int, int]:
    assert content.startswith(PNG) and content[12:16] == b"IHDR"
    width, height = struct.unpack(">II", content[16:24])
    return width, height


def chart_text(key: str, language: str = "vi", **params: object) -> str:
    return plain(text(language, key, **params))


def panels(data: ChartData, language: str = "vi") -> tuple[Axes, Axes, Axes]:
    """The registration, initiatives and progress panels, top to bottom."""
    registration, initiatives, progress = chart_figure(data, language).axes
    return registration, initiatives, progress


def labels(ax: Axes) -> list[str]:
    return [label.get_text() for label in ax.get_yticklabels()]


def texts(ax: Axes) -> list[str]:
    return [shown.get_text() for shown in ax.texts]


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_chart_is_a_png_800_px_wide_for_a_phone(language: str) -> None:
    content = stats_chart(figures(), language)
    width, height = png_size(content)
    assert width == 800 and 800 <= height <= 1400
    assert len(content) > 20_000


def test_registration_bars_are_labelled_sorted_by_rate_with_the_value_at_the_end() -> None:
    registration, _, _ = panels(chart_data(figures()))
    assert labels(registration) == ["CĐCS Điện lực", "CĐCS Trung tâm Y tế"]  # top to bottom
    widths = [bar.get_width() for bar in registration.patches]
    assert widths == [pytest.approx(80.0), pytest.approx(15.0)]
    assert texts(registration) == ["80% (96/120)", "15% (12/80)"]
    total = chart_text("chart.registration_total", registered="108", roster="200", percent="54%")
    assert total in registration.get_title(loc="left")


def test_initiative_bars_are_sorted_by_submissions_and_nest_valid_and_recognised() -> None:
    data = chart_data(figures(children=4))  # Điện lực 1709, Y tế 3, số 0 and số 1 with 0 and 1
    _, initiatives, _ = panels(data)
    assert labels(initiatives) == ["CĐCS Điện lực", "CĐCS Trung tâm Y tế", "CĐCS số 1", "CĐCS số 0"]
    submitted, valid, recognised = (
        [bar.get_width() for bar in container] for container in initiatives.containers
    )
    assert submitted == [1709, 3, 1, 0] and valid == [900, 1, 0, 0] and recognised == [310, 0, 0, 0]
    assert texts(initiatives) == ["1.709", "3", "1", "0"]
    legend = initiatives.get_legend()
    assert legend is not None
    assert [entry.get_text() for entry in legend.get_texts()] == [
        chart_text("chart.submitted"),
        chart_text("chart.valid"),
        chart_text("chart.recognised"),
    ]


def test_submissions_add_up_day_by_day_against_the_target_of_the_scope() -> None:
    data = chart_data(figures())
    _, _, progress = panels(data)
    cumulative, _last, target = progress.get_lines()
    assert list(cumulative.get_ydata()) == [sum(3 * n for n in range(day + 1)) for day in range(20)]
    assert list(target.get_ydata()) == [431, 431]
    assert texts(progress) == [chart_text("chart.target_line", target="431"), "570/431 (132%)"]
    # Far below its target, the line would flatten the submissions: the target is named, not drawn.
    behind = replace(data, target=10_000)
    _, _, progress = panels(behind)
    assert len(progress.get_lines()) == 2 and progress.get_ylim()[1] < 1_000
    assert texts(progress) == [chart_text("chart.target_above", target="10.000"), "570/10.000 (6%)"]
    no_target = replace(
        data, target=None, daily_submissions=[(date(2026, 3, 1), 1500), (date(2026, 3, 2), 212)]
    )
    _, _, progress = panels(no_target, "en")
    assert len(progress.get_lines()) == 2 and texts(progress) == ["1,712"]


def test_a_long_title_stays_inside_the_picture_and_a_single_day_has_one_date() -> None:
    # Seen on Zalo: «Tháng Công nhân năm 2027» of a district federation ran past both edges, and a campaign
    # not started yet showed its start date five times under the line.
    district = UnitFigures(
        Unit(2, "LDLD-BAOLAC", "Liên đoàn Lao động huyện Bảo Lạc", 1, "/1/2/", 1), 11, 1, 1, 1, 1, 0
    )
    campaign = replace(CAMPAIGN, title="Tháng Công nhân năm 2027", starts_on=date(2027, 5, 1))
    data = chart_data(CampaignFigures(campaign, district, [], [(date(2027, 5, 1), 1)]))
    figure = chart_figure(data, "vi")
    figure.canvas.draw()
    title = figure.get_suptitle()
    shown = next(text for text in figure.texts if text.get_text() == title).get_window_extent()
    assert shown.x0 >= 0 and shown.x1 <= figure.bbox.x1
    progress = figure.axes[2]
    assert [label.get_text() for label in progress.get_xticklabels()] == ["01/05"]


def test_panels_without_data_say_so_instead_of_drawing_an_empty_axis() -> None:
    nobody = [ChartUnit(POWER.name, 40, 0, 0, 0, 0), ChartUnit(HEALTH.name, 50, 0, 0, 0, 0)]
    data = replace(chart_data(figures()), units=nobody, daily_submissions=[])
    registration, initiatives, progress = panels(data)
    for ax, key in (
        (registration, "chart.no_registrations"),
        (initiatives, "chart.no_initiatives"),
        (progress, "chart.no_data"),
    ):
        assert texts(ax) == [chart_text(key)] and not ax.axison and not ax.patches
    assert (
        png_size(stats_chart(CampaignFigures(CAMPAIGN, UnitFigures(POWER, 0, 0, 0, 0, 0, 0), [], []), "vi"))[
            0
        ]
        == 800
    )


def test_many_units_show_the_best_and_the_worst_and_say_how_many_are_left_out() -> None:
    registration, initiatives, _ = panels(chart_data(figures(children=40)))
    shown = labels(registration)
    assert len(shown) == MAX_ROWS and shown[0] == "CĐCS Điện lực" and shown[-1] == "CĐCS số 0"
    assert chart_text("chart.others", count="29") in shown
    assert len(labels(initiatives)) == MAX_ROWS


def test_unit_names_are_shortened_sensibly_for_a_label() -> None:
    assert short_name("Công đoàn cơ sở Trung tâm Y tế huyện Hà Quảng", "Hà Quảng") == "CĐCS Trung tâm Y tế"
    assert short_name("Liên đoàn Lao động huyện Bảo Lạc", "Cao Bằng") == "LĐLĐ huyện Bảo Lạc"
    assert short_name("Công đoàn cơ sở Hà Quảng", "Hà Quảng") == "CĐCS Hà Quảng"  # nothing would be left
    long = short_name("Công đoàn cơ sở Công ty Cổ phần Xi măng và Khoáng sản Cao Bằng chi nhánh Hòa An")
    assert len(long.splitlines()) == 2 and long.endswith("…")


WRITERS = ("libxlsxwriter", "xlsxwriter")


@pytest.fixture(params=WRITERS)
def writer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The workbook's writer: libxlsxwriter by ctypes, or XlsxWriter (where the C library is missing)."""
    use(request.param, monkeypatch)
    return str(request.param)


def use(writer: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Write workbooks with ``writer`` from now on (a forked writer inherits it)."""
    if writer == "xlsxwriter":
        monkeypatch.setattr(xlsx_native, "library", lambda: None)
    elif xlsx_native.library() is None:
        pytest.skip("libxlsxwriter is not installed here (apt-get install libxlsxwriter4)")


@pytest.mark.usefixtures("writer")
def test_the_workbook_has_its_sheets_frozen_filtered_and_sized() -> None:
    book = workbook()
    assert book.sheetnames == [
        "Tổng hợp",
        "Đơn vị",
        "Đăng ký thi đua",
        "Sáng kiến",
        "Gửi thông báo",
        "Danh hiệu thi đua",
        "Khen thưởng",
        "Đề nghị khen thưởng",
        "In giấy khen, bằng khen",
    ]
    for sheet in book:
        assert sheet.freeze_panes == "A2"
        assert all(cell.font.b for cell in sheet[1] if cell.value is not None)
        last_row = sheet.max_row - (
            1 if sheet.title in ("Đơn vị", "Khen thưởng") else 0
        )  # the total row stays below the filter
        assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}{last_row}"
        widths = [sheet.column_dimensions[cell.column_letter].width for cell in sheet[1]]
        assert all(8 <= width <= 60 for width in widths)
    assert book["Sáng kiến"].auto_filter.ref == "A1:W2"
    assert book["Đơn vị"].auto_filter.ref == "A1:K3"  # with each unit's own target and the share of it


@pytest.mark.usefixtures("writer")
def test_the_summary_gives_totals_as_text_and_as_numbers() -> None:
    sheet = workbook()["Tổng hợp"]
    rows = {row[0]: row[1:] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["Phong trào"][0] == "Lao động giỏi, lao động sáng tạo 2026"
    assert rows["Đơn vị báo cáo"][0] == "Liên đoàn Lao động huyện Hà Quảng"
    assert rows["Sáng kiến đã nộp"] == ("1.712/431 (397%)", 1712, 431, pytest.approx(1712 / 431))
    assert rows["Đã đăng ký thi đua"][:3] == ("108/200 (54%)", 108, 200)
    assert rows["Ngày bắt đầu"][0] == datetime(2026, 3, 1)
    assert rows["Số liệu tính đến"][0] == datetime(2026, 3, 2, 8, 30)
    assert rows["Giá trị làm lợi của sáng kiến được công nhận"][0] == 80_000_000
    money = next(r[1] for r in sheet.iter_rows(min_row=2) if r[0].value.startswith("Giá trị làm lợi"))
    assert money.number_format == '#,##0 "đ"'
    rate = next(r[4] for r in sheet.iter_rows(min_row=2) if r[0].value == "Sáng kiến đã nộp")
    assert rate.number_format == "0%"  # 397%, as the chat says it: each rate carries its own format


@pytest.mark.usefixtures("writer")
def test_units_rows_and_the_total_below() -> None:
    sheet = workbook()["Đơn vị"]
    power = row(sheet, 2)
    assert power["Đơn vị"] == POWER.name and power["Số đoàn viên"] == 120
    assert power["Tỷ lệ đăng ký"] == pytest.approx(0.8) and sheet["F2"].number_format == "0%"
    assert power["Sáng kiến được công nhận"] == 310
    assert row(sheet, 4)["Đơn vị"] == "Toàn Liên đoàn Lao động huyện Hà Quảng"
    assert sheet["A4"].font.b


@pytest.mark.usefixtures("writer")
def test_a_registration_row_names_titles_and_joins_pledges() -> None:
    sheet = workbook()["Đăng ký thi đua"]
    mai, collective = row(sheet, 2), row(sheet, 3)
    assert mai["Họ và tên"] == "Hoàng Thị Mai" and mai["Số điện thoại"] == "0912 345 678"
    assert mai["Danh hiệu đăng ký"] == "Lao động giỏi\nLao động sáng tạo"
    assert mai["Chỉ tiêu đăng ký"] == "Sáng kiến cải tiến — 2 sáng kiến\nNăng suất lao động — 110 %"
    assert mai["Trạng thái"] == "đã đăng ký"
    assert mai["Cập nhật lúc"] == datetime(2026, 3, 2, 8, 30)
    assert sheet["I2"].number_format == "dd/mm/yyyy hh:mm"
    assert sheet["F2"].alignment.wrap_text
    assert collective["Họ và tên"] == "(tập thể)" and collective["Trạng thái"] == "đã rút đăng ký"
    assert collective["Danh hiệu đăng ký"] == "Công đoàn cơ sở vững mạnh"


@pytest.mark.usefixtures("writer")
def test_an_initiative_row_holds_co_authors_scores_and_history() -> None:
    sheet = workbook()["Sáng kiến"]
    initiative = row(sheet, 2)
    assert initiative["Số hiệu"] == 7 and initiative["Tác giả"] == "Hoàng Thị Mai"
    assert initiative["Tỷ lệ đóng góp của tác giả"] == pytest.approx(0.7)
    assert initiative["Đồng tác giả"] == "Nguyễn Văn Bình (20%)\nLê Thị Thu (10%)"
    assert initiative["Lợi ích"] == "Tiết kiệm công <đáng kể> & chi phí"
    assert initiative["Vấn đề giải quyết"] == "Ghi chỉ số mất nhiều công"  # the control code XML cannot carry
    assert initiative["Các bước thực hiện"] == "1. Lắp module\n2. Cài phần mềm"
    assert (initiative["Tính mới"], initiative["Khả năng áp dụng"], initiative["Hiệu quả"]) == (8, 9, 9)
    assert initiative["Tổng điểm"] == 26
    assert initiative["Trạng thái"] == "được công nhận"
    scored = text("vi", "initiative.history_scored", scores="8/9/9", total=26).removeprefix("🧮 ")
    assert initiative["Quá trình xét duyệt"] == (
        "08:30 ngày 02/03/2026 — đã nộp, chờ xét\n"
        "10:30 ngày 05/03/2026 — hợp lệ, đang xét\n"
        f"08:30 ngày 07/03/2026 — {scored}\n"
        "08:30 ngày 12/03/2026 — được công nhận — Xuất sắc"
    )
    cells = {cell.value: cell for cell in sheet[1]}
    column = {str(name): cell.column_letter for name, cell in cells.items()}
    first_applied = sheet[f"{column['Ngày áp dụng lần đầu']}2"]
    assert isinstance(first_applied.value, datetime) and first_applied.value.date() == date(2026, 3, 15)
    assert first_applied.number_format == "dd/mm/yyyy"
    value = sheet[f"{column['Giá trị làm lợi']}2"]
    assert value.value == 80_000_000 and value.number_format == '#,##0 "đ"'
    submitted = sheet[f"{column['Nộp lúc']}2"]
    assert submitted.value == datetime(2026, 3, 2, 8, 30) and submitted.number_format == "dd/mm/yyyy hh:mm"


@pytest.mark.usefixtures("writer")
def test_deliveries_and_the_report_sheet_when_asked_for() -> None:
    book = workbook(report_lines=["SƠ KẾT PHONG TRÀO\nLiên đoàn Lao động huyện Hà Quảng", "💰 80.000.000 đ"])
    delivery = row(book["Gửi thông báo"], 2)
    assert delivery["Loại"] == "Thông báo phát động" and delivery["Đã gửi"] == 180
    assert delivery["Tỷ lệ đã gửi"] == pytest.approx(0.9)
    assert book.sheetnames[-1] == "Báo cáo"
    lines = [value for (value,) in book["Báo cáo"].iter_rows(min_row=2, values_only=True)]
    assert lines == ["SƠ KẾT PHONG TRÀO", "Liên đoàn Lao động huyện Hà Quảng", None, "💰 80.000.000 đ"]


@pytest.mark.usefixtures("writer")
def test_each_column_is_as_wide_as_its_longest_value_as_shown() -> None:
    """Numbers as shown with their separators, texts by their longest line (a wrapped column stops at 50,
    another at 60), dates as wide as a date: whatever the order the values come in."""
    data = export_data()
    model = data.initiatives[0]
    values = [(1_234_567, 999, "Dòng một\n" + "x" * 30), (5, 12_345_678_901, "ngắn"), (7, 50_000, "y" * 80)]
    initiatives = [
        replace(model, id=number, value_dong=value, problem=problem, field="z" * 70)
        for number, value, problem in values
    ]
    content = build_workbook(replace(data, initiatives=initiatives), "vi", VIETNAM, None)
    sheet = openpyxl.load_workbook(io.BytesIO(content))["Sáng kiến"]
    headers = [cell.value for cell in sheet[1]]
    _, _, widths = cast(tuple[object, object, dict[int, float]], cells(content)["Sáng kiến"])

    def width(header: str) -> int:
        return int(widths[headers.index(header) + 1])  # the file adds a fraction for the cell's padding

    assert width("Số hiệu") == len("1,234,567") + 4  # its digits, a margin each side
    assert width("Giá trị làm lợi") == len("12,345,678,901") + 4
    assert width("Vấn đề giải quyết") == 50  # wrapped: at most 50, a line of 80 wraps
    assert width("Lĩnh vực áp dụng") == 60
    assert width("Nộp lúc") == 19  # "dd/mm/yyyy hh:mm" and its margin


@pytest.mark.usefixtures("writer")
def test_the_same_data_makes_the_same_file_whenever_it_is_built() -> None:
    # The file's date is the data's, not the wall clock's: an /export built again (as the split by units
    # does to compare sizes) is byte for byte the same, and the workbook says when its figures were taken.
    first = build_workbook(export_data(), "vi", VIETNAM)
    time.sleep(1.1)  # the wall clock's second moves on
    assert build_workbook(export_data(), "vi", VIETNAM) == first
    assert openpyxl.load_workbook(io.BytesIO(first)).properties.created == AT.replace(tzinfo=None)


@pytest.mark.usefixtures("writer")
def test_the_workbook_reads_its_rows_once_as_they_come() -> None:
    """A cursor's rows can be written without holding them all: one-pass iterators give the same workbook."""
    data = export_data()
    streamed = replace(
        data,
        registrations=iter(data.registrations),
        initiatives=iter(data.initiatives),
        deliveries=iter(data.deliveries),
    )
    books = [openpyxl.load_workbook(io.BytesIO(build_workbook(d, "vi", VIETNAM))) for d in (data, streamed)]
    listed, read_once = ([list(sheet.iter_rows(values_only=True)) for sheet in book] for book in books)
    assert read_once == listed
    summary = {item: value for item, value, *_ in books[1]["Tổng hợp"].iter_rows(min_row=2, values_only=True)}
    assert summary["Giá trị làm lợi của sáng kiến được công nhận"] == 80_000_000
    assert books[1]["Sáng kiến"].auto_filter.ref == "A1:W2"


def many_rows(count: int = 1_200) -> ExportData:
    """export_data() with ``count`` registrations: more than one batch on their way to the writer."""
    data = export_data()
    member = data.registrations[0]
    registrations = [replace(member, member_code=f"DV{n:04}", phone=f"+8491{n:07}") for n in range(count)]
    return replace(data, registrations=registrations)


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The process ids of the writers forked from now on."""
    forked: list[int] = []
    fork = os.fork

    def counted() -> int:
        pid = fork()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counted)
    return forked


@pytest.mark.usefixtures("writer")
def test_a_workbook_written_apart_is_the_one_written_here(
    monkeypatch: pytest.MonkeyPatch, forks: list[int]
) -> None:
    """The rows are worded here and written by a forked writer: the same bytes as both done here in turn."""
    monkeypatch.setattr(export_xlsx, "_can_fork", lambda: True)  # whatever threads earlier tests left idle
    apart = build_workbook(many_rows(), "vi", VIETNAM)
    monkeypatch.setattr(export_xlsx, "_can_fork", lambda: False)
    assert build_workbook(many_rows(), "vi", VIETNAM) == apart
    assert len(forks) == 1
    sheet = openpyxl.load_workbook(io.BytesIO(apart))["Đăng ký thi đua"]
    assert sheet.max_row == 1_201 and sheet.auto_filter.ref == "A1:I1201"
    assert row(sheet, 1_201)["Số điện thoại"] == "0910 001 199"


def test_a_writer_that_fails_fails_the_workbook(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """An export whose writer died is an error (the officer is told, tests/test_export_child.py), never a
    file cut short; the writer's traceback is on standard error."""

    def broken(events: object) -> bytes:
        raise OSError("disk full")

    monkeypatch.setattr(export_xlsx, "_write", broken)
    monkeypatch.setattr(export_xlsx, "_can_fork", lambda: True)
    with pytest.raises(RuntimeError, match="writer failed"):
        build_workbook(many_rows(), "vi", VIETNAM)
    assert "OSError: disk full" in capfd.readouterr().err


def test_a_writer_that_fails_before_reading_a_small_workbook_fails_it(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """All of a small workbook's rows fit in the pipe at once: its writer, gone with them unread, reset the
    connection, and that escaped as a ConnectionResetError instead of the writer's failure (within a few
    tries: it depends on which side is quicker)."""

    def broken(events: object) -> bytes:
        raise OSError("disk full")

    monkeypatch.setattr(export_xlsx, "_write", broken)
    monkeypatch.setattr(export_xlsx, "_can_fork", lambda: True)
    for _ in range(20):
        with pytest.raises(RuntimeError, match="writer failed"):
            build_workbook(export_data(), "vi", VIETNAM)
    assert "OSError: disk full" in capfd.readouterr().err


def test_rows_that_fail_leave_no_writer_behind(monkeypatch: pytest.MonkeyPatch, forks: list[int]) -> None:
    """A cursor that fails half-way (the database gone) fails the workbook, and the writer is ended."""

    def rows() -> Iterator[RegistrationRow]:
        yield from many_rows(700).registrations
        raise ConnectionError("the database went away")

    monkeypatch.setattr(export_xlsx, "_can_fork", lambda: True)
    with pytest.raises(ConnectionError):
        build_workbook(replace(export_data(), registrations=rows()), "vi", VIETNAM)
    with pytest.raises(ChildProcessError):  # already waited for: none left behind, not even a zombie
        os.waitpid(forks[0], os.WNOHANG)


@pytest.mark.usefixtures("writer")
def test_rows_that_fail_where_the_workbook_is_written_leave_no_file_behind(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Written in this process (no fork: the CLI, a thread), a workbook whose rows fail is given up."""

    def rows() -> Iterator[RegistrationRow]:
        yield from many_rows(700).registrations
        raise ConnectionError("the database went away")

    monkeypatch.setattr(export_xlsx, "_can_fork", lambda: False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(ConnectionError):
        build_workbook(replace(export_data(), registrations=rows()), "vi", VIETNAM)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.usefixtures("writer")
def test_english_headers_and_sheet_names() -> None:
    book = workbook("en")
    assert book.sheetnames == [
        "Summary",
        "Units",
        "Registrations",
        "Initiatives",
        "Deliveries",
        "Emulation titles",
        "Commendations",
        "Commendation proposals",
        "Certificates",
    ]
    headers = [cell.value for cell in book["Initiatives"][1]]
    assert headers[:4] == ["No.", "Unit", "Author's member code", "Author"]
    assert "Novelty" in headers and "Review history" in headers
    assert row(book["Registrations"], 2)["Status"] == "registered"
    summary = {item: value for item, value, *_ in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["Initiatives submitted"] == "1,712/431 (397%)"


def realistic_data() -> ExportData:
    """A district's export with the variety of real rows: collectives, missing phones and scores, long and
    multi-line texts that wrap, control codes, what Excel reads as escapes ("_x0041_"), leading spaces,
    emoji, every status, dates and money."""
    data = many_rows(1_300)
    registrations = [
        replace(
            member,
            full_name=None if n % 17 == 0 else f"  Nguyễn Văn {n} 👷" if n % 5 == 0 else member.full_name,
            phone=None if n % 7 == 0 else member.phone,
            pledges=member.pledges * (n % 4),
            initiative_title=None if n % 3 else "Cải tiến quy trình " * (n % 6 + 1),
            status=("active", "withdrawn")[n % 2],
            updated_at=AT + timedelta(minutes=37 * n, microseconds=n),
        )
        for n, member in enumerate(data.registrations)
    ]
    model = data.initiatives[0]
    statuses = ("draft", "submitted", "valid", "invalid", "revise", "recognised", "not_recognised")
    initiatives = [
        replace(
            model,
            id=n,
            title=f"Sáng kiến số {n}\x0b" + "x" * (n % 90) + ("" if n % 11 else " _x0041_ \ufffe\r"),
            problem="" if n % 4 == 0 else "Dòng một\nDòng hai" * (n % 3),
            value_dong=None if n % 6 == 0 else 1_500_000 * n,
            status=statuses[n % len(statuses)],
            scores={} if n % 5 else SCORES,
            first_applied_on=None if n % 8 == 0 else date(2026, 1, 1) + timedelta(days=n % 300),
            submitted_at=None if n % 9 == 0 else AT - timedelta(days=n),
            author_share=(n % 100) + 1,
            coauthors=model.coauthors[: n % 3],
            history=model.history[: n % 5],
        )
        for n in range(700)
    ]
    deliveries = [replace(data.deliveries[0], total=n, sent=n // 2) for n in range(40)]
    return replace(data, registrations=registrations, initiatives=initiatives, deliveries=deliveries)


def cells(content: bytes) -> dict[str, object]:
    """What openpyxl reads of a workbook: each sheet's frozen panes, filter, each column's width and every
    cell's value, type, number format, boldness and alignment; and the workbook's date."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    read: dict[str, object] = {"sheets": book.sheetnames, "created": book.properties.created}
    for sheet in book:
        widths = {
            column: dimension.width
            for dimension in sheet.column_dimensions.values()
            for column in range(dimension.min or 0, (dimension.max or -1) + 1)
        }  # XlsxWriter gives neighbours of one width one entry, libxlsxwriter one each
        read[sheet.title] = (sheet.freeze_panes, sheet.auto_filter.ref, widths)
        for line in sheet.iter_rows():
            for cell in line:
                alignment = (cell.alignment.wrap_text, cell.alignment.vertical)
                read[f"{sheet.title}!{cell.coordinate}"] = (
                    cell.value,
                    cell.data_type,
                    cell.number_format,
                    cell.font.b,
                    alignment,
                )
    return read


def test_libxlsxwriter_writes_the_workbook_xlsxwriter_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The C library's workbook reads, cell by cell and format by format, as XlsxWriter's."""
    lines = ["SƠ KẾT PHONG TRÀO\nLiên đoàn Lao động huyện Hà Quảng", "💰 80.000.000 đ"]
    use("libxlsxwriter", monkeypatch)
    native = build_workbook(realistic_data(), "vi", VIETNAM, lines)
    use("xlsxwriter", monkeypatch)
    python = build_workbook(realistic_data(), "vi", VIETNAM, lines)
    assert native != python  # two writers indeed
    native_cells, python_cells = cells(native), cells(python)
    assert len(native_cells) > 25_000
    assert native_cells == python_cells


@pytest.fixture
def no_library(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """libxlsxwriter looked for again, and not found."""
    xlsx_native.library.cache_clear()
    monkeypatch.setattr(xlsx_native, "SONAME", "libxlsxwriter-not-here.so.4")
    monkeypatch.setattr(xlsx_native.ctypes.util, "find_library", lambda name: None)
    yield
    xlsx_native.library.cache_clear()


@pytest.mark.usefixtures("no_library")
def test_without_libxlsxwriter_xlsxwriter_writes_and_the_log_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.reports.xlsx_native")
    content = build_workbook(export_data(), "vi", VIETNAM)
    build_workbook(export_data(), "vi", VIETNAM)
    assert row(openpyxl.load_workbook(io.BytesIO(content))["Sáng kiến"], 2)["Tổng điểm"] == 26
    said = [r for r in caplog.records if r.name == "bot.reports.xlsx_native"]
    assert len(said) == 1 and said[0].levelno == logging.INFO and said[0].exc_info is None
    assert "apt-get install libxlsxwriter4" in said[0].getMessage()


def test_a_version_of_libxlsxwriter_not_known_here_is_not_used(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Its structures may differ from 1.1.4's: XlsxWriter writes instead."""
    if xlsx_native.library() is None:
        pytest.skip("libxlsxwriter is not installed here (apt-get install libxlsxwriter4)")
    caplog.set_level(logging.INFO, logger="bot.reports.xlsx_native")
    xlsx_native.library.cache_clear()
    monkeypatch.setattr(xlsx_native, "KNOWN_VERSIONS", frozenset({"9.9.9"}))
    try:
        assert xlsx_native.library() is None
    finally:
        xlsx_native.library.cache_clear()
    assert "libxlsxwriter 1.1.4 is not a version known here (9.9.9)" in caplog.text


@pytest.mark.sandbox
async def test_a_district_officers_export_of_a_province_campaign_holds_only_the_district(
    chat: Callable[..., Chat], store: Store
) -> None:
    await stored_draft(store, unit_code="LDLD-CB")  # TCN-2026, for the whole province
    hung = await linked(chat, HUNG)  # officer of the district LDLD-HQ
    mai, hoa = await linked(chat, MAI), await linked(chat, HOA)  # Hoa is in the sibling CDN-GD
    province = chat(ADMIN_ID, "Tỉnh", "Cán bộ")  # admins lead the province
    await province.send("/phatdong TCN-2026")
    await province.press("Phát động ngay")
    for member in (mai, hoa):
        await member.send("/dangky TCN-2026")
        await member.press("Lao động tiên tiến")
        await member.press("Xong")
        await member.send("Sáng kiến cải tiến; sáng kiến; 2")
        await member.press("Xác nhận đăng ký")
    await hung.send("/baocao TCN-2026")
    assert hung.last.kind == "document" and hung.last.file_bytes is not None
    book = openpyxl.load_workbook(io.BytesIO(hung.last.file_bytes))
    everything = "\n".join(
        str(value) for sheet in book for line in sheet.iter_rows(values_only=True) for value in line
    )
    assert "Hoàng Thị Mai" in everything
    assert "Lục Thị Hoa" not in everything and "DV003" not in everything and "THPT" not in everything
    # The announcement went to Mai, Hùng and Hoa; the district's sheet counts its own two.
    announcement = row(book[text("vi", "export.sheet_deliveries")], 2)
    assert announcement[text("vi", "export.recipients")] == 2
    assert announcement[text("vi", "export.sent")] == 2


@pytest.mark.sandbox
@pytest.mark.usefixtures("no_library")
async def test_the_bot_says_once_at_its_first_export_that_xlsxwriter_writes_its_workbooks(
    chat: Callable[..., Chat], store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.reports.xlsx_native")
    await stored_draft(store)  # TCN-2026 of the district Hùng leads
    hung = await linked(chat, HUNG)
    await hung.send("/phatdong TCN-2026")
    await hung.press("Phát động ngay")
    assert not [r for r in caplog.records if r.name == "bot.reports.xlsx_native"]  # not at start
    for _ in range(2):
        await hung.send("/baocao TCN-2026")
        assert hung.last.kind == "document"
    said = [r for r in caplog.records if r.name == "bot.reports.xlsx_native"]
    assert len(said) == 1 and said[0].levelno == logging.INFO and said[0].exc_info is None


@pytest.mark.usefixtures("writer")
def test_text_shaped_like_markup_or_past_a_cells_limit_once_escaped_is_written_as_typed() -> None:
    """A title typed as "<r>…</r>" is that text in its cell (XlsxWriter wrote it as rich-text markup), and a
    text that escaping makes longer than a cell holds is cut, not a failed workbook."""
    data = export_data()
    markup = "<r><t>Sáng kiến</t></r>"
    escapes = "_x0041_ " * 4_500  # 36,000 characters; each "_x0041_" grows by six once escaped
    initiative = replace(data.initiatives[0], title=markup, problem=escapes)
    content = build_workbook(replace(data, initiatives=[initiative]), "vi", VIETNAM, None)
    sheet = openpyxl.load_workbook(io.BytesIO(content))["Sáng kiến"]
    written = row(sheet, 2)
    assert written["Tên sáng kiến"] == markup
    problem = str(written["Vấn đề giải quyết"])
    assert problem.startswith("_x") and len(problem) <= export_xlsx.CELL_LIMIT
