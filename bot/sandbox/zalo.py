"""An emulator of the Zalo Bot Platform API, served by aiohttp on localhost, for tests and terminal demos.

Strict where Zalo is: ``POST {root}/bot{token}/{method}`` with a JSON body, answers ``{ok, result,
error_code, description}``; getUpdates hands out ONE update per call and answers error_code 408 when idle;
texts are plain (an HTML tag arrives as typed) and at most 2,000 characters; dates are in milliseconds; there
are no buttons, edits, files from the bot or contacts. ``ZaloUser`` plays a person; tests inject the same
faults as on the Telegram sandbox (``add_fault``: 429, 5xx, slow answers, dropped connections, 403, 404) and
refuse connections for a while (``go_down``).

Once the bot calls setWebhook, updates are POSTed to its URL instead, in order, with the secret in the
``X-Bot-Api-Secret-Token`` header, each tried again until the bot answers 2xx; getUpdates is refused while a
webhook is set. Zalo wants an https URL; the sandbox also takes plain http to a loopback address, where tests
run the bot's web server.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

JsonDict = dict[str, Any]
Handler = Callable[[JsonDict], Awaitable[object]]
FaultKind = Literal["429", "5xx", "slow", "drop", "403", "404"]
SentKind = Literal["text", "photo", "sticker"]

MAX_TEXT_LENGTH = 2000
MAX_POLL_SECONDS = 60
SECRET_LENGTHS = range(8, 257)
CHAT_ACTIONS = frozenset({"typing", "upload_photo"})
SHUTDOWN_TIMEOUT_SECONDS = 2.0
WEBHOOK_RETRY_SECONDS = 0.05  # between tries of an update the webhook did not take; Zalo waits longer
WEBHOOK_SECRET_HEADER = "X-Bot-Api-Secret-Token"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
BLOCKED = "The user has blocked the bot"
NOT_FOUND = "User not found"
TEXT = "message.text.received"
IMAGE = "message.image.received"
STICKER = "message.sticker.received"
UNSUPPORTED = "message.unsupported.received"


class ZaloApiError(Exception):
    """An error answer: Zalo's error_code (also the HTTP status) and its description."""

    def __init__(self, error_code: int, description: str) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description

    def to_json(self) -> JsonDict:
        """The error as Zalo's JSON body."""
        return {"ok": False, "error_code": self.error_code, "description": self.description}


def now_ms() -> int:
    """The current time as Zalo writes dates: milliseconds since the epoch."""
    return int(time.time() * 1000)


def json_response(body: JsonDict, status: int = 200) -> web.Response:
    """A JSON answer."""
    return web.Response(
        text=json.dumps(body, ensure_ascii=False), status=status, content_type="application/json"
    )


def _string(params: JsonDict, name: str, *, required: bool = True) -> str | None:
    value = params.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise ZaloApiError(400, f"Bad Request: {name} must be a non-empty string")
    return value


def _checked_text(value: str | None, name: str) -> str | None:
    if value is not None and len(value) > MAX_TEXT_LENGTH:
        raise ZaloApiError(400, f"Bad Request: {name} is longer than {MAX_TEXT_LENGTH} characters")
    return value


@dataclass
class ZaloSent:
    """A message the bot sent, as the sandbox keeps it (texts exactly as sent: no markup is read)."""

    message_id: str
    chat_id: str
    kind: SentKind
    text: str = ""
    photo_url: str | None = None
    sticker: str | None = None
    date: int = 0

    @property
    def plain_text(self) -> str:
        """What the person reads: the text, or a photo's caption (already plain on Zalo)."""
        return self.text


@dataclass
class ZaloFault:
    """A fault injected into the calls it matches: of one method (or any), to one chat (or any), each with
    probability ``rate`` (the sandbox's seeded random), for the next ``times`` of them (or without end).

    Kinds: "429" (quota), "5xx" (``status``, a gateway's non-JSON page), "slow" (carried out, then answered
    ``delay`` seconds late), "drop" (the connection is closed without an answer, after carrying the call out
    if ``delivered``), "403" (the user blocked the bot), "404" (no such user).
    """

    kind: FaultKind
    method: str | None = "sendmessage"
    chat_id: str | None = None
    rate: float = 1.0
    times: int | None = None
    status: int = 502
    delay: float = 0.0
    delivered: bool = True
    hits: int = 0

    def matches(self, method: str, chat_id: str | None) -> bool:
        """True when this fault applies to a call of ``method`` for ``chat_id``."""
        return (
            (self.times is None or self.times > 0)
            and (self.method is None or self.method == method)
            and (self.chat_id is None or self.chat_id == chat_id)
        )


class ZaloSandbox:
    """An in-process Zalo Bot API: the bot talks HTTP to it, tests send as ``ZaloUser``."""

    def __init__(self, token: str = "2210987654:ZALO-SANDBOX-TOKEN", *, seed: int = 0) -> None:
        self.token = token
        self.bot_id = token.split(":", 1)[0]
        self.calls: list[tuple[str, JsonDict]] = []
        self.delivered = 0  # messages the bot has sent (photos and stickers included)
        self._delivery = asyncio.Event()
        self._users: dict[str, ZaloUser] = {}
        self._sent: dict[str, list[ZaloSent]] = {}
        self._blocked: set[str] = set()
        self._faults: list[ZaloFault] = []
        self._random = random.Random(seed)
        self._updates: deque[object] = deque()  # raw: a test may queue what Zalo would never send
        self._arrived = asyncio.Event()
        self._numbers = itertools.count(1)
        self._wrap_next = 0
        self._webhook: tuple[str, str] | None = None
        self._webhook_updated = 0
        self._pusher: asyncio.Task[None] | None = None
        self.webhook_answers: list[int] = []  # the bot's HTTP status for each webhook call, 0: no answer
        self._stopping = False
        self._address: tuple[str, int] | None = None
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._methods: dict[str, Handler] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "sendmessage": self._send_message,
            "sendphoto": self._send_photo,
            "sendsticker": self._send_sticker,
            "sendchataction": self._send_chat_action,
        }

    # ------------------------------------------------------------ lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve the API on host:port (port 0 picks a free port)."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api_call)
        self._stopping = False
        # A long poll whose client went away is cancelled, so it never takes an update it cannot hand out.
        self._runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS, handler_cancellation=True
        )
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, host, port)
        await self._site.start()
        self._address = self._runner.addresses[0][:2]

    async def stop(self) -> None:
        """End pending long polls and stop serving; safe to call twice."""
        self._stopping = True
        self._wake_pollers()
        if self._pusher is not None:
            await self._pusher
            self._pusher = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            self._site = None

    @property
    def api_url(self) -> str:
        """The server's root URL; the bot calls f"{api_url}/bot{token}/{method}"."""
        if self._runner is None or self._address is None:
            raise RuntimeError("the sandbox is not started")
        host, port = self._address
        return f"http://{host}:{port}"

    # ------------------------------------------------------------ test controls

    def user(self, user_id: str, display_name: str) -> ZaloUser:
        """A Zalo user with a private chat with the bot (created on first call)."""
        existing = self._users.get(user_id)
        if existing is None:
            existing = self._users[user_id] = ZaloUser(self, user_id, display_name)
            self._sent.setdefault(user_id, [])
        return existing

    def block(self, user_id: str) -> None:
        """The user blocked the bot: sending to their chat answers 403."""
        self._blocked.add(user_id)

    def add_fault(
        self,
        kind: FaultKind,
        *,
        method: str | None = "sendMessage",
        chat_id: str | None = None,
        rate: float = 1.0,
        times: int | None = None,
        status: int = 502,
        delay: float = 0.0,
        delivered: bool = True,
    ) -> ZaloFault:
        """Inject a fault (see ``ZaloFault``) into matching calls from now on; returns it (``hits``)."""
        fault = ZaloFault(
            kind, method.lower() if method else None, chat_id, rate, times, status, delay, delivered
        )
        self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Stop injecting every fault."""
        self._faults.clear()

    async def go_down(self) -> None:
        """Stop listening (connections are refused) and close the open ones, until ``go_up``."""
        if self._site is None or self._runner is None:
            raise RuntimeError("the sandbox is not serving")
        await self._site.stop()
        self._site = None
        server = self._runner.server
        if server is not None:
            for connection in list(server.connections):
                connection.force_close()
            await asyncio.sleep(0.05)  # let clients in this process see the hang-up, as after a real outage

    async def go_up(self) -> None:
        """Listen again on the same address after ``go_down``."""
        if self._runner is None or self._address is None:
            raise RuntimeError("the sandbox is not started")
        if self._site is None:
            self._site = web.TCPSite(self._runner, *self._address)
            await self._site.start()

    async def wait_delivered(self, at_least: int) -> None:
        """Return once the bot has sent at least this many messages in all (bound it with a timeout)."""
        while self.delivered < at_least:
            await self._delivery.wait()

    def messages(self, chat_id: str) -> list[ZaloSent]:
        """Everything the bot sent to the chat, oldest first."""
        return list(self._sent.get(chat_id, ()))

    def inject(self, update: JsonDict) -> None:
        """Queue an update for the next getUpdates (wrapped as ``{ok, result}`` if ``wrap_next`` says)."""
        if self._wrap_next:
            self._wrap_next -= 1
            update = {"ok": True, "result": update}
        self._updates.append(update)
        self._wake_pollers()

    def inject_raw(self, update: object) -> None:
        """Queue anything as the next update (nothing checked: it may be one the bot cannot read)."""
        self._updates.append(update)
        self._wake_pollers()

    def wrap_next(self, times: int) -> None:
        """The next ``times`` updates come wrapped as ``{ok: true, result: {event_name, message}}``."""
        self._wrap_next += times

    def next_message_id(self) -> str:
        """A fresh message id (Zalo's are opaque strings)."""
        return f"zm{next(self._numbers):08d}"

    @property
    def webhook(self) -> tuple[str, str] | None:
        """The webhook set (url, secret_token), if any."""
        return self._webhook

    # ------------------------------------------------------------ HTTP plumbing

    async def _handle_api_call(self, request: web.Request) -> web.Response:
        method = request.match_info["method"].lower()
        fault = None
        try:
            if request.method != "POST":
                raise ZaloApiError(405, "Method Not Allowed: use POST with a JSON body")
            try:
                params = await request.json()
            except ValueError:
                raise ZaloApiError(400, "Bad Request: the body is not JSON") from None
            if not isinstance(params, dict):
                raise ZaloApiError(400, "Bad Request: the body is not a JSON object")
            self.calls.append((method, params))
            if request.match_info["token"] != self.token:
                raise ZaloApiError(401, "Unauthorized")
            handler = self._methods.get(method)
            if handler is None:
                raise ZaloApiError(404, "Not Found: method not found")
            fault = self._draw_fault(method, params)
            if fault is not None and fault.kind == "5xx":
                # A gateway in front of the API answers, not the API: no JSON.
                return web.Response(text="Bad Gateway", status=fault.status)
            result = await (handler(params) if fault is None else self._faulty(fault, handler, params))
        except ZaloApiError as error:
            return json_response(error.to_json(), status=error.error_code)
        if fault is not None and fault.kind == "drop":
            request.protocol.force_close()  # the answer never leaves: the client sees the server hang up
        return json_response({"ok": True, "result": result})

    def _draw_fault(self, method: str, params: JsonDict) -> ZaloFault | None:
        chat_id = params.get("chat_id")
        for fault in self._faults:
            matching = fault.matches(method, chat_id if isinstance(chat_id, str) else None)
            if matching and self._random.random() < fault.rate:
                fault.hits += 1
                if fault.times is not None:
                    fault.times -= 1
                return fault
        return None

    async def _faulty(self, fault: ZaloFault, handler: Handler, params: JsonDict) -> object:
        if fault.kind == "429":
            raise ZaloApiError(429, "Too Many Requests: quota exceeded")
        if fault.kind == "403":
            raise ZaloApiError(403, BLOCKED)
        if fault.kind == "404":
            raise ZaloApiError(404, NOT_FOUND)
        if fault.kind == "drop" and not fault.delivered:
            return None
        result = await handler(params)
        if fault.kind == "slow":
            await asyncio.sleep(fault.delay)
        return result

    def _wake_pollers(self) -> None:
        self._arrived.set()
        self._arrived = asyncio.Event()

    def _chat(self, params: JsonDict) -> str:
        chat_id = _string(params, "chat_id")
        assert chat_id is not None
        if chat_id not in self._sent:
            raise ZaloApiError(404, NOT_FOUND)
        if chat_id in self._blocked:
            raise ZaloApiError(403, BLOCKED)
        return chat_id

    def _record(self, message: ZaloSent) -> JsonDict:
        self._sent[message.chat_id].append(message)
        self.delivered += 1
        self._delivery.set()
        self._delivery = asyncio.Event()
        return {"message_id": message.message_id, "date": message.date}

    # ------------------------------------------------------------ API methods

    async def _get_me(self, params: JsonDict) -> JsonDict:
        return {"id": self.bot_id, "account_name": "bot.thidua", "account_type": "BASIC"}

    async def _get_updates(self, params: JsonDict) -> object:
        if self._webhook is not None:
            raise ZaloApiError(400, "Bad Request: a webhook is set; delete it to use getUpdates")
        timeout = params.get("timeout", "0")
        if not isinstance(timeout, str) or not timeout.isdigit():
            raise ZaloApiError(400, 'Bad Request: timeout must be a string of seconds, e.g. "30"')
        deadline = asyncio.get_running_loop().time() + min(int(timeout), MAX_POLL_SECONDS)
        while not self._updates and not self._stopping:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                break
        if not self._updates:
            raise ZaloApiError(408, "Request timeout: no update")
        return self._updates.popleft()  # one update, and it is gone once handed out

    async def _set_webhook(self, params: JsonDict) -> JsonDict:
        url = _string(params, "url")
        secret = _string(params, "secret_token")
        assert url is not None and secret is not None
        address = urlsplit(url)
        local = address.scheme == "http" and address.hostname in LOOPBACK_HOSTS
        if not (address.scheme == "https" or local) or not address.netloc:
            raise ZaloApiError(400, "Bad Request: url must be an https:// URL")
        if len(secret) not in SECRET_LENGTHS:
            raise ZaloApiError(400, "Bad Request: secret_token must be 8 to 256 characters")
        self._webhook = (url, secret)
        self._webhook_updated = now_ms()
        if self._pusher is None or self._pusher.done():
            self._pusher = asyncio.get_running_loop().create_task(self._push_to_webhook())
        return {"url": url, "updated_at": self._webhook_updated}

    async def _delete_webhook(self, params: JsonDict) -> JsonDict:
        self._webhook = None
        self._webhook_updated = now_ms()
        self._wake_pollers()  # the pusher ends
        return {"url": "", "updated_at": self._webhook_updated}

    async def _push_to_webhook(self) -> None:
        """POST each queued update to the webhook in order; one is dropped once the bot answers 2xx."""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            while self._webhook is not None and not self._stopping:
                arrived = self._arrived
                if not self._updates:
                    await arrived.wait()
                    continue
                update = self._updates[0]
                url, secret = self._webhook
                try:
                    headers = {WEBHOOK_SECRET_HEADER: secret}
                    async with session.post(url, json=update, headers=headers) as answer:
                        status = answer.status
                except (aiohttp.ClientError, TimeoutError):
                    status = 0
                self.webhook_answers.append(status)
                if 200 <= status < 300:
                    if self._updates and self._updates[0] is update:
                        self._updates.popleft()
                else:
                    await asyncio.sleep(WEBHOOK_RETRY_SECONDS)

    async def _get_webhook_info(self, params: JsonDict) -> JsonDict:
        url = self._webhook[0] if self._webhook else ""
        return {"url": url, "updated_at": self._webhook_updated}

    async def _send_message(self, params: JsonDict) -> JsonDict:
        chat_id = self._chat(params)
        text = _checked_text(_string(params, "text"), "text")
        assert text is not None
        return self._record(ZaloSent(self.next_message_id(), chat_id, "text", text, date=now_ms()))

    async def _send_photo(self, params: JsonDict) -> JsonDict:
        chat_id = self._chat(params)
        photo = _string(params, "photo")
        assert photo is not None
        if urlsplit(photo).scheme not in ("http", "https"):
            raise ZaloApiError(400, "Bad Request: photo must be an http(s) URL")
        caption = _checked_text(_string(params, "caption", required=False), "caption") or ""
        return self._record(ZaloSent(self.next_message_id(), chat_id, "photo", caption, photo, date=now_ms()))

    async def _send_sticker(self, params: JsonDict) -> JsonDict:
        chat_id = self._chat(params)
        sticker = _string(params, "sticker")
        sent = ZaloSent(self.next_message_id(), chat_id, "sticker", sticker=sticker, date=now_ms())
        return self._record(sent)

    async def _send_chat_action(self, params: JsonDict) -> bool:
        self._chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise ZaloApiError(400, f"Bad Request: action must be one of {sorted(CHAT_ACTIONS)}")
        return True


class ZaloUser:
    """A Zalo user talking to the bot in a private chat: each action queues one update and returns the
    message id, which the bot's channel reports once it has answered it."""

    def __init__(self, sandbox: ZaloSandbox, user_id: str, display_name: str) -> None:
        self.user_id = user_id
        self.chat_id = user_id
        self.display_name = display_name
        self._sandbox = sandbox

    def _post(self, event_name: str, **content: object) -> str:
        message_id = self._sandbox.next_message_id()
        message = {
            "message_id": message_id,
            "from": {"id": self.user_id, "display_name": self.display_name, "is_bot": False},
            "chat": {"id": self.chat_id, "chat_type": "PRIVATE"},
            "date": now_ms(),
            **content,
        }
        self._sandbox.inject({"event_name": event_name, "message": message})
        return message_id

    async def send_text(self, text: str) -> str:
        """Send a text (a command is a text starting with "/", as the person types it)."""
        return self._post(TEXT, text=text)

    async def send_image(self, photo_url: str, caption: str | None = None) -> str:
        """Send a photo (Zalo hands the bot its URL)."""
        content: dict[str, object] = {"photo_url": photo_url}
        if caption is not None:
            content["caption"] = caption
        return self._post(IMAGE, **content)

    async def send_sticker(self, sticker: str = "d063f44dc80821567819") -> str:
        """Send a sticker."""
        return self._post(STICKER, sticker=sticker, url=f"https://zalo.example/sticker/{sticker}")

    async def send_unsupported(self) -> str:
        """Send something the Bot Platform does not describe (a voice note, a location...)."""
        return self._post(UNSUPPORTED)

    def messages(self) -> list[ZaloSent]:
        """Everything the bot sent to this user's chat, oldest first."""
        return self._sandbox.messages(self.chat_id)

    def last(self) -> ZaloSent:
        """The newest bot message in this user's chat."""
        sent = self.messages()
        if not sent:
            raise AssertionError(f"the bot has sent nothing to {self.display_name} (chat {self.chat_id})")
        return sent[-1]
