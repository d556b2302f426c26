"""Numbered menus: on a channel without buttons the choices of a message are numbered under its text, and
the chat's next text may name one by its number or by its words (accents and case optional).

The router keeps each chat's newest menu in the database (``repos.menus``), in the same transaction as the
reply that showed it, so an answer typed after a restart still means what the person saw. An answer of
several messages with choices (/my: the initiatives, then the registrations) is one menu, numbered on from
one message to the next: numbered from 1 each, only the last one's could be answered. Whether a number is
a choice or an answer is the router's call: a number, or words that are only part of one option's name (a
few words of a long campaign title), picks an option only at a step answered by buttons alone, or when no
dialog step waits for text; an option's whole name picks it anywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bot.domain.vn.textkeys import search_key
from bot.engine.events import Button, Outgoing
from messages import plain

_NOT_WORDS = re.compile(r"[^\w ]+")
PART_MIN = 4  # characters of a typed part of an option's name, spaces included: "nam" would name too many


@dataclass(frozen=True, slots=True)
class Option:
    """One line of a numbered menu: what the person types, and the payload it stands for."""

    number: int
    label: str
    payload: str


@dataclass(frozen=True, slots=True)
class Choice:
    """A typed text read as a menu option; ``tentative`` (a bare number, or part of an option's words) tells
    the router it may be an answer instead."""

    option: Option
    tentative: bool


def numbered_menu(rows: tuple[tuple[Button, ...], ...], first: int = 1) -> tuple[Option, ...]:
    """The buttons, row by row, as options numbered from ``first``."""
    labels = [button for row in rows for button in row]
    return tuple(Option(n, button.label, button.payload) for n, button in enumerate(labels, start=first))


def _words(label: str) -> str:
    return search_key(_NOT_WORDS.sub(" ", plain(label)))


def read_choice(typed: str, menu: tuple[Option, ...]) -> Choice | None:
    """The option ``typed`` names: its number, or its words without accents, emoji or case, all of them or
    a run of whole words found in that option's name alone."""
    typed = typed.strip()
    if typed.isdigit():
        number = int(typed)
        found = next((option for option in menu if option.number == number), None)
        return Choice(found, tentative=True) if found is not None else None
    words = _words(typed)
    if not words:
        return None
    names = [(option, _words(option.label)) for option in menu]
    found = next((option for option, name in names if name == words), None)
    if found is not None:
        return Choice(found, tentative=False)
    if len(words) < PART_MIN:
        return None
    part = [option for option, name in names if f" {words} " in f" {name} "]
    return Choice(part[0], tentative=True) if len(part) == 1 else None


def numbered_across(replies: list[Outgoing]) -> tuple[Option, ...]:
    """The choices of one answer's messages as one menu, each message's numbered on from the one before;
    ``replies`` are given the number their first choice shows (``first_number``)."""
    options: list[Option] = []
    for index, reply in enumerate(replies):
        if reply.buttons:
            replies[index] = replace(reply, first_number=len(options) + 1)
            options += numbered_menu(reply.buttons, first=len(options) + 1)
    return tuple(options)
