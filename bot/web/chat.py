"""The demo's web chat over HTTP: the page (plain files under ``static/``), its labels from the catalogs, one
JSON endpoint per thing a visitor does in a chat window, and live updates as server-sent events.

What stands behind the windows is a ``ChatRoom`` the demo hands in (``bot.demo_web`` over the Telegram and
Zalo sandboxes); this module knows HTTP and nothing of the sandboxes. It listens on 127.0.0.1 only, and
``thidua run`` never serves it: a real deployment has no personas to play and no clock to move.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web

from bot.web.server import file_response
from messages import plain
from messages.catalog import catalog
from messages.formatting import moment

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
LABELS = "webchat."  # the catalog section the page's own labels come from
KEEP_ALIVE_SECONDS = 15.0  # an idle event stream sends a comment this often, so proxies keep it open
MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # a photo or a document a visitor attaches (Telegram's bot limit)
TRAVELS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}

JsonDict = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Refused(Exception):
    """What a visitor asked cannot be done in this window (no such button, no contact on Zalo); the page
    shows the catalog text named by ``key``."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class Download:
    """A file the bot sent, to hand to the browser."""

    name: str
    content: bytes
    mime_type: str


class ChatRoom(Protocol):
    """The windows a visitor can open and what can be done in them. Actions return once the bot has
    answered (its replies and what the outbox sends for it are in the sandboxes)."""

    @property
    def changes(self) -> int:
        """A count that moves whenever a message appears, changes or goes in any window."""
        ...

    async def wait_changed(self, seen: int) -> None:
        """Return once ``changes`` has moved past ``seen``."""
        ...

    def windows(self) -> list[JsonDict]:
        """Who the visitor may be: key, name, role, channel and what the window can do."""
        ...

    def view(self, key: str) -> JsonDict:
        """One window as the page draws it: messages (both sides, oldest first), reply keyboard, commands."""
        ...

    async def send_text(self, key: str, text: str) -> None:
        """Send a text or a /command."""
        ...

    async def press(self, key: str, message_id: str, button: int) -> None:
        """Press the ``button``-th inline button (counted across rows) of a bot message."""
        ...

    async def press_key(self, key: str, button: int) -> None:
        """Press the ``button``-th button of the reply keyboard shown under the input."""
        ...

    async def share_contact(self, key: str) -> None:
        """Share the persona's own phone number."""
        ...

    async def attach(self, key: str, upload: Download) -> None:
        """Send a photo (an image type) or a document."""
        ...

    def download(self, key: str, message_id: str) -> Download | None:
        """The file of a bot message, if it has one."""
        ...

    def now(self) -> datetime:
        """The demo's clock."""
        ...

    async def travel(self, delta: timedelta) -> None:
        """Move the demo's clock forward, sending what falls due on the way."""
        ...


def labels(language: str) -> dict[str, str]:
    """The page's own labels, from the catalog's ``webchat`` section, as plain text."""
    return {
        key.removeprefix(LABELS): plain(value)
        for key, value in catalog(language).items()
        if key.startswith(LABELS)
    }


class WebChat:
    """The aiohttp application of the web chat; ``start`` listens on 127.0.0.1, ``stop`` ends it."""

    def __init__(self, room: ChatRoom, language: str) -> None:
        self.room = room
        self.language = language
        self.app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
        self.app.router.add_get("/", self._index)
        self.app.router.add_static("/static/", STATIC)
        self.app.router.add_get("/api/labels", self._labels)
        self.app.router.add_get("/api/windows", self._windows)
        self.app.router.add_get("/api/clock", self._clock)
        self.app.router.add_post("/api/clock", self._travel)
        self.app.router.add_get("/api/windows/{key}", self._view)
        self.app.router.add_get("/api/windows/{key}/events", self._events)
        self.app.router.add_post("/api/windows/{key}/text", self._acting(self._send_text))
        self.app.router.add_post("/api/windows/{key}/press", self._acting(self._press))
        self.app.router.add_post("/api/windows/{key}/key", self._acting(self._press_key))
        self.app.router.add_post("/api/windows/{key}/contact", self._acting(self._share))
        self.app.router.add_post("/api/windows/{key}/attach", self._acting(self._attach))
        self.app.router.add_get("/api/windows/{key}/files/{message_id}", self._download)
        self.app.on_shutdown.append(self._end_streams)
        self._streams: set[asyncio.Task[Any]] = set()
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self, listening: int | socket.socket) -> None:
        """Listen on 127.0.0.1:port (0: any free port, then in ``port``), or serve a socket already bound."""
        self._runner = web.AppRunner(self.app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        if isinstance(listening, socket.socket):
            await web.SockSite(self._runner, listening).start()
        else:
            await web.TCPSite(self._runner, "127.0.0.1", listening).start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """End the event streams and close the socket."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def address(self) -> str:
        """The page's address, once started."""
        return f"http://127.0.0.1:{self.port}/"

    # -- reading --------------------------------------------------------------------------------------

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def _labels(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({**labels(self.language), "language": self.language})

    async def _windows(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.room.windows())

    def _clock_json(self) -> JsonDict:
        now = self.room.now()
        return {"now": now.isoformat(), "text": moment(now, self.language)}

    async def _clock(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self._clock_json())

    async def _view(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self._window(request.match_info["key"]))

    def _window(self, key: str) -> JsonDict:
        try:
            return self.room.view(key)
        except LookupError as error:
            raise web.HTTPNotFound() from error

    async def _events(self, request: web.Request) -> web.StreamResponse:
        """The window again each time something changes in the sandboxes, as server-sent events."""
        key = request.match_info["key"]
        first = self._window(key)  # 404 before the stream starts
        stream = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",
            }
        )
        await stream.prepare(request)
        task = asyncio.current_task()
        assert task is not None
        self._streams.add(task)
        try:
            seen, sent = self.room.changes, _event("window", first)
            await stream.write(sent)
            while True:  # ends when the visitor leaves (the write fails) or the server stops (cancelled)
                try:
                    async with asyncio.timeout(KEEP_ALIVE_SECONDS):
                        await self.room.wait_changed(seen)
                except TimeoutError:
                    await stream.write(b": still here\n\n")
                    continue
                seen, latest = self.room.changes, _event("window", self._window(key))
                if latest != sent:  # a change in another window leaves this one as it was
                    sent = latest
                    await stream.write(sent)
        except ConnectionResetError:
            pass  # the visitor closed the window or the page
        finally:
            self._streams.discard(task)
        return stream

    async def _end_streams(self, app: web.Application) -> None:
        for task in list(self._streams):
            task.cancel()

    async def _download(self, request: web.Request) -> web.StreamResponse:
        try:
            found = self.room.download(request.match_info["key"], request.match_info["message_id"])
        except LookupError:
            found = None
        if found is None:
            raise web.HTTPNotFound()
        inline = found.mime_type.startswith("image/")
        return file_response(found.content, found.mime_type, found.name, inline=inline)

    # -- acting -----------------------------------------------------------------------------------------

    def _acting(self, act: Callable[[str, web.Request], Awaitable[None]]) -> Handler:
        """An action's route: 404 for an unknown window, 400 with a catalog text for a refused action,
        500 with one for a failure (logged), else the window as it is after the bot answered."""

        async def route(request: web.Request) -> web.StreamResponse:
            key = request.match_info["key"]
            self._window(key)
            try:
                await act(key, request)
            except Refused as refused:
                return self._problem(refused.key, 400)
            except (ValueError, KeyError, TypeError, json.JSONDecodeError):
                return self._problem("webchat.bad_request", 400)
            except Exception:
                log.exception("the web chat could not act for %s", key)
                return self._problem("webchat.failed", 500)
            return web.json_response(self._window(key))

        return route

    def _problem(self, key: str, status: int) -> web.Response:
        words = labels(self.language).get(key.removeprefix(LABELS), key)
        return web.json_response({"error": key, "text": words}, status=status)

    async def _send_text(self, key: str, request: web.Request) -> None:
        body = await request.json()
        typed = str(body["text"]).strip()
        if not typed:
            raise Refused("webchat.empty_text")
        await self.room.send_text(key, typed)

    async def _press(self, key: str, request: web.Request) -> None:
        body = await request.json()
        await self.room.press(key, str(body["message_id"]), int(body["button"]))

    async def _press_key(self, key: str, request: web.Request) -> None:
        body = await request.json()
        await self.room.press_key(key, int(body["button"]))

    async def _share(self, key: str, request: web.Request) -> None:
        await self.room.share_contact(key)

    async def _attach(self, key: str, request: web.Request) -> None:
        form = await request.post()
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            raise Refused("webchat.bad_request")
        content = upload.file.read()
        mime_type = upload.content_type or "application/octet-stream"
        await self.room.attach(key, Download(upload.filename or "file", content, mime_type))

    async def _travel(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
            delta = TRAVELS[str(body["by"])]
        except (ValueError, KeyError, TypeError):
            return self._problem("webchat.bad_request", 400)
        await self.room.travel(delta)
        return web.json_response(self._clock_json())


def _event(name: str, data: JsonDict) -> bytes:
    """One server-sent event (JSON has no raw line breaks, so it is one ``data`` line)."""
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()
