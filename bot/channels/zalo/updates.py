"""Zalo updates to neutral ``Incoming`` events (pure functions, no network).

An update is ``{event_name, message}``, sometimes wrapped as ``{ok, result: {...}}``; both are read. A text
starting with "/" is a command as on Telegram; a photo is an attachment kept by its URL; a sticker or
anything Zalo calls unsupported becomes an UNSUPPORTED event the router answers politely. Anything else is
``Unreadable``, which the poller logs once (never the content) and skips; the webhook refuses it (400), but
takes and skips an ``UnknownEvent``.
"""

from __future__ import annotations

from typing import Any

from bot.engine.events import Attachment, Incoming, Kind

CHANNEL = "zalo"
TEXT = "message.text.received"
IMAGE = "message.image.received"
STICKER = "message.sticker.received"
UNSUPPORTED = "message.unsupported.received"
MAX_WRAPPING = 3  # {ok, result: {ok, result: ...}} nested deeper than this is not an update


class Unreadable(ValueError):
    """The update is not one Zalo describes; the text names what is wrong, never the content."""


class UnknownEvent(Unreadable):
    """A well-formed update of an event the bot does not take (one Zalo added since): skipped, never refused,
    since Zalo posts a refused webhook call again."""


def unwrap(raw: object) -> dict[str, Any]:
    """The update itself, whether it came bare or wrapped as ``{ok, result: {...}}``."""
    for _ in range(MAX_WRAPPING + 1):
        if not isinstance(raw, dict):
            raise Unreadable(f"not a JSON object ({type(raw).__name__})")
        if "event_name" in raw or "result" not in raw:
            return raw
        raw = raw["result"]
    raise Unreadable("wrapped too deeply")


def event_name(raw: object) -> str:
    """The update's event name for the logs ("?" when there is none)."""
    try:
        name = unwrap(raw).get("event_name")
    except Unreadable:
        return "?"
    return name if isinstance(name, str) else "?"


def message_id(raw: object) -> str:
    """The update's message id ("" without one): what tests and the demo wait on."""
    try:
        message = unwrap(raw).get("message")
    except Unreadable:
        return ""
    found = message.get("message_id") if isinstance(message, dict) else None
    return str(found) if found is not None else ""


def _text_field(message: dict[str, Any], name: str) -> str:
    value = message.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Unreadable(f"{name} is not a string")
    return value


def _id(holder: object, name: str) -> str:
    if not isinstance(holder, dict):
        raise Unreadable(f"{name} is missing")
    value = holder.get("id")
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise Unreadable(f"{name}.id is missing")
    return str(value)


def command_parts(text: str) -> tuple[str, tuple[str, ...]]:
    """("start", ("ABC",)) for "/start ABC": the command in lower case and its arguments."""
    head, *args = text.split()
    return head[1:].lower(), tuple(args)


def to_incoming(raw: object) -> Incoming | None:
    """The neutral event for a Zalo update; None for one the bot has nothing to answer (an unsupported event
    without a message). Raises Unreadable for anything Zalo would not send."""
    update = unwrap(raw)
    name = update.get("event_name")
    if name not in (TEXT, IMAGE, STICKER, UNSUPPORTED):
        if isinstance(name, str) and name:
            raise UnknownEvent(f"unknown event_name {name!r}"[:80])
        raise Unreadable("event_name is missing")
    message = update.get("message")
    if message is None and name == UNSUPPORTED:
        return None
    if not isinstance(message, dict):
        raise Unreadable("message is missing")
    sender, chat = message.get("from"), message.get("chat")
    base: dict[str, Any] = {
        "channel": CHANNEL,
        "user_id": _id(sender, "from"),
        "chat_id": _id(chat, "chat"),
        "display_name": str(sender.get("display_name") or "") if isinstance(sender, dict) else "",
        "is_private": isinstance(chat, dict) and chat.get("chat_type", "PRIVATE") == "PRIVATE",
    }
    if name == TEXT:
        text = _text_field(message, "text")
        typed = text.strip()  # a space before the slash still makes a command
        if typed.startswith("/") and len(typed) > 1:
            command, args = command_parts(typed)
            return Incoming(kind=Kind.COMMAND, text=text, command=command, args=args, **base)
        return Incoming(kind=Kind.TEXT, text=text, **base)
    if name == IMAGE:
        url = _text_field(message, "photo_url") or _text_field(message, "photo")
        if not url:
            raise Unreadable("an image without photo_url")
        photo = Attachment(url, None, "image/jpeg", None, is_photo=True)
        return Incoming(kind=Kind.FILE, text=_text_field(message, "caption"), attachment=photo, **base)
    return Incoming(kind=Kind.UNSUPPORTED, **base)
