"""THIDUA_LOG_FORMAT=json: one JSON object a line, with the update's id, channel and timing, and never a
token, a secret, a phone number, an invitation code or what someone wrote."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.engine.config import Settings
from bot.engine.logs import setup_logging
from bot.sandbox import TelegramSandbox
from tests.helpers.chat import Chat
from tests.helpers.flows import linked
from tests.helpers.roster import HUNG, MAI, STRANGER

pytestmark = pytest.mark.sandbox

INVITE_CODE = re.compile(r"start[?=]([\w-]+)")


@pytest.fixture
def json_log(tmp_path: Path, settings: Settings) -> Iterator[Path]:
    """The service's logging as ``thidua run`` sets it with THIDUA_LOG_FORMAT=json, into a file."""
    path = tmp_path / "thidua.log"
    setup_logging(settings.secrets(), logging.INFO, path=path, log_format="json")
    try:
        yield path
    finally:
        root = logging.getLogger()
        for handler in list(root.handlers):
            if isinstance(handler, logging.FileHandler):
                root.removeHandler(handler)
                handler.close()


def written_lines(path: Path) -> list[str]:
    """The lines of the log file (read once the conversation is over)."""
    return path.read_text(encoding="utf-8").splitlines()


def phone_forms(phone: str) -> list[str]:
    """The ways a Vietnamese mobile number is written: 0912345678, 912345678, 84912345678, 0912 345 678."""
    national = phone.removeprefix("0")
    return [phone, national, f"84{national}", f"{phone[:4]} {phone[4:7]} {phone[7:]}"]


async def test_json_lines_carry_update_fields_and_no_token_phone_code_or_text(
    json_log: Path, chat: Callable[..., Chat], sandbox: TelegramSandbox, settings: Settings
) -> None:
    hung = await linked(chat, HUNG)
    mai = await linked(chat, MAI)
    await mai.send("Tôi muốn hỏi về phong trào thi đua bí mật")
    await hung.send("/moi CDCS-YT")
    found = INVITE_CODE.search(hung.last_text)
    assert found is not None
    code = found.group(1)
    nam = chat(*STRANGER)
    await nam.send(f"/start {code}")
    await hung.send("/thongbao")
    await hung.send("Họp công đoàn phòng kín 14 giờ")
    await hung.press("Tất cả đoàn viên")
    await hung.press("Xác nhận gửi")
    await mai.act(mai.user.send_sticker())  # something the bot does not take
    # A library naming the token in a URL, as httpx and python-telegram-bot do: scrubbed in JSON too.
    logging.getLogger("telegram.ext").warning("POST %s/bot%s/getMe failed", sandbox.api_url, sandbox.token)

    lines = written_lines(json_log)
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert records and all({"time", "level", "logger", "message"} <= set(r) for r in records)
    answered = [r for r in records if r["message"] == "update answered"]
    assert len(answered) == sandbox.last_update_id
    assert all(r["channel"] == "telegram" and r["ms"] >= 0 for r in answered)
    assert sorted(r["update_id"] for r in answered) == list(range(1, sandbox.last_update_id + 1))
    assert any(r["message"].endswith("/bot[redacted]/getMe failed") for r in records)
    written = "\n".join(lines)
    forbidden = [
        sandbox.token,
        *settings.secrets(),
        *phone_forms(MAI[3]),
        *phone_forms(HUNG[3]),
        *phone_forms(STRANGER[3]),
        code,
        "phong trào thi đua bí mật",
        "phòng kín",
    ]
    assert [secret for secret in forbidden if secret in written] == []
