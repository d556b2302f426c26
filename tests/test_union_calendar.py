"""bot.domain.calendar (lunar, union_calendar): the date of Tết, the union year's dates, their reminders."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.domain.calendar.lunar import FIRST_YEAR, LAST_YEAR, tet_date
from bot.domain.calendar.union_calendar import (
    CalendarFileError,
    CalendarReminder,
    FixedDay,
    LunarDay,
    load_events,
    reminders_between,
)

# ----------------------------------------------------------------------------------------------- Tết


@pytest.mark.parametrize(
    "tet",
    [
        date(2000, 2, 5),
        date(2007, 2, 17),  # China: 18 Feb (new moon at 23:14 in Hà Nội, after midnight in Beijing)
        date(2019, 2, 5),
        date(2020, 1, 25),
        date(2021, 2, 12),
        date(2022, 2, 1),
        date(2023, 1, 22),
        date(2024, 2, 10),
        date(2025, 1, 29),
        date(2026, 2, 17),
        date(2027, 2, 6),
        date(2028, 1, 26),
        date(2029, 2, 13),
        date(2030, 2, 2),  # China: 3 Feb (new moon at 23:07 on 2 Feb in Hà Nội)
        date(2031, 1, 23),
        date(2053, 2, 18),  # China: 19 Feb
        date(2100, 2, 9),
        date(1985, 1, 21),  # China: 20 Feb, a whole month later
    ],
)
def test_tet_falls_on_the_date_vietnamese_calendars_print(tet: date) -> None:
    assert tet_date(tet.year) == tet


def test_tet_is_a_lunar_year_after_the_one_before_and_in_its_season() -> None:
    for year in range(2000, LAST_YEAR + 1):
        tet = tet_date(year)
        assert date(year, 1, 21) <= tet <= date(year, 2, 20)
        # A lunar year has 12 or 13 months of 29 or 30 days.
        assert (tet - tet_date(year - 1)).days in (353, 354, 355, 383, 384, 385)


@pytest.mark.parametrize("year", [FIRST_YEAR - 1, LAST_YEAR + 1])
def test_tet_outside_the_supported_years_is_refused(year: int) -> None:
    with pytest.raises(ValueError, match="1900 to 2100"):
        tet_date(year)


# ------------------------------------------------------------------------------------ the union year


def test_the_shipped_calendar_holds_the_union_year() -> None:
    events = {event.key: event for event in load_events()}
    assert events["tet"].when == LunarDay("tet")
    assert events["womens_day"].when == FixedDay(3, 8)
    assert events["union_founding"].when == FixedDay(7, 28)
    assert len(reminders_between(date(2026, 1, 1), date(2026, 12, 31))) == 12


def test_tet_reminders_of_the_next_year_come_in_january_after_the_year_end_review() -> None:
    assert reminders_between(date(2022, 12, 1), date(2023, 1, 31)) == [
        CalendarReminder("year_end_review", date(2022, 12, 15), date(2022, 12, 1)),
        CalendarReminder("year_end_review", date(2022, 12, 15), date(2022, 12, 12)),
        CalendarReminder("tet", date(2023, 1, 22), date(2023, 1, 15)),
    ]


def test_tet_reminder_is_a_week_before_tet() -> None:
    assert reminders_between(date(2026, 2, 1), date(2026, 2, 28)) == [
        CalendarReminder("tet", date(2026, 2, 17), date(2026, 2, 10)),
    ]


def test_workers_month_and_safety_month_are_announced_in_late_april() -> None:
    may = date(2026, 5, 1)
    assert reminders_between(date(2026, 4, 1), date(2026, 5, 31)) == [
        CalendarReminder("workers_month", may, date(2026, 4, 20)),
        CalendarReminder("workers_month", may, date(2026, 4, 25)),
        CalendarReminder("safety_month", may, date(2026, 4, 28)),
        CalendarReminder("labour_day", may, may),
        CalendarReminder("presidents_birthday", date(2026, 5, 19), date(2026, 5, 19)),
    ]


def test_the_bounds_of_the_period_are_included_and_an_empty_period_has_nothing() -> None:
    womens_day = date(2026, 3, 8)
    assert reminders_between(womens_day, womens_day) == [
        CalendarReminder("womens_day", womens_day, womens_day)
    ]
    assert reminders_between(date(2026, 3, 9), date(2026, 3, 8)) == []


def test_a_reminder_may_fall_in_the_year_before_its_event(tmp_path: Path) -> None:
    path = _write(tmp_path, 'key = "tet"\nlunar = "tet"\nremind = [{ offset_days = -40 }]')
    assert reminders_between(date(2022, 12, 1), date(2022, 12, 31), path) == [
        CalendarReminder("tet", date(2023, 1, 22), date(2023, 1, 22) - timedelta(days=40)),
    ]


def test_a_fixed_reminder_and_an_offset_on_the_same_day_remind_once(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        'key = "womens_day"\nmonth = 3\nday = 8\nremind = [{ month = 3, day = 1 }, { offset_days = -7 }]',
    )
    assert reminders_between(date(2026, 1, 1), date(2026, 12, 31), path) == [
        CalendarReminder("womens_day", date(2026, 3, 8), date(2026, 3, 1)),
    ]


# ------------------------------------------------------------------------------------ a file with a mistake


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (
            'key = "x"\nmonth = 3\nday = 8\nremind = [{ offset_days = 0 }]\ncolour = "red"',
            "unknown field 'colour'",
        ),
        (
            'key = "x"\nmonth = 3\nday = 8\nremind = [{ ofset_days = -7 }]',
            "remind[0]: unknown field 'ofset_days'",
        ),
        ('key = "x"\nmonth = 2\nday = 30\nremind = [{ offset_days = 0 }]', "30/2 is not a date"),
        ('key = "x"\nmonth = 2\nday = 29\nremind = [{ offset_days = 0 }]', "29/2 does not come every year"),
        ('key = "x"\nmonth = 13\nday = 1\nremind = [{ offset_days = 0 }]', "1/13 is not a date"),
        (
            'key = "x"\nmonth = 5\nday = 1\nremind = [{ month = 4, day = 31 }]',
            "remind[0]: 31/4 is not a date",
        ),
        ('key = "x"\nmonth = 5\nremind = [{ offset_days = 0 }]', "'month' and 'day' must both be given"),
        ('key = "x"\nmonth = 5\nday = 1', "'remind' must be a non-empty list"),
        ('key = "x"\nmonth = 5\nday = 1\nremind = [{ offset_days = 400 }]', "from -180 to 180"),
        ('key = "x"\nlunar = "tet"\nremind = [{ month = 1, day = 20 }]', "give its reminders as offset_days"),
        ('key = "x"\nlunar = "trung_thu"\nremind = [{ offset_days = 0 }]', "unknown lunar day 'trung_thu'"),
        ('key = "x"\nlunar = "tet"\nmonth = 1\nday = 1\nremind = [{ offset_days = 0 }]', "not both"),
        ('key = "Tết"\nmonth = 5\nday = 1\nremind = [{ offset_days = 0 }]', "'key' must be lower-case"),
    ],
)
def test_a_mistake_in_an_event_is_named_with_its_place(tmp_path: Path, event: str, message: str) -> None:
    path = _write(tmp_path, event)
    with pytest.raises(CalendarFileError, match="event 1") as raised:
        load_events(path)
    assert str(path) in str(raised.value)
    assert message in str(raised.value)


def test_a_key_used_twice_is_refused(tmp_path: Path) -> None:
    event = 'key = "tet"\nlunar = "tet"\nremind = [{ offset_days = -7 }]'
    with pytest.raises(
        CalendarFileError, match=r"event 2 \('tet'\): the key 'tet' is used by an earlier event"
    ):
        load_events(_write(tmp_path, event, event))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[event]\nkey =", "not valid TOML"),
        ('title = "Lịch"', "unknown top-level field 'title'"),
        ('event = "tet"', "must be a list of [[event]] tables"),
    ],
)
def test_a_file_of_the_wrong_shape_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarFileError) as raised:
        load_events(path)
    assert message in str(raised.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(CalendarFileError, match="cannot read the file"):
        load_events(tmp_path / "missing.toml")


def _write(directory: Path, *events: str) -> Path:
    path = directory / "calendar.toml"
    path.write_text("".join(f"[[event]]\n{event}\n\n" for event in events), encoding="utf-8")
    return path
