"""Numbers, dates and money the Vietnamese way: 1.709; 25/03/2026; 80.000.000 đ (English: 1,709)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def number(value: int, language: str = "vi") -> str:
    """A whole number with thousands grouped: 1.709 in Vietnamese, 1,709 in English."""
    grouped = f"{value:,}"
    return grouped.replace(",", ".") if language == "vi" else grouped


def money(value: int, language: str = "vi") -> str:
    """An amount of đồng: "80.000.000 đ" (English "80,000,000 VND")."""
    return f"{number(value, language)} đ" if language == "vi" else f"{number(value, language)} VND"


def day(value: date, language: str = "vi") -> str:
    """A calendar date: 25/03/2026 (the same in English, where Vietnamese users read it the same way)."""
    return value.strftime("%d/%m/%Y")


def moment(value: datetime, language: str = "vi", tz: ZoneInfo = VIETNAM) -> str:
    """A point in time shown in local time: "08:00 25/03/2026"."""
    return value.astimezone(tz).strftime("%H:%M %d/%m/%Y")


def percent(part: int, whole: int, language: str = "vi") -> str:
    """A share as a percentage: whole above 1 ("397%"), one decimal below it ("0,2%"; English "0.2%"), and
    "<0,1%" for a share too small to show; "—" when there is nothing to divide by."""
    if whole <= 0:
        return "—"
    share = 100 * part / whole
    if share == 0 or round(share, 1) >= 1:
        return f"{round(share)}%"
    shown = f"{max(share, 0.1):.1f}"
    shown = shown.replace(".", ",") if language == "vi" else shown
    return f"<{shown}%" if share < 0.05 else f"{shown}%"
