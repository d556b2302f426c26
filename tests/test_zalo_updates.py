"""Zalo updates read as neutral events, bare or wrapped; anything Zalo would not send is Unreadable, and
nothing of its content is in the reason."""

from __future__ import annotations

from typing import Any

import pytest

from bot.channels.zalo.updates import Unreadable, message_id, to_incoming
from bot.engine.events import Kind


def update(event: str = "message.text.received", **message: Any) -> dict[str, Any]:
    body = {
        "message_id": "m1",
        "from": {"id": "u1", "display_name": "Mai"},
        "chat": {"id": "u1", "chat_type": "PRIVATE"},
        "date": 1_795_786_583_000,
        **message,
    }
    return {"event_name": event, "message": body}


def test_texts_and_commands() -> None:
    event = to_incoming(update(text="/Start ABC123"))
    assert event is not None
    assert (event.kind, event.command, event.args, event.channel) == (
        Kind.COMMAND,
        "start",
        ("ABC123",),
        "zalo",
    )
    assert (event.user_id, event.chat_id, event.display_name, event.is_private) == ("u1", "u1", "Mai", True)
    plain = to_incoming(update(text="lao dong gioi"))
    assert plain is not None and (plain.kind, plain.text) == (Kind.TEXT, "lao dong gioi")
    slash = to_incoming(update(text="/"))
    assert slash is not None and slash.kind is Kind.TEXT
    # A space typed before the slash still makes a command: "  /huy" was "not understood".
    spaced = to_incoming(update(text="  /huy  "))
    assert spaced is not None and (spaced.kind, spaced.command, spaced.args) == (Kind.COMMAND, "huy", ())


def test_wrapped_group_image_sticker_and_unsupported() -> None:
    wrapped = {"ok": True, "result": update(text="chào", chat={"id": 77, "chat_type": "GROUP"})}
    event = to_incoming(wrapped)
    assert event is not None and event.chat_id == "77" and not event.is_private
    assert message_id(wrapped) == "m1"
    image = to_incoming(update("message.image.received", photo_url="https://z.example/p.jpg", caption="ảnh"))
    assert image is not None and image.kind is Kind.FILE and image.text == "ảnh"
    assert image.attachment is not None and image.attachment.file_id == "https://z.example/p.jpg"
    assert image.attachment.is_photo
    old_style = to_incoming(update("message.image.received", photo="https://z.example/q.jpg"))
    assert old_style is not None and old_style.attachment is not None
    sticker = to_incoming(update("message.sticker.received", sticker="abc"))
    assert sticker is not None and sticker.kind is Kind.UNSUPPORTED
    assert to_incoming({"event_name": "message.unsupported.received"}) is None


@pytest.mark.parametrize(
    "raw",
    [
        "rác",
        ["rác"],
        {"event_name": "message.deleted"},
        {"event_name": "message.text.received"},
        {"event_name": "message.text.received", "message": {"text": "0912345678"}},
        update(text=12),
        update("message.image.received"),
        {"ok": True, "result": {"ok": True, "result": {"ok": True, "result": {"ok": True, "result": {}}}}},
    ],
)
def test_anything_else_is_unreadable_and_the_reason_holds_none_of_it(raw: object) -> None:
    with pytest.raises(Unreadable) as unreadable:
        to_incoming(raw)
    assert "0912345678" not in str(unreadable.value) and "rác" not in str(unreadable.value)
