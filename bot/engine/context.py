"""``Ctx``: everything a handler may use while answering one update, and the ways it answers.

Work that reads much (an export, a chart) is not done in the update's transaction: the handler hands it to
``ctx.after_commit``, which runs it once the transaction is over, and reads through ``ctx.read_apart``
(``storage.database.Store.read_apart``: a connection and a thread of its own, so nobody waits on it), or,
to build a file from what it reads, through ``ctx.build_apart`` (a child process of its own, within
THIDUA_EXPORT_TIMEOUT, failing with ``BuildFailed``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from functools import cached_property
from typing import Any, Generic, Protocol, TypeVar

from bot.engine.access import Identity
from bot.engine.buttons import ButtonData
from bot.engine.channel import Abilities
from bot.engine.config import Settings
from bot.engine.dialogs import Dialogs
from bot.engine.events import Button, FileOut, Incoming, Outgoing
from bot.engine.files import FileShelf
from messages import Html, text
from storage.database import BuildFailed as BuildFailed  # what handlers catch from build_apart
from storage.database import Repos

T = TypeVar("T")

# What a heavy read's work receives (``Ctx.read_apart``): every repository, on a connection of its own that
# refuses writes. Named here so handlers can type their reading work without importing storage.
ApartRepos = Repos


class ReadsApart(Protocol):
    """Where heavy reads go (``storage.database.Store``)."""

    async def read_apart(self, work: Callable[[Repos], Awaitable[T]]) -> T:
        """``work``'s result, read on a connection and a thread of its own."""
        ...

    async def build_apart(self, work: Callable[[Repos], Awaitable[T]], timeout: float) -> T:
        """``work``'s result, read and computed in a child process of its own within ``timeout`` seconds."""
        ...


class ChannelInfo(Protocol):
    """What a handler (and the router) may ask of the channel it answers on."""

    name: str

    @property
    def capabilities(self) -> Abilities:
        """What the channel can do: the router keeps numbered menus where it has no buttons, a handler
        asks whether files can be sent or a contact shared."""
        ...

    def invite_link(self, code: str) -> str | None:
        """A link that opens the bot with ``/start CODE``; None where the platform has none (the code is
        typed)."""
        ...


@dataclass
class Ctx:
    """One update being answered: read-only facts plus the replies collected so far."""

    event: Incoming
    who: Identity
    repos: Repos
    dialog: Dialogs
    settings: Settings
    now: datetime
    channel: ChannelInfo
    routes: Routes
    replies: list[Outgoing] = field(default_factory=list)
    menu_changed: bool = False  # the person's role or language changed: refresh their command menu
    reader: ReadsApart | None = None  # the store, for heavy reads
    files: FileShelf | None = None  # signed download links, where the service has a public address
    afterwards: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    @property
    def lang(self) -> str:
        """The language to answer in: the person's choice, else the service default."""
        return self.who.account.language or self.settings.language

    @property
    def today(self) -> date:
        """Today's date where the union is (THIDUA_TIMEZONE)."""
        return self.now.astimezone(self.settings.zone).date()

    def t(self, key: str, **params: object) -> Html:
        """A catalog text in the person's language."""
        return text(self.lang, key, **params)

    def after_commit(self, step: Callable[[], Awaitable[None]]) -> None:
        """Run ``step`` once the update's transaction is committed, before the replies go out: for work that
        reads much (through ``read_apart``), which must neither hold the transaction open nor run twice when
        the router answers an update again. Its replies carry no numbered menu: ``step`` adds no choices."""
        self.afterwards.append(step)

    async def read_apart(self, work: Callable[[Repos], Awaitable[T]]) -> T:
        """``work``'s result, read on a connection and a thread of its own, so that no other update waits
        while it reads and computes; ``work`` only reads, and may build a file from the rows as they come."""
        if self.reader is None:
            raise RuntimeError("this context was made without a store to read apart from")
        return await self.reader.read_apart(work)

    async def build_apart(self, work: Callable[[Repos], Awaitable[T]]) -> T:
        """``work``'s result, as ``read_apart`` gives it but computed in a child process of its own, for a
        file built from many rows (the workbook): the bot's own process only waits for it. ``work`` and its
        result must pickle (a module-level function or a dataclass's method, plain data); raises
        ``BuildFailed`` when the child crashes or takes longer than THIDUA_EXPORT_TIMEOUT."""
        if self.reader is None:
            raise RuntimeError("this context was made without a store to read apart from")
        return await self.reader.build_apart(work, self.settings.export_timeout)

    @property
    def can_link(self) -> bool:
        """True when a file can go as a signed download link (the service has a public address)."""
        return self.files is not None and self.files.serves_links

    @property
    def link_minutes(self) -> int:
        """How many minutes a download link works."""
        return int(self.files.lifetime.total_seconds() // 60) if self.files is not None else 0

    async def link_for(self, file: FileOut) -> str | None:
        """A signed link to download ``file`` for a while, only for this account; None where the service
        has no public address to link to."""
        if self.files is None or not self.can_link:
            return None
        return await self.files.link_for(self.who.account.id, file)

    def button(self, key: str, payload: ButtonData, **params: object) -> Button:
        """A button whose label is a catalog text."""
        return Button(self.t(key, **params), payload.pack())

    def say(
        self,
        body: str,
        buttons: Sequence[Sequence[Button]] = (),
        *,
        ask_contact: bool = False,
        remove_keyboard: bool = False,
        replace: bool = False,
        file: FileOut | None = None,
    ) -> None:
        """Queue a direct reply (sent as soon as the handler returns and its changes are committed)."""
        self.replies.append(
            Outgoing(
                text=body,
                buttons=tuple(tuple(row) for row in buttons if row),
                ask_contact=self.t("onboarding.share_phone_button") if ask_contact else None,
                remove_keyboard=remove_keyboard,
                replace=replace,
                file=file,
            )
        )


Handler = Callable[[Ctx], Awaitable[None]]
TextHandler = Callable[[Ctx, str], Awaitable[None]]


@dataclass(frozen=True)
class Flow:
    """A multi-step dialog: how to ask for the current step, and what to do with typed text."""

    name: str
    prompt: Handler  # asks for ``ctx.dialog.state.step`` (used on entry and after "back")
    on_text: TextHandler
    on_file: Handler | None = None  # photos and documents sent while the flow is open
    on_cancel: Handler | None = None  # says what is kept, for a flow whose work outlives the dialog
    # Steps answered only by buttons, where typed text is no answer; at every other step a typed number is
    # the answer itself (the terminal demo reads a bare number as a button press only at these steps).
    buttons_only: frozenset[str] = frozenset()


class Role(StrEnum):
    """Who may use a command or a button."""

    ANYONE = "anyone"
    MEMBER = "member"  # linked to the roster
    OFFICER = "officer"  # leads at least one unit


@dataclass(frozen=True)
class Command:
    """A chat command: its English name, its Vietnamese alias, its handler and who may use it."""

    name: str
    alias: str | None
    handler: Handler
    role: Role
    keeps_dialog: bool = False  # help and language leave an open form alone; other commands close it


Pressed = TypeVar("Pressed", bound=ButtonData)


@dataclass(frozen=True)
class ButtonRoute(Generic[Pressed]):
    """Where a pressed button goes, by the class of its decoded payload; the handler receives the payload."""

    kind: type[Pressed]
    handler: Callable[[Ctx, Pressed], Awaitable[None]]
    role: Role


def button_table(*routes: ButtonRoute[Any]) -> dict[type[ButtonData], ButtonRoute[Any]]:
    """The buttons part of ``Routes``: each payload class routed once."""
    table = {route.kind: route for route in routes}
    if len(table) != len(routes):
        raise ValueError("a payload class is routed twice")
    return table


def allowed(role: Role, who: Identity) -> bool:
    """True when ``who`` may use something meant for ``role``."""
    return _permits(role, officer=who.is_officer, member=who.member is not None)


def _permits(role: Role, *, officer: bool, member: bool) -> bool:
    if role is Role.OFFICER:
        return officer
    if role is Role.MEMBER:
        return member or officer
    return True


@dataclass(frozen=True)
class Fallbacks:
    """The answers the router gives when nothing in the table takes an update, or a role refuses it.

    They are chat wording, so handlers write them and the table hands them in; the engine never imports them.
    """

    unknown_command: Handler
    stray_text: Handler
    unsupported: Handler
    edited: Handler
    stale_button: Handler
    dialog_expired: Handler
    link_first: Handler
    link_officer_first: Handler
    officers_only: Handler


@dataclass(frozen=True)
class Routes:
    """The whole table: commands in the order a user meets them, buttons by payload class, flows by name."""

    commands: tuple[Command, ...]
    buttons: Mapping[type[ButtonData], ButtonRoute[Any]]
    flows: Mapping[str, Flow]
    on_contact: Handler
    fallbacks: Fallbacks

    def command(self, name: str) -> Command | None:
        """The command called ``name`` or with that alias."""
        return self._by_name.get(name)

    @cached_property
    def _by_name(self) -> dict[str, Command]:
        # Every update with a command looks it up: by name and by alias, the first in the table winning.
        found: dict[str, Command] = {}
        for command in self.commands:
            for name in (command.name, command.alias):
                if name is not None:
                    found.setdefault(name, command)
        return found

    def commands_for(self, who: Identity) -> tuple[Command, ...]:
        """The commands ``who`` may use, in table order."""
        return self._by_standing[(who.is_officer, who.member is not None)]

    @cached_property
    def _by_standing(self) -> dict[tuple[bool, bool], tuple[Command, ...]]:
        # Every /help and /start asks: the commands for each standing (officer or not, linked or not).
        return {
            (officer, member): tuple(
                command for command in self.commands if _permits(command.role, officer=officer, member=member)
            )
            for officer in (False, True)
            for member in (False, True)
        }
