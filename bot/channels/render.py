"""A neutral ``Outgoing`` shaped for a channel's capabilities, and a typed answer read back as a choice.

Where the channel draws buttons they stay buttons. Where it cannot, the choices become a numbered menu under
the text ("1. Đăng ký thi đua"), and the next text names an option by its number or by its words (accents
and case optional). Whether a number is a choice or an answer is the router's call: a number picks an option
only at a step answered by buttons alone, or when no dialog step waits for text. HTML becomes plain text
where the channel has no markup, and long texts are split at the channel's limit on line breaks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.channels.capabilities import Capabilities
from bot.channels.text import split_text
from bot.domain.vn.textkeys import search_key
from bot.engine.events import Button, FileOut, Outgoing
from messages import plain, text

_NOT_WORDS = re.compile(r"[^\w ]+")


@dataclass(frozen=True, slots=True)
class Option:
    """One line of a numbered menu: what the person types, and the payload it stands for."""

    number: int
    label: str
    payload: str


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


@dataclass(frozen=True, slots=True)
class Choice:
    """A typed text read as a menu option; ``by_number`` tells the router it may be an answer instead."""

    option: Option
    by_number: bool


def numbered_menu(rows: tuple[tuple[Button, ...], ...]) -> tuple[Option, ...]:
    """The buttons, row by row, as numbered options."""
    labels = [button for row in rows for button in row]
    return tuple(Option(n, button.label, button.payload) for n, button in enumerate(labels, start=1))


def render(message: Outgoing, capabilities: Capabilities, language: str) -> Rendered:
    """``message`` as the channel can show it; ``language`` words the menu's hint."""
    body = message.text
    menu: tuple[Option, ...] = ()
    if message.buttons and not capabilities.buttons:
        menu = numbered_menu(message.buttons)
        lines = [f"{option.number}. {option.label}" for option in menu]
        body = "\n".join([body, "", text(language, "menu.choose_by_number"), *lines])
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


def _words(label: str) -> str:
    return search_key(_NOT_WORDS.sub(" ", plain(label)))


def read_choice(typed: str, menu: tuple[Option, ...]) -> Choice | None:
    """The option ``typed`` names: its number, or its words without accents, emoji or case."""
    typed = typed.strip()
    if typed.isdigit():
        number = int(typed)
        found = next((option for option in menu if option.number == number), None)
        return Choice(found, by_number=True) if found is not None else None
    words = _words(typed)
    if not words:
        return None
    found = next((option for option in menu if _words(option.label) == words), None)
    return Choice(found, by_number=False) if found is not None else None
