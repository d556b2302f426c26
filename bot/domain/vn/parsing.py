"""Read dates, amounts of money and percentages as people type them in a Vietnamese chat: "25/3", "1,5 tỷ".

Pure functions: each returns the value or a ParseError (a catalog code plus parameters), never raises.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from fractions import Fraction


@dataclass(frozen=True, slots=True)
class ParseError:
    """Why a text could not be read: a message code such as "date.format" and the values for its message.

    Codes (all with "text", the input stripped): date.format, date.not_exist, money.format, money.negative,
    money.too_large, share.format, share.range (also "min" and "max"), quantity.format, quantity.negative.
    """

    code: str
    params: dict[str, str | int] = field(default_factory=dict)


MIN_YEAR = 2000
MAX_YEAR = 2100
MAX_MONEY = 10**15
MIN_SHARE = 1
MAX_SHARE = 100

# Longer inputs are not anything we read; the cap also keeps int() far from its 4300-digit limit.
_MAX_LENGTH = 100


def _clean(text: str) -> str:
    """NFC (some keyboards send decomposed accents), case-folded, whitespace runs made one space, stripped."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).casefold().strip()


# ---------------------------------------------------------------------------------------------- dates

# "ngày 25/3": the word for "date" often comes first; "ngày mai" then reads as "mai" (tomorrow).
_DATE_PREFIX = re.compile(r"^ng[àa]y\s+")
_TODAY_WORDS = frozenset({"hôm nay", "hom nay", "today"})
_TOMORROW_WORDS = frozenset({"mai", "tomorrow"})
# Day first, always (Vietnamese order); the same separator twice, so "25/3-2026" is a typo, not a date.
_DAY_MONTH_YEAR = re.compile(
    r"""(?P<day>\d{1,2}) \ ? (?P<sep>[/.\-]) \ ? (?P<month>\d{1,2})
        (?: \ ? (?P=sep) \ ? (?P<year>\d{4}|\d{2}) )?  # the year is optional; two digits mean 20xx""",
    re.VERBOSE,
)
# ISO 8601 is the one year-first form: four digits first cannot be a day.
_ISO_DATE = re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})")


def parse_date(text: str, today: date, *, past: bool = False) -> date | ParseError:
    """The date in ``text``; without a year, the next such date on or after ``today`` (or, with ``past``,
    the latest on or before it: "15/2" for a first application means the one that has happened)."""
    cleaned = _DATE_PREFIX.sub("", _clean(text), count=1)
    if cleaned in _TODAY_WORDS:
        return today
    if cleaned in _TOMORROW_WORDS:
        return today + timedelta(days=1)
    match = _DAY_MONTH_YEAR.fullmatch(cleaned) or _ISO_DATE.fullmatch(cleaned)
    if match is None:
        return ParseError("date.format", {"text": text.strip()})
    day, month, year_text = int(match["day"]), int(match["month"]), match["year"]
    if year_text is None:
        found = _last_occurrence(day, month, today) if past else _next_occurrence(day, month, today)
        return found if found is not None else ParseError("date.not_exist", {"text": text.strip()})
    year = int(year_text) + (2000 if len(year_text) == 2 else 0)
    if not MIN_YEAR <= year <= MAX_YEAR:
        return ParseError("date.format", {"text": text.strip()})
    try:
        return date(year, month, day)
    except ValueError:
        return ParseError("date.not_exist", {"text": text.strip()})


def _next_occurrence(day: int, month: int, today: date) -> date | None:
    """The first day/month on or after ``today``; None when that day never exists (31/4, 30/2, 5/13)."""
    for year in range(today.year, today.year + 9):  # 29/2 can be 8 years away (2096 -> 2104)
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def _last_occurrence(day: int, month: int, today: date) -> date | None:
    """The last day/month on or before ``today``; None when that day never exists."""
    for year in range(today.year, today.year - 9, -1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate <= today:
            return candidate
    return None


# ---------------------------------------------------------------------------------------------- money

# The currency may follow the amount; "d"/"dong" are "đ"/"đồng" typed without accents.
_CURRENCY = re.compile(r"(?:vnđ|vnd|đồng|dong|đ|₫|d)$")
_UNITS = {
    "tỷ": 10**9, "tỉ": 10**9, "ty": 10**9, "ti": 10**9,
    "triệu": 10**6, "trieu": 10**6, "tr": 10**6,
    "nghìn": 10**3, "nghin": 10**3, "ngàn": 10**3, "ngan": 10**3, "k": 10**3,
}  # fmt: skip
# One "number + unit" piece of "1 tỷ 500 triệu"; longer unit spellings first so "triệu" is not read as "tr".
_TERM = re.compile(
    r"(?P<number>\d[\d., ]*)(?P<unit>" + "|".join(sorted(_UNITS, key=len, reverse=True)) + ")?"
)
# Thousands in groups of three with one separator throughout ("80.000.000", "80,000,000", "80 000 000"),
# then maybe a decimal part after the other separator ("1.500,5"). Groups of three win over a decimal
# reading: "1.500 triệu" is 1 500 triệu, as Vietnamese write it.
_GROUPED = re.compile(r"\d{1,3}(?P<sep>[., ])\d{3}(?:(?P=sep)\d{3})*(?:(?P<point>[.,])(?P<fraction>\d+))?")
# A decimal number, "1,5" (Vietnamese) or "1.5"; only allowed before a unit word.
_DECIMAL = re.compile(r"\d+[.,](?P<fraction>\d+)")


def parse_money(text: str) -> int | ParseError:
    """Whole đồng from "80 triệu", "80.000.000", "1,5 tỷ", "1 tỷ 500 triệu", "500k" and the like."""
    cleaned = _clean(text)
    # Spaces go, except between digits, where they group thousands ("80 000 000") or make "1 5" unreadable.
    cleaned = re.sub(r" (?!\d)|(?<!\d) ", "", cleaned)
    negative = cleaned[:1] in ("-", "−")
    unsigned = _CURRENCY.sub("", cleaned[1:] if negative else cleaned)
    amount = _amount(unsigned) if len(unsigned) <= _MAX_LENGTH else None
    if amount is None:
        return ParseError("money.format", {"text": text.strip()})
    if negative and amount > 0:
        return ParseError("money.negative", {"text": text.strip()})
    if amount > MAX_MONEY:
        return ParseError("money.too_large", {"text": text.strip()})
    return amount


def _amount(text: str) -> int | None:
    """The đồng in a bare number or in "number unit [number unit ...]", units falling; None if unreadable."""
    terms: list[tuple[Fraction, bool, int | None]] = []
    position = 0
    while position < len(text):
        match = _TERM.match(text, position)
        number = _number(match["number"]) if match else None
        if match is None or number is None:
            return None
        terms.append((*number, _UNITS[match["unit"]] if match["unit"] else None))
        position = match.end()
    if not terms:
        return None
    if len(terms) == 1 and terms[0][2] is None:
        value, has_fraction, _ = terms[0]
        return None if has_fraction else int(value)
    total = Fraction(0)
    larger: int | None = None
    for value, _, unit in terms:
        # Every piece needs its unit ("1 triệu 200" could mean 200 nghìn or 200 đồng), each smaller than
        # the one before and not worth a whole one of it ("1 tỷ 1500 triệu" is a typo).
        if unit is None or (larger is not None and (unit >= larger or value * unit >= larger)):
            return None
        total += value * unit
        larger = unit
    return int(total) if total.denominator == 1 else None


def _number(text: str) -> tuple[Fraction, bool] | None:
    """The value of "80", "80.000.000", "1,5", "1.500,5"; and whether it had a decimal part."""
    if text.isdigit():
        return Fraction(int(text)), False
    grouped = _GROUPED.fullmatch(text)
    if grouped and grouped["point"] != grouped["sep"]:
        whole = text[: grouped.start("point")] if grouped["point"] else text
        return _decimal(whole.replace(grouped["sep"], ""), grouped["fraction"])
    decimal = _DECIMAL.fullmatch(text)
    if decimal:
        return _decimal(text[: decimal.start("fraction") - 1], decimal["fraction"])
    return None


def _decimal(whole: str, fraction: str | None) -> tuple[Fraction, bool]:
    """Digits before and after the decimal point as an exact value."""
    if not fraction:
        return Fraction(int(whole)), False
    return Fraction(int(whole + fraction), 10 ** len(fraction)), True


# ---------------------------------------------------------------------------------------------- shares

# A whole percentage, the sign and any "%" or "phần trăm" optional.
_SHARE = re.compile(r"(?P<sign>[-−])? ?(?P<number>\d+) ?(?:%|phần trăm|phan tram)?")


def parse_share(text: str) -> int | ParseError:
    """A contribution share in whole percent, 1 to 100: "40", "40%", "40 phần trăm"."""
    cleaned = _clean(text)
    match = _SHARE.fullmatch(cleaned) if len(cleaned) <= _MAX_LENGTH else None
    if match is None:
        return ParseError("share.format", {"text": text.strip()})
    share = -int(match["number"]) if match["sign"] else int(match["number"])
    if not MIN_SHARE <= share <= MAX_SHARE:
        return ParseError("share.range", {"text": text.strip(), "min": MIN_SHARE, "max": MAX_SHARE})
    return share


def parse_quantity(text: str) -> Fraction | ParseError:
    """A pledged figure, zero or more: "2", "1.000", "1 000", "2,5" (Vietnamese), "2.5"."""
    cleaned = _clean(text)
    negative = cleaned[:1] in ("-", "−")
    digits = cleaned[1:].lstrip() if negative else cleaned
    number = _number(digits) if len(digits) <= _MAX_LENGTH else None
    if number is None:
        return ParseError("quantity.format", {"text": text.strip()})
    value, _ = number
    if negative and value > 0:
        return ParseError("quantity.negative", {"text": text.strip()})
    return value


_TIME = re.compile(
    r"(?<![\d/.-])(?P<hour>\d{1,2})\s*(?:giờ|[:hg])\s*(?P<minute>\d{2})?(?:\s*(?:phút|p))?(?![\d/.-])"
)


def parse_moment(text: str, today: date) -> tuple[date, time] | ParseError:
    """A date and a time of day as people type them: "25/3 8:00", "8h30 25/3/2026", "mai 14 giờ"."""
    cleaned = _clean(text)
    match = _TIME.search(cleaned)
    if match is None:
        return ParseError("time.format", {"text": text.strip()})
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    if hour > 23 or minute > 59:
        return ParseError("time.format", {"text": text.strip()})
    rest = (cleaned[: match.start()] + " " + cleaned[match.end() :]).strip(" ,-lúc")
    day = parse_date(rest, today) if rest else today
    if isinstance(day, ParseError):
        return day
    return day, time(hour, minute)


# ---------------------------------------------------------------------------------------------- none

_NONE_WORDS = frozenset({"không", "khong", "không có", "khong co", "none", "no", "-"})


def means_none(text: str) -> bool:
    """True for the usual ways of answering "none" to a list's question: "không", "Không có.", "none"."""
    return _clean(text).strip(" .!") in _NONE_WORDS
