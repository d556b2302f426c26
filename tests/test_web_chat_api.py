"""The web chat's endpoints without a browser: the demo's windows over the sandboxes, what each action gives
back, the live stream, files to download, time travel, and what is refused."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient, TestServer

from bot.demo import demo_world
from bot.demo_web import SandboxRoom
from bot.engine.clock import TravelClock
from bot.engine.config import load_settings
from bot.web.chat import WebChat, labels
from messages import plain, text
from tests.helpers.roster import vietnam_today

YEAR = vietnam_today().year
pytestmark = pytest.mark.sqlite_only("the demo keeps its own SQLite file")

Json = dict[str, Any]


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    async with demo_world(load_settings(_env_file=None), tmp_path / "demo.db") as world:
        chat = WebChat(SandboxRoom(world), "vi")
        async with TestClient(TestServer(chat.app)) as client:
            yield client


async def act(client: TestClient[Any, Any], key: str, what: str, body: Json | None = None) -> Json:
    answer = await client.post(f"/api/windows/{key}/{what}", json=body or {})
    assert answer.status == 200, await answer.text()
    view: Json = await answer.json()
    return view


async def say(client: TestClient[Any, Any], key: str, typed: str) -> Json:
    return await act(client, key, "text", {"text": typed})


async def press(client: TestClient[Any, Any], key: str, label: str, view: Json) -> Json:
    """Press the newest inline button whose label holds ``label``, as a visitor clicks it."""
    for message in reversed(view["messages"]):
        for row in message.get("buttons", []):
            for button in row:
                if label in button["label"]:
                    pressed = {"message_id": message["id"], "button": button["index"]}
                    return await act(client, key, "press", pressed)
    raise AssertionError(f"no button {label!r}")


def texts(view: Json, sender: str = "bot") -> list[str]:
    return [str(message["text"]) for message in view["messages"] if message["from"] == sender]


def shown(key: str, **params: object) -> str:
    return plain(text("vi", key, **params))


async def test_the_windows_are_the_demo_people_and_the_labels_come_from_the_catalog(
    web: TestClient[Any, Any],
) -> None:
    windows = await (await web.get("/api/windows")).json()
    assert [(w["key"], w["channel"], w["buttons"]) for w in windows] == [
        ("mai", "telegram", True),
        ("hung", "telegram", True),
        ("nam", "telegram", True),
        ("hang", "zalo", False),
    ]
    assert await (await web.get("/api/labels")).json() == {**labels("vi"), "language": "vi"}
    assert labels("vi")["send"] == "Gửi"
    page = await web.get("/")
    assert page.status == 200 and "/static/chat.js" in await page.text()
    assert (await web.get("/static/chat.css")).status == 200
    assert (await web.get("/api/windows/nobody")).status == 404


async def test_a_newcomer_links_by_sharing_the_phone_and_sees_both_sides(web: TestClient[Any, Any]) -> None:
    view = await say(web, "mai", "/start")
    assert view["keyboard"] and any(button.get("contact") for row in view["keyboard"] for button in row)
    view = await act(web, "mai", "contact")
    mine = [m for m in view["messages"] if m["from"] == "me"]
    assert [m["kind"] for m in mine] == ["text", "contact"] and mine[1]["text"] == "0912345678"
    assert any("Hoàng Thị Mai" in line for line in texts(view))
    assert any(command["command"] == "start" for command in view["commands"])  # the command menu


async def test_buttons_of_older_messages_edits_files_and_the_stream(web: TestClient[Any, Any]) -> None:
    await say(web, "mai", "/start")
    await act(web, "mai", "contact")
    await say(web, "hung", "/start")
    await act(web, "hung", "contact")
    async with web.get("/api/windows/mai/events") as stream:
        first = await _next_event(stream)
        assert first["key"] == "mai" and not any("XSD" in line for line in texts(first))
        await say(web, "nam", "/start")  # a change in another window sends nothing on Mai's stream
        view = await say(web, "hung", "/phatdong XSD")
        view = await press(web, "hung", "Phát động ngay", view)
        assert any(m["edits"] for m in view["messages"])  # the launch confirmation edits the question
        live = await _next_event(stream)  # the announcement, with no action in Mai's window
        assert "XSD" in texts(live)[-1] and len(live["messages"]) == len(first["messages"]) + 1
    view = await say(web, "hung", f"/thongke LDG-{YEAR}")
    photo = next(m for m in view["messages"] if m["kind"] == "photo")
    chart = await web.get(photo["file"]["url"])
    assert chart.status == 200 and (await chart.read()).startswith(b"\x89PNG")
    view = await say(web, "hung", f"/baocao LDG-{YEAR}")
    document = next(m for m in view["messages"] if m["kind"] == "document")
    workbook = await web.get(document["file"]["url"])
    assert (await workbook.read()).startswith(b"PK")
    assert "attachment" in workbook.headers["Content-Disposition"]
    # An inline button of an older message still works: the menu of /start, several messages up.
    older = next(m for m in view["messages"] if m.get("buttons") and m["from"] == "bot")
    label = older["buttons"][0][0]["label"]
    again = await press(web, "hung", label, {"messages": [older]})
    assert len(again["messages"]) > len(view["messages"])


async def _next_event(stream: Any) -> Json:
    """The next ``window`` event of a server-sent stream (keep-alive comments skipped), bounded."""
    data = ""
    async with asyncio.timeout(30):
        while True:
            line = (await stream.content.readline()).decode().rstrip("\n")
            if line.startswith("data: "):
                data = line.removeprefix("data: ")
            elif line == "" and data:
                event: Json = json.loads(data)
                return event


async def test_zalo_shows_numbered_menus_and_refuses_what_zalo_cannot(web: TestClient[Any, Any]) -> None:
    view = await say(web, "hang", "/start")
    assert view["channel"] == "zalo" and view["keyboard"] == [] and view["commands"] == []
    assert texts(view, "me") == ["/start"]
    assert any("1." in line for line in texts(view))  # the menu comes numbered
    refused = await web.post("/api/windows/hang/contact", json={})
    assert refused.status == 400 and (await refused.json())["error"] == "webchat.zalo_typed_only"


async def test_what_cannot_be_done_is_refused_with_a_catalog_text(web: TestClient[Any, Any]) -> None:
    gone = await web.post("/api/windows/mai/press", json={"message_id": "999", "button": 0})
    assert gone.status == 400
    assert await gone.json() == {"error": "webchat.no_button", "text": shown("webchat.no_button")}
    assert (await web.post("/api/windows/mai/text", json={"text": "  "})).status == 400
    assert (await web.post("/api/windows/mai/text", data=b"not json")).status == 400
    assert (await web.post("/api/clock", json={"by": "year"})).status == 400
    assert (await web.get("/api/windows/mai/files/1")).status == 404


async def test_attachments_reach_the_bot(web: TestClient[Any, Any]) -> None:
    await say(web, "mai", "/start")
    form = FormData()
    form.add_field("file", b"%PDF-1.4 a pledge", filename="cam-ket.pdf", content_type="application/pdf")
    answer = await web.post("/api/windows/mai/attach", data=form)
    assert answer.status == 200
    view = await answer.json()
    mine = [m for m in view["messages"] if m["from"] == "me"][-1]
    assert (mine["kind"], mine["text"]) == ("document", "cam-ket.pdf")


async def test_time_travel_sends_the_deadline_reminders_falling_due(web: TestClient[Any, Any]) -> None:
    await say(web, "mai", "/start")
    await act(web, "mai", "contact")
    before = (await (await web.get("/api/clock")).json())["now"]
    for _ in range(2):
        answer = await web.post("/api/clock", json={"by": "week"})
        assert answer.status == 200
    after = (await answer.json())["now"]
    assert after > before
    view = await (await web.get("/api/windows/mai")).json()
    reminder = [line for line in texts(view) if "Còn 7 ngày là hết hạn đăng ký" in line]
    assert len(reminder) == 1 and f"Lao động giỏi, lao động sáng tạo năm {YEAR}" in reminder[0]
    # Hằng registered in the seed (an evaluation candidate): no registration reminder for her.
    zalo = await (await web.get("/api/windows/hang")).json()
    assert not any("Còn 7 ngày là hết hạn đăng ký" in line for line in texts(zalo))


async def test_keep_starts_on_the_last_run_database(tmp_path: Path) -> None:
    settings = load_settings(_env_file=None)
    async with demo_world(settings, tmp_path / "demo.db") as world:
        room = SandboxRoom(world)
        await room.send_text("mai", "/start")
        await room.share_contact("mai")
    async with demo_world(settings, tmp_path / "demo.db", keep=True) as world:
        room = SandboxRoom(world)
        await room.send_text("mai", "/start")  # still linked: greeted by name, no contact asked
        assert any("Xin chào Hoàng Thị Mai" in line for line in texts(room.view("mai")))
    async with demo_world(settings, tmp_path / "demo.db") as world:
        room = SandboxRoom(world)
        await room.send_text("mai", "/start")  # without --keep: a fresh database, Mai unknown again
        assert not any("Xin chào Hoàng Thị Mai" in line for line in texts(room.view("mai")))


def test_thidua_demo_prints_its_address_and_serves_the_page_until_stopped(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("THIDUA_")}
    demo = subprocess.Popen(
        [sys.executable, "-m", "bot", "demo", "--port", "0"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert demo.stdout is not None
        first = demo.stdout.readline()  # printed once the page is served
        address = re.search(r"http://127\.0\.0\.1:\d+/", first)
        assert address is not None, first
        with urllib.request.urlopen(address.group(), timeout=10) as page:
            assert "/static/chat.js" in page.read().decode()
        demo.send_signal(signal.SIGINT)
        out, err = demo.communicate(timeout=60)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait(timeout=10)
    assert demo.returncode == 0, err
    finished = plain(text("vi", "webchat.finished", database="thidua-demo.db"))
    assert err == "" and out.rstrip().endswith(finished)


def test_a_taken_port_is_one_line_and_leaves_the_running_demo_alone(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("THIDUA_")}
    # The demo already running there (same default port and database): it said "address in use" only after
    # deleting that demo's database from under it, seeding its own in its place and emptying its log.
    running = {
        tmp_path / "thidua-demo.db": b"the running demo's database",
        tmp_path / "thidua-demo.log": b"log",
    }
    for path, content in running.items():
        path.write_bytes(content)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "bot", "demo", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 2
    # Said as `thidua run` says it (it read "(error while attempting to bind on address ('127.0.0.1', …)").
    assert (
        result.stderr
        == f"thidua: cannot listen on 127.0.0.1:{port}: address in use; choose another with --port\n"
    )
    assert {path: path.read_bytes() for path in running} == running


def test_the_travel_clock_only_goes_forward() -> None:
    clock = TravelClock()
    start = clock.now()
    clock.advance(timedelta(days=1))
    assert clock.now() - start >= timedelta(days=1)
    with pytest.raises(ValueError):
        clock.advance(timedelta(hours=-1))
