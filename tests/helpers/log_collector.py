"""Every log record of the test session, as a handler would write it (message and traceback), so that
the last test can read them all for secrets (tests/test_zz_log_hygiene.py)."""

from __future__ import annotations

import logging

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
        """Listen on the root logger at the level the bot runs with (a test may have changed either)."""
        root = logging.getLogger()
        if self not in root.handlers:
            root.addHandler(self)
        root.setLevel(COLLECTED_LEVEL)


SESSION_LOGS = LogCollector()
