"""Logging set-up that never lets a secret through: the bot token is part of every Bot API URL that
python-telegram-bot and httpx log, so each record is scrubbed of the configured secrets before it is written.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

REDACTED = "[redacted]"


class RedactSecrets(logging.Filter):
    """Replaces every secret in a record's message and arguments with a placeholder."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [secret for secret in secrets if secret]

    def _scrub(self, value: str) -> str:
        for secret in self.secrets:
            value = value.replace(secret, REDACTED)
        return value

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        # Render once, so secrets inside arguments (URLs, exceptions) are caught too.
        record.msg = self._scrub(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self._scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class _DropPassedOnRateLimits(logging.Filter):
    """Drops python-telegram-bot's limiter ERROR (with traceback) for a 429 it raises to its caller."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Rate limit hit after maximum")


_PASSED_ON_RATE_LIMITS = _DropPassedOnRateLimits()


def quiet_passed_on_rate_limits() -> None:
    """Mute the limiter's line for each 429 it passes on: with no retries of its own, the caller handles
    every one (a direct reply waits, the outbox reschedules) and logs it once as a WARNING with the wait."""
    logging.getLogger("telegram.ext.AIORateLimiter").addFilter(_PASSED_ON_RATE_LIMITS)


def setup_logging(secrets: Iterable[str], level: int = logging.INFO, path: Path | None = None) -> None:
    """Log to stderr, or to the file ``path`` started afresh, scrubbing secrets, and keep chatty HTTP
    libraries at warning level."""
    handler: logging.Handler = (
        logging.FileHandler(path, mode="w", encoding="utf-8") if path else logging.StreamHandler()
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "aiohttp.access", "apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
