"""A neutral ``Outgoing`` shaped for a channel's capabilities.

Where the channel draws buttons they stay buttons. Where it cannot, the choices become a numbered menu under
the text ("1. Đăng ký thi đua"), which the router reads a typed answer against (``bot.engine.menus``); at a
step that waits for typed text, where a number is the answer, the choices are listed by their words alone
("• ⬅️ Quay lại"). HTML
becomes plain text where the channel has no markup, and long texts are split at the channel's limit on line
breaks.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.channels.capabilities import Capabilities
from bot.channels.text import split_text
from bot.engine.events import Button, FileOut, Outgoing
from bot.engine.menus import Option, numbered_menu
from messages import plain, text


@dataclass(frozen=True, slots=True)
class Rendered:
    """What to send for one ``Outgoing``: the texts in order (the last carries the choices and the file)."""

    parts: tuple[str, ...]
    buttons: tuple[tuple[Button, ...], ...] = ()
    menu: tuple[Option, ...] = ()
    ask_contact: str | None = None
    remove_keyboard: bool = False
    file: FileOut | None = None
    replace: bool = False


def render(message: Outgoing, capabilities: Capabilities, language: str) -> Rendered:
    """``message`` as the channel can show it; ``language`` words the menu's hint."""
    body = message.text
    menu: tuple[Option, ...] = ()
    if message.buttons and not capabilities.buttons:
        menu = numbered_menu(message.buttons, message.first_number)
        if message.words_only:  # a number typed is the step's answer: the choices go by their words
            hint, lines = "menu.choose_by_words", [f"• {option.label}" for option in menu]
        else:
            hint, lines = "menu.choose_by_number", [f"{option.number}. {option.label}" for option in menu]
        body = "\n".join([body, "", text(language, hint), *lines])
    if capabilities.markup == "plain":
        body = plain(body)
        menu = tuple(Option(o.number, plain(o.label), o.payload) for o in menu)
    return Rendered(
        parts=tuple(split_text(body, capabilities.text_limit)),
        buttons=message.buttons if capabilities.buttons else (),
        menu=menu,
        ask_contact=message.ask_contact if capabilities.contact else None,
        remove_keyboard=message.remove_keyboard,
        file=message.file if capabilities.files_out else None,
        replace=message.replace and capabilities.edits,
    )
