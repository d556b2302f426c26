"""Logging set-up that never lets a secret through: the bot token is part of every Bot API URL that
python-telegram-bot and httpx log, so each record is scrubbed of the configured secrets before it is written.

Lines are text for a terminal, or with THIDUA_LOG_FORMAT=json one JSON object each for a log collector:
time, level, logger, message, and the update's id, channel and handling time where the record carries them
(``log.info(..., extra=update_fields(...))``). What the bot logs never holds a message's text, a phone
number or a linking code: ids, kinds and figures only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from storage.database import is_retryable

REDACTED = "[redacted]"
FIELDS = ("update_id", "channel", "ms")  # what a record may carry beyond its message, by ``extra``

# Libraries that log every request (with the bot's token in the URL) or every job at INFO: warnings only.
NOISY_LOGGERS = ("httpx", "httpcore", "aiohttp.access", "apscheduler", "alembic")


def log_failure(logger: logging.Logger, what: str, error: Exception) -> None:
    """Log that ``what`` failed and will be tried again: a database busy with another program (SQLite's
    write lock) or a lost connection to it as one WARNING naming the reason, as they pass by themselves;
    anything else, a fault of the code, as an ERROR with its traceback."""
    if is_retryable(error):
        logger.warning("%s (%s)", what, str(getattr(error, "orig", None) or error).strip())
    else:
        logger.error("%s", what, exc_info=error)


def update_fields(update_id: int | str, channel: str, ms: float | None = None) -> dict[str, object]:
    """The ``extra`` of a log call about one update: its id, its channel and, once known, the ms it took."""
    fields: dict[str, object] = {"update_id": update_id, "channel": channel}
    if ms is not None:
        fields["ms"] = round(ms, 1)
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, the update fields present and
    the traceback, if any, as ``error``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({name: getattr(record, name) for name in FIELDS if hasattr(record, name)})
        if record.exc_info and record.exc_info[1] is not None:
            line["error"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["error"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


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


def setup_logging(
    secrets: Iterable[str],
    level: int = logging.INFO,
    path: Path | None = None,
    log_format: Literal["text", "json"] = "text",
) -> None:
    """Log to stderr, or to the file ``path`` started afresh, as text or JSON lines, scrubbing secrets, and
    keep chatty HTTP libraries at warning level."""
    handler: logging.Handler = (
        logging.FileHandler(path, mode="w", encoding="utf-8") if path else logging.StreamHandler()
    )
    handler.setFormatter(
        JsonFormatter()
        if log_format == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
