"""Telegram updates to neutral ``Incoming`` events (pure functions, no network)."""

from __future__ import annotations

from telegram import Message, Update

from bot.engine.events import Attachment, Contact, Incoming, Kind

CHANNEL = "telegram"


def _name(update: Update) -> str:
    user = update.effective_user
    return user.full_name if user is not None else ""


def _base(update: Update, kind: Kind, **fields: object) -> Incoming:
    user = update.effective_user
    chat = update.effective_chat
    assert user is not None and chat is not None
    return Incoming(
        channel=CHANNEL,
        user_id=str(user.id),
        chat_id=str(chat.id),
        display_name=_name(update),
        kind=kind,
        is_private=chat.type == chat.PRIVATE,
        language_hint=user.language_code,
        **fields,  # type: ignore[arg-type]
    )


def split_command(text: str, bot_username: str) -> tuple[str, tuple[str, ...]] | None:
    """("start", ("ABC",)) for "/start ABC" or "/start@thidua_bot ABC"; None for a command to another bot."""
    head, *args = text.split()
    name, _, addressee = head[1:].partition("@")
    if addressee and addressee.lower() != bot_username.lower():
        return None
    return name.lower(), tuple(args)


def _from_message(update: Update, message: Message, bot_username: str) -> Incoming | None:
    if message.contact is not None:
        contact = message.contact
        owner = str(contact.user_id) if contact.user_id is not None else None
        return _base(update, Kind.CONTACT, contact=Contact(contact.phone_number, owner))
    if message.text is not None:
        if message.text.startswith("/") and len(message.text) > 1:
            parsed = split_command(message.text, bot_username)
            if parsed is None:
                return None
            return _base(update, Kind.COMMAND, text=message.text, command=parsed[0], args=parsed[1])
        return _base(update, Kind.TEXT, text=message.text)
    if message.document is not None:
        doc = message.document
        return _base(
            update,
            Kind.FILE,
            text=message.caption or "",
            attachment=Attachment(doc.file_id, doc.file_name, doc.mime_type, doc.file_size, is_photo=False),
        )
    if message.photo:
        photo = message.photo[-1]  # the largest size
        return _base(
            update,
            Kind.FILE,
            text=message.caption or "",
            attachment=Attachment(photo.file_id, None, "image/jpeg", photo.file_size, is_photo=True),
        )
    return _base(update, Kind.UNSUPPORTED)


def to_incoming(update: Update, bot_username: str, payload: str | None = None) -> Incoming | None:
    """The neutral event for an update, or None for updates the bot ignores (channel posts, polls...).

    ``payload`` is the button payload already resolved from the callback data (it may be stored behind a
    token when longer than Telegram's 64 bytes).
    """
    if update.effective_user is None or update.effective_chat is None:
        return None
    if update.callback_query is not None:
        return _base(update, Kind.BUTTON, payload=payload or "")
    if update.edited_message is not None:
        return _base(update, Kind.EDITED, text=update.edited_message.text or "")
    if update.message is not None:
        return _from_message(update, update.message, bot_username)
    return None
