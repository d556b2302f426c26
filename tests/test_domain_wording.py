"""The domain says what is due, the handlers say it: no module of bot/domain reads the text catalog or
writes a handler's button payload (reminders are worded by handlers/reminder_notices.py)."""

from __future__ import annotations

from tests.test_import_flow import ROOT, imports_of

WORDING = {"messages.text", "messages.Html", "messages.escape", "bot.engine.buttons"}


def test_no_domain_module_words_a_message_or_writes_a_button_payload() -> None:
    found = [
        f"{edge.source}:{edge.line} imports {edge.target}"
        for path in sorted((ROOT / "bot" / "domain").rglob("*.py"))
        for edge in imports_of(path)
        if edge.target in WORDING or edge.target.startswith("bot.engine.buttons.")
    ]
    assert found == []
