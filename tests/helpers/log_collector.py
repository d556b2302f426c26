"""Every log record of the test session, as a handler would write it (message and traceback), and the check
each test ends with (tests/conftest.py ``collect_logs``): no line holds a bot token (Telegram's or Zalo's) or
a roster phone number in any usual form. Phones are never logged; the tokens never are either
(bot/engine/logs.py scrubs them from what the libraries write, but the suite runs without that filter, so
this reads what the code itself lets through). Checked per test, it names the test that leaked and holds
when tests run in several processes.
"""

from __future__ import annotations

import logging
import re

from bot.domain.vn.phones import normalize_phone
from bot.engine.logs import NOISY_LOGGERS
from bot.sandbox import TelegramSandbox
from bot.sandbox.zalo import ZaloSandbox
from tests.helpers.roster import HOA, HUNG, MAI, MEMBERS_CSV, STRANGER

COLLECTED_LEVEL = logging.INFO  # what `thidua run` writes


class LogCollector(logging.Handler):
    """Keeps each record formatted, traceback included."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record as written."""
        self.lines.append(self.format(record))

    def attach(self) -> None:
        """Listen on the root logger at the levels the bot runs with (a test may have changed them)."""
        root = logging.getLogger()
        if self not in root.handlers:
            root.addHandler(self)
        root.setLevel(COLLECTED_LEVEL)
        for noisy in NOISY_LOGGERS:  # as `thidua run` sets them, whichever test ran first
            logging.getLogger(noisy).setLevel(logging.WARNING)


SESSION_LOGS = LogCollector()


# Runs of digits as people write phone numbers: "+84 912 345 678", "0912.345.678", "84912345678".
DIGIT_RUN = re.compile(r"\+?\d[\d .\-()]{7,16}\d")


def roster_phones() -> set[str]:
    """Every phone of the test roster and the sandbox people, in E.164."""
    written = [line.split(",")[2] for line in MEMBERS_CSV.strip().splitlines()[1:]]
    written += [person[3] for person in (MAI, HUNG, HOA, STRANGER)]
    return {phone for phone in map(normalize_phone, written) if phone is not None}


def usual_forms(e164: str) -> set[str]:
    """+84912345678 → {"+84912345678", "84912345678", "0912345678", "0912 345 678", "912345678"}."""
    national = "0" + e164[3:]
    return {e164, e164[1:], national, f"{national[:4]} {national[4:7]} {national[7:]}", e164[3:]}


def phones_in(line: str, phones: set[str]) -> set[str]:
    """The roster phones a log line contains, however they are written."""
    found = {phone for phone in phones if any(form in line for form in usual_forms(phone))}
    for run in DIGIT_RUN.findall(line):
        normalized = normalize_phone(run)
        if normalized in phones:
            found.add(normalized)
    return found


TOKENS = {
    part
    for token in (TelegramSandbox().token, ZaloSandbox().token)
    for part in (token, token.split(":", 1)[1])
}
PHONES = roster_phones()


def leaks(lines: list[str]) -> list[str]:
    """The lines (shortened) that hold a sandbox token or a roster phone."""
    return [line[:300] for line in lines if any(token in line for token in TOKENS) or phones_in(line, PHONES)]
