"""The date of Tết Nguyên đán (the Vietnamese lunar new year) for a Gregorian year, computed, not looked up.

Usage: ``tet_date(2026)`` is ``date(2026, 2, 17)``. Supported years: ``FIRST_YEAR`` to ``LAST_YEAR``.
"""

from __future__ import annotations

import math
from datetime import date

# Hồ Ngọc Đức's algorithm ("Thuật toán tính âm lịch"), the one Vietnamese calendars are printed from. It is
# written out here rather than taken from a package: the widely used lunar libraries on PyPI follow the
# Chinese calendar, the Vietnamese ones are small one-person ports, and this is settled arithmetic.
# The two calendars differ because Vietnam reckons days in its own time zone, UTC+7: a new moon at 23:07 on
# 2 Feb 2030 in Hà Nội (00:07 on 3 Feb in Beijing) starts the month, and Tết, a day earlier than in China.
# The rules of the calendar:
#   - a lunar month starts on the local day of a new moon;
#   - month 11 is the month that holds the winter solstice;
#   - a year from one month 11 to the next with 13 months has a leap month: the first month in which the
#     sun enters no new 30° sector of longitude (no "major solar term"); it repeats the number before it.
# Tết is the first day of month 1, two months after month 11, or three when month 11 or 12 is repeated.
# The new-moon and sun-longitude series are Meeus's low-precision ones, good to a few minutes; the results
# agree with an independently kept table of Vietnamese new-year dates for every year from 1901 to 2100.

FIRST_YEAR = 1900
LAST_YEAR = 2100

TIME_ZONE_HOURS = 7.0
_DEGREE = math.pi / 180
_SYNODIC_MONTH = 29.530588853
# Julian day of the new moon of 1 Jan 1900 (13:52 UT), the origin the new-moon series counts months from.
_NEW_MOON_EPOCH = 2415021.076998695
_JULIAN_DAY_OF_ORDINAL_ZERO = 1721425


def tet_date(year: int) -> date:
    """The first day of the lunar year that begins in ``year``, as printed on Vietnamese calendars."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"Tết is computed for the years {FIRST_YEAR} to {LAST_YEAR}, not {year}")
    month11 = _month11_start(year - 1)
    next_month11 = _month11_start(year)
    months_after_month11 = 2
    # 13 new moons between the two months 11: one of them is a leap month, and if it is the month after month
    # 11 or after month 12, month 1 comes one moon later.
    if next_month11 - month11 > 365 and _leap_month_position(month11) <= months_after_month11:
        months_after_month11 += 1
    return _date_of(_new_moon_day(_moon_index(month11) + months_after_month11))


def _month11_start(year: int) -> int:
    """Julian day on which the lunar month 11 holding the December solstice of ``year`` starts."""
    last_day = _julian_day(date(year, 12, 31))
    index = math.floor((last_day - 2415021) / _SYNODIC_MONTH)
    start = _new_moon_day(index)
    # The last new moon of the year may come after the solstice (sun past 270°): month 11 is the one before.
    if _sun_sector(start) >= 9:
        start = _new_moon_day(index - 1)
    return start


def _leap_month_position(month11: int) -> int:
    """How many months after month 11 the leap month comes, in a lunar year that has one."""
    index = _moon_index(month11)
    position = 1
    sector = _sun_sector(_new_moon_day(index + position))
    # A month holds no major solar term when the sun is in the same sector at its start and at the next
    # month's start; the first such month (within 13 moons) is the leap month.
    while position < 13:
        next_sector = _sun_sector(_new_moon_day(index + position + 1))
        if next_sector == sector:
            break
        sector = next_sector
        position += 1
    return position


def _moon_index(day: int) -> int:
    """The number of the new moon (counted from 1 Jan 1900) on Julian day ``day``."""
    return math.floor((day - _NEW_MOON_EPOCH) / _SYNODIC_MONTH + 0.5)


def _new_moon_day(index: int) -> int:
    """Julian day, in Vietnam's time zone, of new moon number ``index`` counted from 1 Jan 1900."""
    centuries = index / 1236.85
    t2 = centuries * centuries
    t3 = t2 * centuries
    mean = 2415020.75933 + 29.53058868 * index + 0.0001178 * t2 - 0.000000155 * t3
    mean += 0.00033 * math.sin((166.56 + 132.87 * centuries - 0.009173 * t2) * _DEGREE)
    sun_anomaly = (359.2242 + 29.10535608 * index - 0.0000333 * t2 - 0.00000347 * t3) * _DEGREE
    moon_anomaly = (306.0253 + 385.81691806 * index + 0.0107306 * t2 + 0.00001236 * t3) * _DEGREE
    latitude_argument = (21.2964 + 390.67050646 * index - 0.0016528 * t2 - 0.00000239 * t3) * _DEGREE
    correction = (
        (0.1734 - 0.000393 * centuries) * math.sin(sun_anomaly)
        + 0.0021 * math.sin(2 * sun_anomaly)
        - 0.4068 * math.sin(moon_anomaly)
        + 0.0161 * math.sin(2 * moon_anomaly)
        - 0.0004 * math.sin(3 * moon_anomaly)
        + 0.0104 * math.sin(2 * latitude_argument)
        - 0.0051 * math.sin(sun_anomaly + moon_anomaly)
        - 0.0074 * math.sin(sun_anomaly - moon_anomaly)
        + 0.0004 * math.sin(2 * latitude_argument + sun_anomaly)
        - 0.0004 * math.sin(2 * latitude_argument - sun_anomaly)
        - 0.0006 * math.sin(2 * latitude_argument + moon_anomaly)
        + 0.0010 * math.sin(2 * latitude_argument - moon_anomaly)
        + 0.0005 * math.sin(2 * moon_anomaly + sun_anomaly)
    )
    # The series gives Terrestrial Time; ΔT turns it into Universal Time.
    if centuries < -11:
        delta_t = (
            0.001 + 0.000839 * centuries + 0.0002261 * t2 - 0.00000845 * t3 - 0.000000081 * centuries * t3
        )
    else:
        delta_t = -0.000278 + 0.000265 * centuries + 0.000262 * t2
    return math.floor(mean + correction - delta_t + 0.5 + TIME_ZONE_HOURS / 24)


def _sun_sector(day: int) -> int:
    """Which 30° sector (0 to 11) of ecliptic longitude the sun is in at local midnight starting ``day``."""
    centuries = (day - 2451545.5 - TIME_ZONE_HOURS / 24) / 36525
    t2 = centuries * centuries
    mean_anomaly = (
        357.52910 + 35999.05030 * centuries - 0.0001559 * t2 - 0.00000048 * centuries * t2
    ) * _DEGREE
    mean_longitude = 280.46645 + 36000.76983 * centuries + 0.0003032 * t2
    centre = (
        (1.914600 - 0.004817 * centuries - 0.000014 * t2) * math.sin(mean_anomaly)
        + (0.019993 - 0.000101 * centuries) * math.sin(2 * mean_anomaly)
        + 0.000290 * math.sin(3 * mean_anomaly)
    )
    longitude = ((mean_longitude + centre) % 360) * _DEGREE
    return math.floor(longitude / math.pi * 6)


def _julian_day(day: date) -> int:
    return day.toordinal() + _JULIAN_DAY_OF_ORDINAL_ZERO


def _date_of(julian_day: int) -> date:
    return date.fromordinal(julian_day - _JULIAN_DAY_OF_ORDINAL_ZERO)
