"""The text catalogs: every key in both languages with the same placeholders; display formats."""

from __future__ import annotations

import re
import string
from datetime import UTC, date, datetime
from pathlib import Path

from messages import formatting, plain, text
from messages.catalog import catalog, plurals

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
    assert formatting.moment(datetime(2026, 3, 25, 1, 0)) == "08:00 ngày 25/03/2026"  # stored: UTC
    assert formatting.percent(1709, 431) == "397%"
    assert formatting.percent(3, 0) == "—"


def test_every_union_calendar_event_has_a_text() -> None:
    from bot.domain.calendar.union_calendar import load_events

    assert [event.key for event in load_events() if f"calendar.{event.key}" not in catalog("vi")] == []


# The officer-only parts of the catalog, where the union says "đồng chí"; notices to members keep "bạn".
OFFICER_SECTIONS = (
    "newcampaign",
    "launch",
    "announce",
    "review",
    "requests",
    "invite",
    "insights",
    "broadcasts",
    "evaluate",
)


def test_the_assistant_speaks_with_one_voice() -> None:
    vietnamese, english = catalog("vi"), catalog("en")
    assert [k for k, v in vietnamese.items() if re.search(r"\bMình\b|\b[Bb]ot\b|\bnhé\b|\b[Hh]ãy\b", v)] == []
    assert [k for k, v in english.items() if re.search(r"\bI\b|\bthe bot\b", v)] == []
    assert "trợ lý thi đua" in vietnamese["fallback.stray_text"].lower()
    officer_bạn = [
        key
        for key, value in vietnamese.items()
        if key.split(".")[0] in OFFICER_SECTIONS
        and not key.endswith("_notice")
        and re.search(r"\b[Bb]ạn\b", value)
    ]
    assert officer_bạn == []
    assert "bạn" not in vietnamese["register.ask_titles"]  # a collective's registration asks it too


def test_notices_are_named_as_the_union_names_them() -> None:
    vietnamese = catalog("vi")
    head = text("vi", "announce.head", unit="LĐLĐ huyện Bảo Lạc")
    assert head.startswith("📢") and "thông báo" in head and "nhắc" not in head
    council = [k for k, v in vietnamese.items() if re.search(r"[Hh]ội đồng(?! sáng kiến)", v)]
    assert council == []
    assert "Không làm phiền" in vietnamese["preferences.summary"]
    assert not any("yên lặng" in v or "ATVSLĐ" in v or "Bác Hồ" in v for v in vietnamese.values())
    names = {vietnamese[f"calendar_name.{key}"] for key in ("vietnamese_womens_day", "presidents_birthday")}
    assert names == {"Ngày Phụ nữ Việt Nam 20/10", "Kỷ niệm ngày sinh Chủ tịch Hồ Chí Minh 19/5"}
    assert vietnamese["calendar_name.safety_month"] == "Tháng hành động về an toàn, vệ sinh lao động"


def test_no_space_before_a_colon_and_no_empty_note() -> None:
    for language in ("vi", "en"):
        assert [k for k, v in catalog(language).items() if " :" in v] == []
    recognised = plain(text("vi", "initiative.notice_recognise", title="Tủ điện", note=""))
    assert "Ghi chú" not in recognised and "—" not in recognised
    noted = text(
        "vi",
        "initiative.notice_recognise",
        title="Tủ điện",
        note=text("vi", "initiative.notice_note", note="Tốt"),
    )
    assert noted.endswith("Ghi chú của Hội đồng sáng kiến: Tốt")


def test_english_plurals_follow_the_count_and_vietnamese_has_none() -> None:
    assert text("en", "campaigns.days_left", days=1) == "1 day left"
    assert text("en", "campaigns.days_left", days=3) == "3 days left"
    assert text("en", "initiative.details_files", count=1).endswith(" 1 attachment")
    assert text("en", "initiative.details_files", count=2).endswith(" 2 attachments")
    assert "1</b> request to join is waiting" in text("en", "requests.header", count="1")
    assert "2.000</b> requests" in text("en", "requests.header", count="2.000")
    assert text("vi", "campaigns.days_left", days=1) == "còn 1 ngày"
    assert plurals("vi") == {}


def test_every_plural_form_has_the_placeholders_of_the_vietnamese_text() -> None:
    vietnamese = catalog("vi")
    forms = plurals("en")
    assert forms
    for key, plural in forms.items():
        assert placeholders(plural.one) == placeholders(plural.other) == placeholders(vietnamese[key]), key
        assert plural.by in placeholders(plural.other), key


def test_a_text_is_named_by_its_start_cut_at_a_word() -> None:
    assert formatting.excerpt("Họp công đoàn " * 10, 60) == ("Họp công đoàn " * 4).strip() + " Họp…"
    assert formatting.excerpt("  Ngắn  gọn \n", 60) == "Ngắn gọn"
    assert formatting.excerpt("a" * 80, 10) == "a" * 9 + "…"
