"""bot.domain.vn.parsing: dates, money and shares as Vietnamese people type them; error codes for the rest."""

from __future__ import annotations

import calendar
import unicodedata
from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.vn.parsing import (
    MAX_MONEY,
    ParseError,
    means_none,
    parse_date,
    parse_money,
    parse_quantity,
    parse_share,
)
from messages import formatting

TODAY = date(2026, 11, 22)


# ---------------------------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("25/3/2026", date(2026, 3, 25)),
        ("25/03/2026", date(2026, 3, 25)),
        ("25-3-2026", date(2026, 3, 25)),
        ("25.3.2026", date(2026, 3, 25)),
        ("25/03/26", date(2026, 3, 25)),
        ("5/1/00", date(2000, 1, 5)),
        ("31/12/99", date(2099, 12, 31)),
        ("1/1/2000", date(2000, 1, 1)),
        ("31/12/2100", date(2100, 12, 31)),
        ("29/2/2028", date(2028, 2, 29)),
        ("2026-03-25", date(2026, 3, 25)),
        ("2026-3-5", date(2026, 3, 5)),
        ("  25/3/2026 ", date(2026, 3, 25)),
        ("25 / 3 / 2026", date(2026, 3, 25)),
        ("ngày 25/3/2026", date(2026, 3, 25)),
        ("Ngày 25/03/2026", date(2026, 3, 25)),
        ("NGÀY   2026-03-25", date(2026, 3, 25)),
        ("ngay 25/3/2026", date(2026, 3, 25)),
        # No year: the next such date on or after today (2026-11-22).
        ("25/3", date(2027, 3, 25)),
        ("25/03", date(2027, 3, 25)),
        ("25-3", date(2027, 3, 25)),
        ("25.3", date(2027, 3, 25)),
        ("22/11", date(2026, 11, 22)),
        ("21/11", date(2027, 11, 21)),
        ("23/11", date(2026, 11, 23)),
        ("31/12", date(2026, 12, 31)),
        ("1/1", date(2027, 1, 1)),
        ("ngày 25/3", date(2027, 3, 25)),
        ("29/2", date(2028, 2, 29)),
        # Words.
        ("hôm nay", TODAY),
        ("Hôm nay", TODAY),
        ("hom nay", TODAY),
        ("today", TODAY),
        ("TODAY", TODAY),
        ("ngày hôm nay", TODAY),
        ("ngày mai", date(2026, 11, 23)),
        ("Ngày mai", date(2026, 11, 23)),
        ("ngay mai", date(2026, 11, 23)),
        ("mai", date(2026, 11, 23)),
        ("Tomorrow", date(2026, 11, 23)),
        (" mai ", date(2026, 11, 23)),
    ],
)
def test_parse_date_accepts(text: str, expected: date) -> None:
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize(
    ("today", "text", "expected"),
    [
        # Around the end of the year.
        (date(2026, 12, 31), "31/12", date(2026, 12, 31)),
        (date(2026, 12, 31), "1/1", date(2027, 1, 1)),
        (date(2026, 12, 31), "30/12", date(2027, 12, 30)),
        (date(2027, 1, 1), "31/12", date(2027, 12, 31)),
        (date(2027, 1, 1), "1/1", date(2027, 1, 1)),
        (date(2026, 12, 31), "mai", date(2027, 1, 1)),
        (date(2028, 2, 28), "ngày mai", date(2028, 2, 29)),
        # 29 February: the next one that exists.
        (date(2028, 2, 29), "29/2", date(2028, 2, 29)),
        (date(2028, 2, 28), "29/2", date(2028, 2, 29)),
        (date(2028, 3, 1), "29/2", date(2032, 2, 29)),
        (date(2024, 3, 1), "29/02", date(2028, 2, 29)),
        (date(2027, 12, 31), "29/2", date(2028, 2, 29)),
        (date(2028, 3, 1), "28/2", date(2029, 2, 28)),
        (date(2028, 3, 1), "1/3", date(2028, 3, 1)),
    ],
)
def test_parse_date_without_year_is_the_next_such_date(today: date, text: str, expected: date) -> None:
    assert parse_date(text, today) == expected


@pytest.mark.parametrize(
    "text",
    [
        "31/4",
        "31/4/2026",
        "30/2",
        "29/2/2027",
        "29/2/2100",  # 2100 is not a leap year
        "31/06/26",
        "0/3/2026",
        "32/1",
        "25/13",
        "12/25/2026",  # month-first is not a Vietnamese date
        "2026-02-30",
        "2026-13-01",
    ],
)
def test_parse_date_not_exist(text: str) -> None:
    assert parse_date(text, TODAY) == ParseError("date.not_exist", {"text": text})


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "ngày",
        "abc",
        "25",
        "25/",
        "25/3/",
        "/3/2026",
        "25/3/2026/1",
        "25/3-2026",  # mixed separators
        "25 3 2026",
        "25/3/026",
        "25/3/20266",
        "25/3/1999",  # years outside 2000..2100
        "25/3/2101",
        "1999-03-25",
        "2026/03/25",
        "123/3",
        "25/123",
        "ngày kia",
        "hôm qua",
        "25 tháng 3",
        "mai mai",
        "25/3 ngày mai",
    ],
)
def test_parse_date_format(text: str) -> None:
    assert parse_date(text, TODAY) == ParseError("date.format", {"text": text.strip()})


def test_parse_date_error_quotes_the_text_stripped() -> None:
    assert parse_date("  31/4  ", TODAY) == ParseError("date.not_exist", {"text": "31/4"})


def test_parse_date_reads_decomposed_accents() -> None:
    assert parse_date(unicodedata.normalize("NFD", "Ngày mai"), TODAY) == date(2026, 11, 23)
    assert parse_date(unicodedata.normalize("NFD", "hôm nay"), TODAY) == TODAY


days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


@given(days, days)
def test_date_round_trip(value: date, today: date) -> None:
    assert parse_date(f"{value.day}/{value.month}/{value.year}", today) == value
    assert parse_date(formatting.day(value), today) == value
    assert parse_date(value.isoformat(), today) == value


@given(days, st.dates(min_value=date(2000, 1, 1), max_value=date(2095, 12, 31)))
def test_date_without_year_is_the_first_one_on_or_after_today(value: date, today: date) -> None:
    found = parse_date(f"{value.day}/{value.month}", today)
    assert isinstance(found, date)
    assert (found.day, found.month) == (value.day, value.month)
    assert today <= found < today + timedelta(days=366 * 8)
    for year in range(today.year, found.year):  # nothing earlier qualifies
        if (value.day, value.month) != (29, 2) or calendar.isleap(year):
            assert date(year, value.month, value.day) < today


# ---------------------------------------------------------------------------------------------- money


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("80 triệu", 80_000_000),
        ("80 trieu", 80_000_000),
        ("80tr", 80_000_000),
        ("80 tr", 80_000_000),
        ("80TR", 80_000_000),
        ("80.000.000", 80_000_000),
        ("80,000,000", 80_000_000),
        ("80000000", 80_000_000),
        ("80 000 000", 80_000_000),
        ("80\u00a0000\u00a0000", 80_000_000),
        ("1.500", 1_500),
        ("500,000", 500_000),
        ("1,5 tỷ", 1_500_000_000),
        ("1.5 tỷ", 1_500_000_000),
        ("1,5 ty", 1_500_000_000),
        ("1,5 Tỷ", 1_500_000_000),
        ("2 tỉ", 2_000_000_000),
        ("2 ti", 2_000_000_000),
        ("0,25 tỷ", 250_000_000),
        ("1,2345 tỷ", 1_234_500_000),
        ("500k", 500_000),
        ("500K", 500_000),
        ("1,5k", 1_500),
        ("500 nghìn", 500_000),
        ("500 nghin", 500_000),
        ("500 ngàn", 500_000),
        ("500 ngan", 500_000),
        ("1 triệu 200 nghìn", 1_200_000),
        ("1 tỷ 500 triệu", 1_500_000_000),
        ("1tỷ500triệu", 1_500_000_000),
        ("2 tỷ 3 triệu 400 nghìn", 2_003_400_000),
        ("1 tỷ 500k", 1_000_500_000),
        ("1 tỷ 999 triệu", 1_999_000_000),
        ("1.500 triệu", 1_500_000_000),  # "." groups thousands, also before a unit
        ("1.500,5 triệu", 1_500_500_000),
        ("1,000,000.5 triệu", 1_000_000_500_000),
        ("80.000.000 đ", 80_000_000),
        ("80.000.000đ", 80_000_000),
        ("80 triệu đồng", 80_000_000),
        ("80 triệu dong", 80_000_000),
        ("80.000.000 VNĐ", 80_000_000),
        ("80.000.000 vnđ", 80_000_000),
        ("80.000.000 VND", 80_000_000),
        ("80.000.000 ₫", 80_000_000),
        ("500k Đồng", 500_000),
        ("  800 k  ", 800_000),
        (" 80 tr đ ", 80_000_000),
        ("0", 0),
        ("1.000.000 tỷ", MAX_MONEY),
    ],
)
def test_parse_money_accepts(text: str, expected: int) -> None:
    assert parse_money(text) == expected


def test_parse_money_reads_decomposed_accents() -> None:
    assert parse_money(unicodedata.normalize("NFD", "1,5 tỷ đồng")) == 1_500_000_000


@pytest.mark.parametrize("text", ["-500k", "-80.000.000", "- 80 triệu", "−1 tỷ", "-1"])
def test_parse_money_negative(text: str) -> None:
    assert parse_money(text) == ParseError("money.negative", {"text": text})


@pytest.mark.parametrize("text", ["1.000.000.000.000.001", "2.000.000 tỷ", "1000001 tỷ", "9" * 40])
def test_parse_money_too_large(text: str) -> None:
    assert parse_money(text) == ParseError("money.too_large", {"text": text})


@pytest.mark.parametrize(
    "text",
    [
        "",
        "  ",
        "đ",
        "VNĐ",
        "abc",
        "tr",
        "triệu",
        "80 triệu abc",
        "1 triệu 200",  # a bare number after a unit is ambiguous
        "1 tỷ 500",
        "1tr5",
        "1,5",  # a decimal part needs a unit
        "1.5",
        "80,5 đ",
        "1,0000001 triệu",  # not a whole number of đồng
        "0,0001 k",
        "500 triệu 1 tỷ",  # units out of order
        "1 triệu 2 triệu",
        "1 tỷ 1000 triệu",  # a lower part worth a whole higher unit
        "1 triệu 1.000 nghìn",
        "80.00.000",
        "80.000,000.000",
        "1.000.000,",
        "1..5 tỷ",
        ",5 tỷ",
        "1,500,5 tỷ",
        "1 5",  # spaces between digits only group thousands
        "80 00",
        "--5",
        "+500k",
        "500k k",
        "5 %",
        "x" * 500,
    ],
)
def test_parse_money_format(text: str) -> None:
    assert parse_money(text) == ParseError("money.format", {"text": text.strip()})


amounts = st.integers(min_value=0, max_value=MAX_MONEY)


@given(amounts)
def test_money_round_trip(value: int) -> None:
    dotted = f"{value:,}".replace(",", ".")
    assert parse_money(dotted) == value
    assert parse_money(f"{value:,}") == value
    assert parse_money(str(value)) == value
    assert parse_money(formatting.money(value, "vi")) == value
    assert parse_money(formatting.money(value, "en")) == value


@given(st.integers(0, 999_999), st.integers(0, 999), st.integers(0, 999))
def test_money_in_units_round_trip(billions: int, millions: int, thousands: int) -> None:
    text = f"{billions} tỷ {millions} triệu {thousands} nghìn"
    assert parse_money(text) == billions * 10**9 + millions * 10**6 + thousands * 10**3


# ---------------------------------------------------------------------------------------------- shares


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("40", 40),
        ("40%", 40),
        ("40 %", 40),
        (" 40 phần trăm", 40),
        ("40 Phần Trăm", 40),
        ("40 phan tram", 40),
        ("1", 1),
        ("100", 100),
        ("100%", 100),
        ("007", 7),
    ],
)
def test_parse_share_accepts(text: str, expected: int) -> None:
    assert parse_share(text) == expected


@pytest.mark.parametrize("text", ["0", "0%", "101", "150 %", "-5", "-40%", "999999999999"])
def test_parse_share_range(text: str) -> None:
    assert parse_share(text) == ParseError("share.range", {"text": text, "min": 1, "max": 100})


@pytest.mark.parametrize(
    "text", ["", "abc", "%", "40,5", "40.5%", "40 %%", "bốn mươi", "40 phần", "% 40", "4 0", "9" * 500]
)
def test_parse_share_format(text: str) -> None:
    assert parse_share(text) == ParseError("share.format", {"text": text})


def test_a_date_without_a_year_can_mean_the_last_one() -> None:
    from datetime import date

    from bot.domain.vn.parsing import parse_date

    assert parse_date("15/2", date(2026, 3, 2), past=True) == date(2026, 2, 15)
    assert parse_date("15/3", date(2026, 3, 2), past=True) == date(2025, 3, 15)
    assert parse_date("29/2", date(2026, 3, 2), past=True) == date(2024, 2, 29)


# ------------------------------------------------------------------------------------------------ figures


@pytest.mark.parametrize(
    ("typed", "value", "shown"),
    [
        ("2", Fraction(2), "2"),
        ("0", Fraction(0), "0"),
        ("1.000", Fraction(1000), "1.000"),
        ("1 000", Fraction(1000), "1.000"),
        ("10.000.000", Fraction(10_000_000), "10.000.000"),
        ("2,5", Fraction(5, 2), "2,5"),
        ("2.5", Fraction(5, 2), "2,5"),
        ("1.500,25", Fraction(6001, 4), "1.500,25"),
    ],
)
def test_parse_quantity_reads_vietnamese_numbers_and_shows_them_back(
    typed: str, value: Fraction, shown: str
) -> None:
    assert parse_quantity(typed) == value
    assert formatting.quantity(value) == shown


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("-5", "quantity.negative"),
        ("− 3", "quantity.negative"),
        ("hai", "quantity.format"),
        ("5 cuốn", "quantity.format"),
        ("", "quantity.format"),
        ("1" * 200, "quantity.format"),
    ],
)
def test_parse_quantity_refuses(typed: str, code: str) -> None:
    assert parse_quantity(typed) == ParseError(code, {"text": typed.strip()})


# ---------------------------------------------------------------------------------------------- none


@pytest.mark.parametrize("text", ["không", "Không", " KHÔNG CÓ. ", "khong", "none", "-"])
def test_the_usual_ways_of_saying_none(text: str) -> None:
    assert means_none(text)


@pytest.mark.parametrize("text", ["Nguyễn Văn Không; 30", "không biết", "0", ""])
def test_anything_else_is_not_none(text: str) -> None:
    assert not means_none(text)
