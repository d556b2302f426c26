"""Numbers, dates and money the Vietnamese way: 1.709; 25/03/2026; "08:00 ngày 25/03/2026"; 80.000.000 đ.

English keeps the same dates (Vietnamese users read them so) and groups thousands with commas (1,709).
Every number, date and time a person reads goes through here, never through ``strftime`` or ``:,`` elsewhere.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def number(value: int, language: str = "vi") -> str:
    """A whole number with thousands grouped: 1.709 in Vietnamese, 1,709 in English."""
    grouped = f"{value:,}"
    return grouped.replace(",", ".") if language == "vi" else grouped


def quantity(value: Fraction, language: str = "vi") -> str:
    """A whole or decimal amount, as in a pledge: 1.000 and 2,5 in Vietnamese (1,000 and 2.5 in English)."""
    if value.denominator == 1:
        return number(value.numerator, language)
    exact = Decimal(value.numerator) / Decimal(value.denominator)  # a typed decimal: finite
    whole, _, fraction = format(exact, "f").partition(".")
    return f"{number(int(whole), language)}{',' if language == 'vi' else '.'}{fraction}"


MONEY_CELL_FORMAT = '#,##0 "đ"'  # a spreadsheet's number format for amounts of đồng (Excel's own syntax)

# Unit names are Vietnamese in every language; the union's own abbreviations shorten them for labels.
UNIT_ABBREVIATIONS = (
    ("Công đoàn cơ sở", "CĐCS"),
    ("Liên đoàn Lao động", "LĐLĐ"),
    ("Công đoàn ngành", "CĐ ngành"),
    ("Công đoàn", "CĐ"),
)


def abbreviated_unit(name: str) -> str:
    """A unit's name with its leading kind abbreviated as the union writes it: "CĐCS Điện lực Hà Quảng"."""
    for long, abbreviation in UNIT_ABBREVIATIONS:
        if name.startswith(long + " "):
            return abbreviation + name[len(long) :]
    return name


def money(value: int, language: str = "vi") -> str:
    """An amount of đồng: "80.000.000 đ" (English "80,000,000 VND")."""
    return f"{number(value, language)} đ" if language == "vi" else f"{number(value, language)} VND"


def file_size(size: int, language: str = "vi") -> str:
    """A file's size: "6,2 MB" ("6.2 MB" in English), "12 KB" under a megabyte (decimal units, as Telegram's
    limits are written)."""
    if size < 1_000_000:
        return f"{number(max(1, round(size / 1000)), language)} KB"
    megabytes = f"{size / 1_000_000:.1f}"
    return f"{megabytes.replace('.', ',') if language == 'vi' else megabytes} MB"


def day(value: date, language: str = "vi") -> str:
    """A calendar date: 25/03/2026 (the same in English, where Vietnamese users read it the same way)."""
    # From the date's numbers rather than strftime, a third of the time (``moment`` too: an export puts
    # ~77,000 review steps into words).
    return f"{value.day:02}/{value.month:02}/{value.year}"


def moment(value: datetime, language: str = "vi", tz: ZoneInfo = VIETNAM) -> str:
    """A point in time shown in local time: "08:00 ngày 25/03/2026" (English "08:00, 25/03/2026").

    A naive time is a stored one, in UTC.
    """
    local = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(tz)
    joiner = " ngày " if language == "vi" else ", "
    return f"{local.hour:02}:{local.minute:02}{joiner}{local.day:02}/{local.month:02}/{local.year}"


def percent(part: int, whole: int, language: str = "vi") -> str:
    """A share as a percentage, halves rounded up: whole percents ("12%", "397%"), one decimal below 1%
    ("0,2%"; English "0.2%") and where a whole percent would say 100 of a part that is not the whole
    ("99,5%"), "<0,1%" and ">99,9%" for a share too close to none or to all to show; so "0%" only for none,
    "100%" only for all; "—" when there is nothing to divide by."""
    if whole <= 0:
        return "—"
    share = Decimal(100 * part) / Decimal(whole)
    units = share.quantize(_ONE, ROUND_HALF_UP)
    tenths = share.quantize(_TENTH, ROUND_HALF_UP)
    if part in (0, whole) or (tenths >= 1 and units != 100):
        return f"{units}%"
    if tenths < _TENTH:
        shown = f"<{_TENTH}"
    elif tenths == 100:
        shown = ">99.9" if share < 100 else ">100"
    else:
        shown = str(tenths)
    return f"{shown.replace('.', ',') if language == 'vi' else shown}%"


_ONE, _TENTH = Decimal(1), Decimal("0.1")


def excerpt(value: str, width: int) -> str:
    """The start of a text to name it by, on one line, cut at a word and ended with "…" when longer."""
    flat = " ".join(value.split())
    if len(flat) <= width:
        return flat
    cut = flat[: width - 1]
    if " " in cut and not flat[width - 1].isspace():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:–—-") + "…"
