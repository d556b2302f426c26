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
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from aiohttp import web

from bot.sandbox.server import Fault, SandboxServer

JsonDict = dict[str, Any]
Handler = Callable[[JsonDict], Awaitable[object]]
SentKind = Literal["text", "photo", "sticker"]

MAX_TEXT_LENGTH = 2000
MAX_POLL_SECONDS = 60
SECRET_LENGTHS = range(8, 257)
CHAT_ACTIONS = frozenset({"typing", "upload_photo"})
SHUTDOWN_TIMEOUT_SECONDS = 2.0
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


class GatewayError(Exception):
    """A gateway in front of the API answers, not the API: a plain page with this status, no JSON."""

    def __init__(self, status: int) -> None:
        super().__init__(f"gateway answered {status}")
        self.status = status


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


class ZaloSandbox(SandboxServer[str, object]):
    """An in-process Zalo Bot API: the bot talks HTTP to it, tests send as ``ZaloUser``."""

    fault_kinds = frozenset({"429", "5xx", "slow", "drop", "403", "404"})

    def __init__(self, token: str = "2210987654:ZALO-SANDBOX-TOKEN", *, seed: int = 0) -> None:
        super().__init__(seed)
        self.token = token
        self.bot_id = token.split(":", 1)[0]
        self.calls: list[tuple[str, JsonDict]] = []
        self._users: dict[str, ZaloUser] = {}
        self._sent: dict[str, list[ZaloSent]] = {}
        self._blocked: set[str] = set()
        self._numbers = itertools.count(1)
        self._wrap_next = 0
        self._webhook: tuple[str, str] | None = None
        self._webhook_updated = 0
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
        # A long poll whose client went away is cancelled, so it never takes an update it cannot hand out.
        runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS, handler_cancellation=True
        )
        await self._listen(runner, host, port)

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
            chat_id = params.get("chat_id")
            chat = chat_id if isinstance(chat_id, str) else None
            result = await self._carry_out(request, method, chat, lambda: handler(params))
        except GatewayError as error:
            return web.Response(text="Bad Gateway", status=error.status)
        except ZaloApiError as error:
            return json_response(error.to_json(), status=error.error_code)
        return json_response({"ok": True, "result": result})

    def _fault_error(self, fault: Fault[str]) -> ZaloApiError | GatewayError | None:
        """Zalo's answer to a fault of an error kind."""
        if fault.kind == "429":
            return ZaloApiError(429, "Too Many Requests: quota exceeded")
        if fault.kind == "5xx":
            return GatewayError(fault.status)
        if fault.kind == "403":
            return ZaloApiError(403, BLOCKED)
        if fault.kind == "404":
            return ZaloApiError(404, NOT_FOUND)
        return None

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
        self._count_delivered()
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
                async with asyncio.timeout(remaining):
                    await self._arrived.wait()
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
        self._start_pusher()
        return {"url": url, "updated_at": self._webhook_updated}

    async def _delete_webhook(self, params: JsonDict) -> JsonDict:
        self._webhook = None
        self._webhook_updated = now_ms()
        self._wake_pollers()  # the pusher ends
        return {"url": "", "updated_at": self._webhook_updated}

    def _webhook_target(self) -> tuple[str, dict[str, str]] | None:
        """The webhook's URL and Zalo's secret header, if one is set."""
        if self._webhook is None:
            return None
        url, secret = self._webhook
        return url, {WEBHOOK_SECRET_HEADER: secret}

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

    def _post(self, event_name: str, content: dict[str, object], times: int = 1) -> str:
        message_id = self._sandbox.next_message_id()
        message = {
            "message_id": message_id,
            "from": {"id": self.user_id, "display_name": self.display_name, "is_bot": False},
            "chat": {"id": self.chat_id, "chat_type": "PRIVATE"},
            "date": now_ms(),
            **content,
        }
        for _ in range(times):
            self._sandbox.inject({"event_name": event_name, "message": dict(message)})
        return message_id

    async def send_text(self, text: str, *, times: int = 1) -> str:
        """Send a text (a command is a text starting with "/", as the person types it); ``times`` above 1
        hands the bot the same message again, as Zalo does when its answer to a delivery was lost."""
        return self._post(TEXT, {"text": text}, times)

    async def send_image(self, photo_url: str, caption: str | None = None) -> str:
        """Send a photo (Zalo hands the bot its URL)."""
        content: dict[str, object] = {"photo_url": photo_url}
        if caption is not None:
            content["caption"] = caption
        return self._post(IMAGE, content)

    async def send_sticker(self, sticker: str = "d063f44dc80821567819") -> str:
        """Send a sticker."""
        return self._post(STICKER, {"sticker": sticker, "url": f"https://zalo.example/sticker/{sticker}"})

    async def send_unsupported(self) -> str:
        """Send something the Bot Platform does not describe (a voice note, a location...)."""
        return self._post(UNSUPPORTED, {})

    def messages(self) -> list[ZaloSent]:
        """Everything the bot sent to this user's chat, oldest first."""
        return self._sandbox.messages(self.chat_id)

    def last(self) -> ZaloSent:
        """The newest bot message in this user's chat."""
        sent = self.messages()
        if not sent:
            raise AssertionError(f"the bot has sent nothing to {self.display_name} (chat {self.chat_id})")
        return sent[-1]
