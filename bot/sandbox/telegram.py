"""An emulator of the Telegram Bot API, served by aiohttp on localhost, for tests and terminal demos.

TelegramSandbox answers like Telegram (same JSON, same errors); SandboxUser plays a Telegram user.
Updates are fetched by getUpdates, or, once the bot calls setWebhook, POSTed to its URL in order with the
secret header, as Telegram does (kept and tried again until the bot answers 2xx).
Tests inject faults per method and per chat, at a seeded random rate or for the next N calls (``add_fault``:
429, 5xx, slow answers, dropped connections, 403, 400), and refuse connections for a while (``go_down``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Literal

from aiohttp import web

from bot.sandbox.server import Fault, SandboxServer
from bot.sandbox.telegram_html import HtmlParseError, ParsedText, parse_html, strip_text, utf16_length

JsonDict = dict[str, Any]
Params = dict[str, object]
MessageKind = Literal["text", "photo", "document"]
Handler = Callable[[Params], Awaitable[object]]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_UPDATES_PER_POLL = 100
SHUTDOWN_TIMEOUT_SECONDS = 2.0
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "scope",
        "commands",
        "entities",
        "caption_entities",
        "allowed_updates",
        "link_preview_options",
        "reply_parameters",
    }
)
SCALAR_PARAMS = frozenset(
    {
        "chat_id",
        "message_id",
        "user_id",
        "offset",
        "limit",
        "timeout",
        "cache_time",
        "message_thread_id",
        "show_alert",
        "drop_pending_updates",
        "disable_notification",
        "protect_content",
    }
)
DECODED_PARAMS = JSON_PARAMS | SCALAR_PARAMS
INLINE_BUTTON_ACTIONS = frozenset(
    {
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "web_app",
        "login_url",
        "callback_game",
        "pay",
        "copy_text",
    }
)
UNSUPPORTED_REPLY_BUTTONS = ("request_location", "request_poll", "request_users", "request_chat", "web_app")
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
PLAIN_SCOPES = frozenset({"default", "all_private_chats", "all_group_chats", "all_chat_administrators"})
BOT_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
COMMAND_AT_START = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")
BLOCKED = "Forbidden: bot was blocked by the user"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)


class ApiError(Exception):
    """A Bot API error answer: HTTP status, Telegram's description and, for 429, retry_after."""

    def __init__(self, error_code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def to_json(self) -> JsonDict:
        """The error as Telegram's JSON body."""
        body: JsonDict = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(detail: str) -> ApiError:
    """A 400 error with Telegram's "Bad Request: " prefix."""
    return ApiError(400, f"Bad Request: {detail}")


@dataclass
class SentMessage:
    """A message the bot sent, as the sandbox keeps it; edits update it in place."""

    message_id: int
    chat_id: int
    text: str
    plain_text: str
    parse_mode: str | None
    kind: MessageKind
    inline_keyboard: list[list[JsonDict]] = field(default_factory=list)
    reply_keyboard: list[list[JsonDict]] | None = None
    remove_keyboard: bool = False
    file_name: str | None = None
    file_bytes: bytes | None = None
    mime_type: str | None = None
    edits: int = 0
    entities: list[JsonDict] = field(default_factory=list)
    date: int = 0
    edit_date: int | None = None
    file_id: str | None = None
    # When the sandbox took it, on the machine's monotonic clock: benchmarks time replies by it.
    sent_at: float = field(default_factory=time.monotonic, compare=False)


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    file_name: str
    content: bytes
    mime_type: str


@dataclass(frozen=True)
class StoredFile:
    """A file the sandbox can serve: sent by a user or uploaded by the bot."""

    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    file_name: str
    mime_type: str

    def file_json(self) -> JsonDict:
        """The File object getFile answers with."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
            "file_path": self.file_path,
        }

    def document_json(self) -> JsonDict:
        """The Document object of a message."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "file_size": len(self.content),
        }

    def photo_json(self) -> list[JsonDict]:
        """The PhotoSize list of a message (one size)."""
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "width": 1280,
                "height": 960,
                "file_size": len(self.content),
            }
        ]


@dataclass(frozen=True)
class Markup:
    """A parsed reply_markup parameter."""

    inline_keyboard: list[list[JsonDict]] = field(default_factory=list)
    reply_keyboard: list[list[JsonDict]] | None = None
    remove_keyboard: bool = False


@dataclass
class ChatState:
    """One chat: its Chat JSON and the messages of both sides, keyed by message_id."""

    info: JsonDict
    bot_messages: dict[int, SentMessage] = field(default_factory=dict)
    user_messages: dict[int, JsonDict] = field(default_factory=dict)
    last_message_id: int = 0

    def next_message_id(self) -> int:
        """Allocate the next message_id of this chat (shared by the bot and the users, like Telegram)."""
        self.last_message_id += 1
        return self.last_message_id

    def newest_bot_message(self, wanted: Callable[[SentMessage], bool]) -> SentMessage | None:
        """The newest bot message for which `wanted` is true."""
        return next((message for message in reversed(self.bot_messages.values()) if wanted(message)), None)


def now() -> int:
    """The current unix time, as Telegram dates are."""
    return int(time.time())


# ---------------------------------------------------------------- request parameters


async def read_params(request: web.Request) -> Params:
    """Merge the query string and a JSON, urlencoded or multipart body; decode JSON-valued fields."""
    params: Params = {}
    params.update(request.query)
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON object") from None
        if not isinstance(body, dict):
            raise bad_request("parameters must be a JSON object")
        params.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in (await request.post()).items():
            params[name] = form_value(value)
    return {name: decode_json_param(name, value) for name, value in params.items()}


def form_value(value: str | bytes | bytearray | web.FileField) -> str | UploadedFile:
    """A form field as text, or as an UploadedFile for a file part."""
    if isinstance(value, web.FileField):
        return UploadedFile(value.filename, value.file.read(), value.content_type)
    return value if isinstance(value, str) else bytes(value).decode()


def decode_json_param(name: str, value: object) -> object:
    """Decode a JSON-encoded form value: objects and arrays must parse, scalars may stay text ("@channel")."""
    if not isinstance(value, str) or name not in DECODED_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        if name in SCALAR_PARAMS:
            return value
        raise bad_request(f"can't parse {name} JSON object") from None


def str_param(params: Params, name: str) -> str | None:
    """A parameter as text, or None when absent."""
    value = params.get(name)
    return None if value is None else str(value)


def int_param(params: Params, name: str, default: int = 0) -> int:
    """A parameter as an integer; a malformed one is a 400 like Telegram's."""
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        return int(str(value))
    except ValueError:
        raise bad_request(f"invalid {name} specified") from None


def bool_param(params: Params, name: str) -> bool:
    """A parameter as a boolean (JSON true or the string "true")."""
    return params.get(name) in (True, "true", "True", "1")


def chat_id_param(params: Params) -> int:
    """The chat_id parameter; the sandbox knows chats by numeric id only."""
    value = params.get("chat_id")
    if value is None or value == "":
        raise bad_request("chat_id is empty")
    try:
        return int(str(value))
    except ValueError:
        raise bad_request("chat not found") from None


# ---------------------------------------------------------------- text and markup


def format_text(text: str, parse_mode: str | None, entities: object) -> ParsedText:
    """Apply the parse mode like Telegram: HTML is validated and parsed; the result is trimmed."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        try:
            parsed = parse_html(text)
        except HtmlParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
    elif mode in ("", "markdown", "markdownv2"):
        parsed = ParsedText(text, entities if isinstance(entities, list) else [])
    else:
        raise bad_request("unsupported parse_mode")
    return strip_text(parsed)


def message_text(params: Params) -> ParsedText:
    """The text of sendMessage/editMessageText, checked for emptiness and length."""
    parsed = format_text(
        str_param(params, "text") or "", str_param(params, "parse_mode"), params.get("entities")
    )
    if not parsed.text:
        raise bad_request("message text is empty")
    if utf16_length(parsed.text) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    return parsed


def message_caption(params: Params) -> ParsedText:
    """The optional caption of sendPhoto/sendDocument, checked for length."""
    parsed = format_text(
        str_param(params, "caption") or "", str_param(params, "parse_mode"), params.get("caption_entities")
    )
    if utf16_length(parsed.text) > MAX_CAPTION_LENGTH:
        raise bad_request("message caption is too long")
    return parsed


def parse_markup(value: object) -> Markup:
    """Validate a reply_markup like Telegram: inline keyboard, reply keyboard, removal or force reply."""
    if value is None:
        return Markup()
    if not isinstance(value, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in value:
        return Markup(
            inline_keyboard=[
                [inline_button(button) for button in row] for row in rows(value, "inline_keyboard")
            ]
        )
    if "keyboard" in value:
        return Markup(
            reply_keyboard=[[reply_button(button) for button in row] for row in rows(value, "keyboard")]
        )
    if value.get("remove_keyboard"):
        return Markup(remove_keyboard=True)
    if value.get("force_reply"):
        return Markup()
    raise bad_request("can't parse reply keyboard markup JSON object")


def rows(markup: JsonDict, name: str) -> list[list[object]]:
    """The button rows of a keyboard, checked to be an array of arrays."""
    value = markup[name]
    if not isinstance(value, list) or not all(isinstance(row, list) for row in value):
        raise bad_request(f'field "{name}" must be an Array of Arrays')
    return value


def inline_button(button: object) -> JsonDict:
    """Validate an InlineKeyboardButton: text plus exactly one action; callback_data of 1-64 bytes."""
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request('can\'t parse inline keyboard button: Field "text" must be of type String')
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    elif "url" in button:
        if not isinstance(button["url"], str) or not button["url"]:
            raise bad_request("BUTTON_URL_INVALID")
    elif not INLINE_BUTTON_ACTIONS.intersection(button):
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    return button


def reply_button(button: object) -> JsonDict:
    """Validate a KeyboardButton; a bare string becomes {"text": ...}."""
    if isinstance(button, str):
        return {"text": button}
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request('can\'t parse keyboard button: Field "text" must be of type String')
    return button


def find_button(keyboard: list[list[JsonDict]], label: str) -> JsonDict | None:
    """The button whose text is `label`, else the first whose text contains it."""
    buttons = [button for row in keyboard for button in row]
    exact = next((button for button in buttons if button["text"] == label), None)
    return exact or next((button for button in buttons if label in button["text"]), None)


def labels(keyboard: list[list[JsonDict]] | None) -> list[str]:
    """The texts of all buttons of a keyboard."""
    return [button["text"] for row in keyboard or [] for button in row]


def scope_key(scope: object) -> str:
    """The canonical text of a BotCommandScope: "default", "all_private_chats", "chat:123", ..."""
    if scope is None:
        return "default"
    if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
        raise bad_request("can't parse BotCommandScope JSON object")
    kind = str(scope["type"])
    if kind in PLAIN_SCOPES:
        return kind
    if kind in ("chat", "chat_administrators"):
        return f"{kind}:{scope.get('chat_id')}"
    if kind == "chat_member":
        return f"chat_member:{scope.get('chat_id')}:{scope.get('user_id')}"
    raise bad_request("wrong BotCommandScope type specified")


def bot_commands(value: object) -> list[dict[str, str]]:
    """Validate setMyCommands' commands: 1-32 of [a-z0-9_] and a description of 1-256 characters."""
    if not isinstance(value, list):
        raise bad_request("can't parse commands JSON object")
    commands = []
    for item in value:
        command = item.get("command") if isinstance(item, dict) else None
        description = item.get("description") if isinstance(item, dict) else None
        if not isinstance(command, str) or not BOT_COMMAND.fullmatch(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        commands.append({"command": command, "description": description})
    return commands


def json_response(body: JsonDict, status: int = 200) -> web.Response:
    """A JSON answer with Telegram's content type."""
    return web.Response(
        text=json.dumps(body, ensure_ascii=False), status=status, content_type="application/json"
    )


# ---------------------------------------------------------------- the server


class TelegramSandbox(SandboxServer[int, JsonDict]):
    """An in-process Telegram Bot API: the bot talks HTTP to it, tests inject updates through SandboxUser."""

    fault_kinds = frozenset({"429", "5xx", "slow", "drop", "403", "400"})

    def __init__(
        self, token: str = "123456:SANDBOX-TOKEN", bot_username: str = "thidua_bot", *, seed: int = 0
    ) -> None:
        super().__init__(seed)
        self.token = token
        self.bot_username = bot_username
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.last_update_id = 0
        self.calls: list[tuple[str, dict[str, object]]] = []
        # Telegram's own rule for setWebhook; off by default, as tests and the demo listen on plain http.
        self.https_webhooks_only = False
        self.bot_user: JsonDict = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": "Thi đua",
            "username": bot_username,
        }
        self._users: dict[int, SandboxUser] = {}
        self._chats: dict[int, ChatState] = {}
        self._blocked: set[int] = set()
        self._failures: dict[str, deque[int]] = {}
        self._outages: dict[tuple[str, int | None], int] = {}
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_numbers = itertools.count(1)
        self._open_callback_queries: set[str] = set()
        self._callback_query_numbers = itertools.count(4_000_000_000_001)
        self._webhook_url = ""
        self._webhook_secret = ""
        self._poll_generation = 0
        self._polls_elsewhere = 0
        self._methods: dict[str, Handler] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "deletewebhook": self._delete_webhook,
            "setwebhook": self._set_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "close": self._acknowledge,
            "logout": self._acknowledge,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback_query,
            "sendchataction": self._send_chat_action,
            "sendphoto": self._send_photo,
            "senddocument": self._send_document,
            "getfile": self._get_file,
        }

    # ------------------------------------------------------------ lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve the Bot API on host:port (port 0 picks a free port)."""
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api_call)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._handle_download)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS)
        await self._listen(runner, host, port)

    # ------------------------------------------------------------ test controls

    def user(
        self,
        user_id: int,
        first_name: str,
        last_name: str | None = None,
        *,
        phone: str | None = None,
        language_code: str = "vi",
        username: str | None = None,
    ) -> SandboxUser:
        """Create a Telegram user with a private chat with the bot, or return the existing one."""
        existing = self._users.get(user_id)
        if existing is not None:
            return existing
        user = SandboxUser(self, user_id, first_name, last_name, phone, language_code, username)
        self._users[user_id] = user
        self._chats[user_id] = ChatState(user.chat_json())
        return user

    def block(self, user_id: int) -> None:
        """The user blocked the bot: any send or edit to their chat answers 403."""
        self._blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        """The user unblocked the bot."""
        self._blocked.discard(user_id)

    def fail_next(self, method: str, *, retry_after: int, times: int = 1) -> None:
        """Answer the next `times` calls of `method` with 429 Too Many Requests."""
        self._failures.setdefault(method.lower(), deque()).extend([retry_after] * times)

    def break_next(self, method: str, *, times: int = 1, chat_id: int | None = None) -> None:
        """Answer the next `times` calls of `method` (for one chat, or any) with 502 Bad Gateway."""
        key = (method.lower(), chat_id)
        self._outages[key] = self._outages.get(key, 0) + times

    def messages(self, chat_id: int) -> list[SentMessage]:
        """Everything the bot sent to the chat and did not delete, oldest first."""
        chat = self._chats.get(chat_id)
        return list(chat.bot_messages.values()) if chat else []

    # ------------------------------------------------------------ state used by SandboxUser

    def chat(self, chat_id: int) -> ChatState:
        """The state of a known chat."""
        return self._chats[chat_id]

    def group_chat(self, group_id: int) -> ChatState:
        """The state of a supergroup, created on first use."""
        if group_id not in self._chats:
            self._chats[group_id] = ChatState(
                {"id": group_id, "type": "supergroup", "title": f"Group {group_id}"}
            )
        return self._chats[group_id]

    def known_user(self, user_id: int) -> SandboxUser | None:
        """A user created with user(), if any."""
        return self._users.get(user_id)

    def inject(self, kind: str, payload: JsonDict) -> int:
        """Queue an update of the given kind ("message", "callback_query", ...) and wake a long poll."""
        self.last_update_id += 1
        self._updates.append({"update_id": self.last_update_id, kind: payload})
        self._wake_pollers()
        return self.last_update_id

    def inject_raw(self, fields: JsonDict) -> int:
        """Queue an update exactly as given (nothing checked: it may be one the bot cannot parse)."""
        self.last_update_id += 1
        self._updates.append({**fields, "update_id": self.last_update_id})
        self._wake_pollers()
        return self.last_update_id

    def poll_elsewhere(self, times: int) -> None:
        """Another process polls the same token: the next `times` getUpdates calls answer 409 Conflict."""
        self._polls_elsewhere += times

    def open_callback_query(self) -> str:
        """A new callback query id that answerCallbackQuery will accept once."""
        query_id = str(next(self._callback_query_numbers))
        self._open_callback_queries.add(query_id)
        return query_id

    def store_file(self, kind: str, file_name: str, content: bytes, mime_type: str) -> StoredFile:
        """Keep a file so that getFile and the download URL serve it."""
        number = next(self._file_numbers)
        stored = StoredFile(
            file_id=f"SANDBOX-{kind.upper()}-{number}",
            file_unique_id=f"U{number}",
            file_path=f"{kind}s/file_{number}{PurePosixPath(file_name).suffix}",
            content=content,
            file_name=file_name,
            mime_type=mime_type,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def message_json(self, message: SentMessage) -> JsonDict:
        """A bot message as Telegram's Message JSON."""
        body: JsonDict = {
            "message_id": message.message_id,
            "from": self.bot_user,
            "chat": self._chats[message.chat_id].info,
            "date": message.date,
        }
        text_field = "text" if message.kind == "text" else "caption"
        if message.plain_text:
            body[text_field] = message.plain_text
        if message.entities:
            body["entities" if message.kind == "text" else "caption_entities"] = message.entities
        if message.file_id is not None:
            stored = self._files[message.file_id]
            body[message.kind] = stored.photo_json() if message.kind == "photo" else stored.document_json()
        if message.inline_keyboard:
            body["reply_markup"] = {"inline_keyboard": message.inline_keyboard}
        if message.edit_date is not None:
            body["edit_date"] = message.edit_date
        return body

    # ------------------------------------------------------------ HTTP plumbing

    async def _handle_api_call(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params = await read_params(request)
            self.calls.append((method, params))
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            handler = self._methods.get(method.lower())
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            self._raise_injected_failure(method, params)
            try:
                chat_id: int | None = int(str(params["chat_id"]))
            except (KeyError, ValueError):
                chat_id = None
            result = await self._carry_out(request, method.lower(), chat_id, lambda: handler(params))
        except ApiError as error:
            return json_response(error.to_json(), status=error.error_code)
        return json_response({"ok": True, "result": result})

    async def _handle_download(self, request: web.Request) -> web.Response:
        stored = self._files_by_path.get(request.match_info["file_path"])
        if request.match_info["token"] != self.token:
            return json_response(ApiError(401, "Unauthorized").to_json(), status=401)
        if stored is None:
            return json_response(ApiError(404, "Not Found").to_json(), status=404)
        return web.Response(body=stored.content, content_type=stored.mime_type)

    def _raise_injected_failure(self, method: str, params: Params) -> None:
        chat_id = params.get("chat_id")
        for key in ((method.lower(), chat_id if isinstance(chat_id, int) else None), (method.lower(), None)):
            if self._outages.get(key):
                self._outages[key] -= 1
                raise ApiError(502, "Bad Gateway")
        failures = self._failures.get(method.lower())
        if failures:
            retry_after = failures.popleft()
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)

    def _fault_error(self, fault: Fault[int]) -> ApiError | None:
        """Telegram's answer to a fault of an error kind."""
        if fault.kind == "429":
            retry_after = fault.retry_after
            return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)
        if fault.kind == "5xx":
            return ApiError(fault.status, "Internal Server Error" if fault.status == 500 else "Bad Gateway")
        if fault.kind == "403":
            return ApiError(403, BLOCKED)
        if fault.kind == "400":
            return bad_request("chat not found")
        return None

    def _writable_chat(self, params: Params) -> ChatState:
        chat_id = chat_id_param(params)
        chat = self._chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        if chat_id in self._blocked:
            raise ApiError(403, BLOCKED)
        return chat

    def _message_to_edit(self, params: Params) -> SentMessage:
        chat = self._writable_chat(params)
        message = chat.bot_messages.get(int_param(params, "message_id"))
        if message is None:
            raise bad_request("message to edit not found")
        return message

    def _file_param(self, params: Params, name: str) -> StoredFile:
        value = params.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
        if isinstance(value, UploadedFile):
            return self.store_file(name, value.file_name, value.content, value.mime_type)
        if isinstance(value, str) and value in self._files:
            return self._files[value]
        if not value:
            raise bad_request(f"there is no {name} in the request")
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _add_bot_message(self, chat: ChatState, message: SentMessage) -> JsonDict:
        chat.bot_messages[message.message_id] = message
        self._count_delivered()
        return self.message_json(message)

    # ------------------------------------------------------------ Bot API methods

    async def _get_me(self, params: Params) -> JsonDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: Params) -> list[JsonDict]:
        if self._webhook_url:
            raise ApiError(409, WEBHOOK_CONFLICT)
        if self._polls_elsewhere:
            self._polls_elsewhere -= 1
            raise ApiError(409, POLL_CONFLICT)
        self._confirm_updates(int_param(params, "offset"))
        limit = min(max(int_param(params, "limit", MAX_UPDATES_PER_POLL), 1), MAX_UPDATES_PER_POLL)
        await self._wait_for_updates(max(int_param(params, "timeout"), 0))
        return list(itertools.islice(self._updates, limit))

    def _confirm_updates(self, offset: int) -> None:
        if offset < 0:
            while len(self._updates) > -offset:
                self._updates.popleft()
        while self._updates and self._updates[0]["update_id"] < offset:
            self._updates.popleft()

    async def _wait_for_updates(self, poll_seconds: int) -> None:
        """Long poll: return when an update is queued, the timeout passes or the sandbox stops."""
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake_pollers()
        deadline = asyncio.get_running_loop().time() + poll_seconds
        while not self._updates and not self._stopping:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return
            try:
                async with asyncio.timeout(remaining):
                    await self._arrived.wait()
            except TimeoutError:
                return
            if generation != self._poll_generation:
                raise ApiError(409, POLL_CONFLICT)

    async def _delete_webhook(self, params: Params) -> bool:
        self._webhook_url = ""
        if bool_param(params, "drop_pending_updates"):
            self._updates.clear()
        self._wake_pollers()  # the pusher ends
        return True

    async def _set_webhook(self, params: Params) -> bool:
        secret = str_param(params, "secret_token") or ""
        if secret and not WEBHOOK_SECRET.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        url = str_param(params, "url") or ""
        if url and self.https_webhooks_only and not url.lower().startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self._webhook_url = url
        self._webhook_secret = secret
        if bool_param(params, "drop_pending_updates"):
            self._updates.clear()
        if self._webhook_url:
            self._start_pusher()
        return True

    def _webhook_target(self) -> tuple[str, dict[str, str]] | None:
        """The webhook's URL and Telegram's secret header (when the bot set a secret), if one is set."""
        if not self._webhook_url:
            return None
        secret = self._webhook_secret
        return self._webhook_url, {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}

    async def _get_webhook_info(self, params: Params) -> JsonDict:
        return {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _acknowledge(self, params: Params) -> bool:
        return True

    def _commands_key(self, params: Params) -> tuple[str, str]:
        return scope_key(params.get("scope")), str_param(params, "language_code") or ""

    async def _set_my_commands(self, params: Params) -> bool:
        key = self._commands_key(params)
        commands = bot_commands(params.get("commands"))
        if commands:
            self.commands[key] = commands
        else:
            self.commands.pop(key, None)
        return True

    async def _get_my_commands(self, params: Params) -> list[dict[str, str]]:
        return self.commands.get(self._commands_key(params), [])

    async def _delete_my_commands(self, params: Params) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _send_message(self, params: Params) -> JsonDict:
        chat = self._writable_chat(params)
        parsed = message_text(params)
        markup = parse_markup(params.get("reply_markup"))
        message = SentMessage(
            message_id=chat.next_message_id(),
            chat_id=chat.info["id"],
            text=str_param(params, "text") or "",
            plain_text=parsed.text,
            parse_mode=str_param(params, "parse_mode"),
            kind="text",
            inline_keyboard=markup.inline_keyboard,
            reply_keyboard=markup.reply_keyboard,
            remove_keyboard=markup.remove_keyboard,
            entities=parsed.entities,
            date=now(),
        )
        return self._add_bot_message(chat, message)

    async def _send_photo(self, params: Params) -> JsonDict:
        return self._send_file(params, "photo")

    async def _send_document(self, params: Params) -> JsonDict:
        return self._send_file(params, "document")

    def _send_file(self, params: Params, kind: Literal["photo", "document"]) -> JsonDict:
        chat = self._writable_chat(params)
        stored = self._file_param(params, kind)
        caption = message_caption(params)
        markup = parse_markup(params.get("reply_markup"))
        message = SentMessage(
            message_id=chat.next_message_id(),
            chat_id=chat.info["id"],
            text=str_param(params, "caption") or "",
            plain_text=caption.text,
            parse_mode=str_param(params, "parse_mode"),
            kind=kind,
            inline_keyboard=markup.inline_keyboard,
            reply_keyboard=markup.reply_keyboard,
            remove_keyboard=markup.remove_keyboard,
            file_name=stored.file_name,
            file_bytes=stored.content,
            mime_type=stored.mime_type,
            entities=caption.entities,
            date=now(),
            file_id=stored.file_id,
        )
        return self._add_bot_message(chat, message)

    async def _edit_message_text(self, params: Params) -> JsonDict:
        message = self._message_to_edit(params)
        if message.kind != "text":
            raise bad_request("there is no text in the message to edit")
        parsed = message_text(params)
        keyboard = self._inline_keyboard_param(params)
        if (parsed.text, parsed.entities, keyboard) == (
            message.plain_text,
            message.entities,
            message.inline_keyboard,
        ):
            raise bad_request(NOT_MODIFIED)
        message.text = str_param(params, "text") or ""
        message.plain_text = parsed.text
        message.entities = parsed.entities
        message.parse_mode = str_param(params, "parse_mode")
        return self._record_edit(message, keyboard)

    async def _edit_message_reply_markup(self, params: Params) -> JsonDict:
        message = self._message_to_edit(params)
        keyboard = self._inline_keyboard_param(params)
        if keyboard == message.inline_keyboard:
            raise bad_request(NOT_MODIFIED)
        return self._record_edit(message, keyboard)

    def _inline_keyboard_param(self, params: Params) -> list[list[JsonDict]]:
        markup = parse_markup(params.get("reply_markup"))
        if markup.reply_keyboard is not None or markup.remove_keyboard:
            raise bad_request("inline keyboard expected")
        return markup.inline_keyboard

    def _record_edit(self, message: SentMessage, keyboard: list[list[JsonDict]]) -> JsonDict:
        message.inline_keyboard = keyboard
        message.edits += 1
        message.edit_date = now()
        self._announce_change()
        return self.message_json(message)

    async def _delete_message(self, params: Params) -> bool:
        chat = self._chats.get(chat_id_param(params))
        if chat is None:
            raise bad_request("chat not found")
        message_id = int_param(params, "message_id")
        deleted = chat.bot_messages.pop(message_id, None) or chat.user_messages.pop(message_id, None)
        if deleted is None:
            raise bad_request("message to delete not found")
        self._announce_change()
        return True

    async def _answer_callback_query(self, params: Params) -> bool:
        query_id = str_param(params, "callback_query_id") or ""
        if query_id not in self._open_callback_queries:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        self._open_callback_queries.discard(query_id)
        return True

    async def _send_chat_action(self, params: Params) -> bool:
        self._writable_chat(params)
        if str_param(params, "action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    async def _get_file(self, params: Params) -> JsonDict:
        stored = self._files.get(str_param(params, "file_id") or "")
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.content) > MAX_DOWNLOAD_BYTES:
            raise bad_request("file is too big")
        return stored.file_json()


# ---------------------------------------------------------------- the user side


class SandboxUser:
    """A Telegram user talking to the bot: every action queues one update and returns its update_id."""

    def __init__(
        self,
        sandbox: TelegramSandbox,
        user_id: int,
        first_name: str,
        last_name: str | None,
        phone: str | None,
        language_code: str,
        username: str | None,
    ) -> None:
        self.user_id = user_id
        self.chat_id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.phone = phone
        self.language_code = language_code
        self.username = username
        self._sandbox = sandbox

    @property
    def sandbox(self) -> TelegramSandbox:
        """The sandbox this user talks through."""
        return self._sandbox

    def user_json(self) -> JsonDict:
        """The user as Telegram's User JSON."""
        body: JsonDict = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        body.update(self._optional_names())
        body["language_code"] = self.language_code
        return body

    def chat_json(self) -> JsonDict:
        """The private chat with the bot as Telegram's Chat JSON."""
        return {
            "id": self.chat_id,
            "type": "private",
            "first_name": self.first_name,
            **self._optional_names(),
        }

    def _optional_names(self) -> JsonDict:
        names = {"last_name": self.last_name, "username": self.username}
        return {key: value for key, value in names.items() if value is not None}

    # ------------------------------------------------------------ sending

    async def send(self, text: str) -> int:
        """Send a text message; a leading /command gets its bot_command entity."""
        return self._post(self._sandbox.chat(self.chat_id), {"text": text, **command_entities(text)})

    async def send_in_group(self, text: str, group_id: int = -100123) -> int:
        """Send a text message in a supergroup the bot is a member of."""
        return self._post(self._sandbox.group_chat(group_id), {"text": text, **command_entities(text)})

    async def share_contact(
        self, phone: str | None = None, *, contact_user_id: int | None = None, card_only: bool = False
    ) -> int:
        """Share a contact: by default the user's own phone; pass contact_user_id to share someone else's,
        or card_only for a card saved by hand in the phone book (Telegram then sends no user_id)."""
        owner = self._sandbox.known_user(contact_user_id) if contact_user_id is not None else self
        phone_number = phone or (owner.phone if owner else None)
        if phone_number is None:
            raise ValueError(f"user {self.user_id} has no phone: pass phone=...")
        contact: JsonDict = {
            "phone_number": phone_number,
            "first_name": owner.first_name if owner else f"User {contact_user_id}",
            "user_id": self.user_id if contact_user_id is None else contact_user_id,
        }
        if card_only:
            del contact["user_id"]
        if owner is not None and owner.last_name is not None:
            contact["last_name"] = owner.last_name
        return self._post(self._sandbox.chat(self.chat_id), {"contact": contact})

    async def send_document(
        self, file_name: str, content: bytes, mime_type: str = "application/octet-stream"
    ) -> int:
        """Send a file as a document; the bot can download it with getFile."""
        stored = self._sandbox.store_file("document", file_name, content, mime_type)
        return self._post(self._sandbox.chat(self.chat_id), {"document": stored.document_json()})

    async def send_photo(self, content: bytes) -> int:
        """Send a photo; the bot can download it with getFile."""
        stored = self._sandbox.store_file("photo", "photo.jpg", content, "image/jpeg")
        return self._post(self._sandbox.chat(self.chat_id), {"photo": stored.photo_json()})

    async def send_sticker(self) -> int:
        """Send a (regular, static) sticker."""
        stored = self._sandbox.store_file(
            "sticker", "sticker.webp", b"RIFF\x00\x00\x00\x00WEBP", "image/webp"
        )
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        return self._post(self._sandbox.chat(self.chat_id), {"sticker": sticker})

    async def edit_last_message(self, text: str) -> int:
        """Edit the user's newest text message in the private chat: an "edited_message" update."""
        chat = self._sandbox.chat(self.chat_id)
        original = next(
            (message for message in reversed(chat.user_messages.values()) if "text" in message), None
        )
        if original is None:
            raise LookupError(f"{self.first_name} has sent no text message to edit")
        edited = {key: value for key, value in original.items() if key != "entities"}
        edited.update(text=text, edit_date=now(), **command_entities(text))
        chat.user_messages[original["message_id"]] = edited
        return self._sandbox.inject("edited_message", edited)

    def _post(self, chat: ChatState, content: JsonDict) -> int:
        message = {
            "message_id": chat.next_message_id(),
            "from": self.user_json(),
            "chat": chat.info,
            "date": now(),
            **content,
        }
        chat.user_messages[message["message_id"]] = message
        return self._sandbox.inject("message", message)

    # ------------------------------------------------------------ buttons

    async def press(self, label: str) -> int:
        """Press the button containing `label`: on the newest inline keyboard, else on the reply keyboard."""
        chat = self._sandbox.chat(self.chat_id)
        inline_message = chat.newest_bot_message(lambda message: bool(message.inline_keyboard))
        if inline_message is not None:
            button = find_button(inline_message.inline_keyboard, label)
            if button is not None:
                return self._press_inline(inline_message, button)
        reply_keyboard = self._reply_keyboard(chat)
        button = find_button(reply_keyboard or [], label)
        if button is not None:
            return await self._press_reply(button)
        available = labels(inline_message.inline_keyboard if inline_message else None) + labels(
            reply_keyboard
        )
        raise LookupError(f"no button with {label!r} in chat {self.chat_id}; available: {available}")

    async def press_in(self, message: SentMessage, label: str) -> int:
        """Press a button of an older bot message (its buttons as they are now, after any edits)."""
        if message.message_id not in self._sandbox.chat(message.chat_id).bot_messages:
            raise LookupError(f"message {message.message_id} was deleted")
        button = find_button(message.inline_keyboard, label)
        if button is None:
            available = labels(message.inline_keyboard)
            raise LookupError(
                f"no button with {label!r} on message {message.message_id}; available: {available}"
            )
        return self._press_inline(message, button)

    async def press_key(self, button: JsonDict) -> int:
        """Press a reply-keyboard button as a client does: its text is sent, or the contact is shared."""
        return await self._press_reply(button)

    def _press_inline(self, message: SentMessage, button: JsonDict) -> int:
        if "callback_data" not in button:
            raise ValueError(f"button {button['text']!r} sends no update to the bot: {button}")
        query = {
            "id": self._sandbox.open_callback_query(),
            "from": self.user_json(),
            "chat_instance": str(message.chat_id),
            "data": button["callback_data"],
            "message": self._sandbox.message_json(message),
        }
        return self._sandbox.inject("callback_query", query)

    async def _press_reply(self, button: JsonDict) -> int:
        unsupported = [key for key in UNSUPPORTED_REPLY_BUTTONS if key in button]
        if unsupported:
            raise ValueError(f"the sandbox cannot press {unsupported[0]} buttons: {button}")
        if button.get("request_contact"):
            return await self.share_contact()
        return await self.send(button["text"])

    @staticmethod
    def _reply_keyboard(chat: ChatState) -> list[list[JsonDict]] | None:
        latest = chat.newest_bot_message(
            lambda message: message.reply_keyboard is not None or message.remove_keyboard
        )
        return latest.reply_keyboard if latest is not None else None

    # ------------------------------------------------------------ what the bot sent

    def messages(self) -> list[SentMessage]:
        """Everything the bot sent to this user's private chat, oldest first."""
        return self._sandbox.messages(self.chat_id)

    def last(self) -> SentMessage:
        """The newest bot message in this user's private chat."""
        bot_messages = self._sandbox.chat(self.chat_id).bot_messages
        if not bot_messages:
            raise AssertionError(f"the bot has sent nothing to {self.first_name} (chat {self.chat_id})")
        return next(reversed(bot_messages.values()))


def command_entities(text: str) -> JsonDict:
    """The entities field for a text starting with /command (incl. "/start payload", "/cmd@bot")."""
    command = COMMAND_AT_START.match(text)
    if command is None:
        return {}
    return {"entities": [{"type": "bot_command", "offset": 0, "length": utf16_length(command.group())}]}
