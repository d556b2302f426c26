"""The text catalogs: every key in both languages with the same placeholders; display formats."""

from __future__ import annotations

import re
import string
from datetime import UTC, date, datetime
from pathlib import Path

from messages import formatting, text
from messages.catalog import catalog

HTML_TAG = re.compile(r"</?([a-z-]+)")
TELEGRAM_TAGS = {"b", "i", "u", "s", "a", "code", "pre", "blockquote", "tg-spoiler"}


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_key_exists_in_both_languages() -> None:
    assert set(catalog("vi")) == set(catalog("en"))


def test_every_text_has_the_same_placeholders_in_both_languages() -> None:
    english = catalog("en")
    mismatched = [key for key, vi in catalog("vi").items() if placeholders(vi) != placeholders(english[key])]
    assert mismatched == []


def test_catalogs_use_only_tags_telegram_accepts() -> None:
    for language in ("vi", "en"):
        tags = {tag for template in catalog(language).values() for tag in HTML_TAG.findall(template)}
        assert tags <= TELEGRAM_TAGS, tags


def test_every_key_the_code_asks_for_exists() -> None:
    root = Path(__file__).parent.parent
    asked: set[str] = set()
    for folder in ("bot", "handlers"):
        for path in (root / folder).rglob("*.py"):
            asked |= set(
                re.findall(r"""(?:\.t|text\([^,]+,|button)\(\s*"([a-z_]+\.[a-z_.]+)\"""", path.read_text())
            )
            asked |= set(re.findall(r"""\("([a-z_]+\.[a-z_]+)", "[a-z]+:""", path.read_text()))
    missing = sorted(key for key in asked if key not in catalog("vi"))
    assert asked and missing == []


def test_every_parse_error_and_problem_code_has_a_text() -> None:
    # Their codes are worded through f-strings ("parse.{code}", "problem.{code}") the test above cannot see.
    root = Path(__file__).parent.parent
    asked: set[str] = set()
    for folder in ("bot", "handlers"):
        for path in (root / folder).rglob("*.py"):
            source = path.read_text()
            asked |= {f"parse.{code}" for code in re.findall(r"""ParseError\(\s*"([a-z_.]+)\"""", source)}
            asked |= {
                f"problem.{code}" for code in re.findall(r"""Problem\(\s*[^,()]+,\s*"([a-z_]+)\"""", source)
            }
    missing = sorted(key for key in asked if key not in catalog("vi"))
    assert {"parse.time.format", "problem.reminder_in_past"} <= asked
    assert missing == []


def test_parameters_are_escaped_but_catalog_html_is_kept() -> None:
    rendered = text("vi", "join.unit_chosen", unit="<script>&")
    assert rendered == "Đơn vị: <b>&lt;script&gt;&amp;</b>"


def test_unknown_language_falls_back_to_vietnamese() -> None:
    assert text("fr", "dialog.back") == text("vi", "dialog.back")


def test_vietnamese_number_date_and_money_formats() -> None:
    assert formatting.number(1709) == "1.709"
    assert formatting.number(1709, "en") == "1,709"
    assert formatting.money(80_000_000) == "80.000.000 đ"
    assert formatting.day(date(2026, 3, 25)) == "25/03/2026"
    assert formatting.moment(datetime(2026, 3, 25, 1, 0, tzinfo=UTC)) == "08:00 ngày 25/03/2026"
    assert formatting.moment(datetime(2026, 3, 25, 1, 0, tzinfo=UTC), "en") == "08:00, 25/03/2026"
    assert formatting.percent(1709, 431) == "397%"
    assert formatting.percent(3, 0) == "—"


def test_every_union_calendar_event_has_a_text() -> None:
    from bot.union_calendar import load_events

    assert [event.key for event in load_events() if f"calendar.{event.key}" not in catalog("vi")] == []
