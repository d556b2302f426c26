"""The router: one transaction per update, identity first, then the command, button, dialog step or fallback.

Channel adapters call ``Router.handle`` with a neutral event inside ``Router.in_order`` (one chat at a time,
chats concurrently) and send back the replies it returns. On SQLite
an update's transaction starts without the write lock; if its first write finds the database busy, the whole
handling is run again on a fresh transaction that takes the lock at BEGIN (replies are only handed back after
the commit, so nobody sees the attempt that was rolled back). On PostgreSQL the first attempt runs outside
a transaction, taking the chat's lock with its first read; its first write stops it before anything is
written (``WriteNeeded``) and it runs again inside a transaction, as /help never needs to.
An update that finds PostgreSQL unreachable waits for it, up to DATABASE_PATIENCE, its chat's turn held; an
outage is two log lines (``OutageLog``).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot.engine import buttons
from bot.engine.access import Identity, identify
from bot.engine.channel import ChatOrder
from bot.engine.clock import Clock
from bot.engine.config import Settings
from bot.engine.context import ChannelInfo, Ctx, Flow, Handler, Role, Routes, allowed
from bot.engine.dialogs import Dialogs
from bot.engine.events import Button, Incoming, Kind, Outgoing
from bot.engine.files import FileShelf
from bot.engine.menus import Option, numbered_across, numbered_menu, read_choice
from bot.engine.metrics import Metrics
from bot.engine.outages import OutageLog
from messages import text
from storage.database import ConnectionLost, Repos, Store, WriteNeeded, is_retryable

log = logging.getLogger(__name__)

# Attempts of one update on SQLite: the first reads without the write lock, which is all most updates need;
# if its first write is refused (another transaction writes), it runs again holding the lock from BEGIN,
# in turn behind this process's other writers, and once more should another process have kept the lock
# past the busy timeout. Each retry waits a little, with jitter, so retries do not arrive in step. On
# PostgreSQL the first reads outside a transaction and its first write runs it again, at once, in one.
BUSY_ATTEMPTS = 3
BUSY_BACKOFF = 0.01
DATABASE_PATIENCE = 30.0  # seconds an update waits for an unreachable database before the apology


@dataclass
class Handled:
    """What answering one update produced."""

    replies: list[Outgoing] = field(default_factory=list)
    who: Identity | None = None
    menu_changed: bool = False


class Router:
    """Turns neutral events into handler calls, inside one database transaction each."""

    def __init__(
        self,
        routes: Routes,
        store: Store,
        settings: Settings,
        clock: Clock,
        on_commit: Callable[[], None],
        on_plans_changed: Callable[[], None],
        metrics: Metrics | None = None,
        files: FileShelf | None = None,
    ) -> None:
        self.routes = routes
        self.files = files  # signed links for files a channel cannot take
        self.metrics = metrics or Metrics()
        self.store = store
        self.settings = settings
        self.clock = clock
        self._on_commit = on_commit  # wakes the outbox worker when an update queued notices
        self._on_plans_changed = on_plans_changed  # wakes the reminder scheduler
        self._in_forms: set[tuple[str, str]] = set()  # chats whose dialog was open after their last update
        self._order = ChatOrder()
        self._database = OutageLog("database", "the database", log, attempts="tries")

    async def apology_language(self, channel: str, user_id: str | None) -> str:
        """The language to apologise in: the person's, or the default when the database cannot say, since
        it may be what failed (a server down, a full disk), and the apology must still go out."""
        try:
            async with self.store.begin(deferred=True) as repos:  # a read: no write lock
                account = await repos.accounts.get(channel, user_id) if user_id else None
        except Exception:
            return self.settings.language
        return (account.language if account else None) or self.settings.language

    def in_order(self, channel: str, chat_id: str) -> AbstractAsyncContextManager[None]:
        """Hold one chat while its update is answered and replied to: every channel's incoming path enters
        here, so one chat's updates are answered in order while other chats run concurrently."""
        return self._order.turn(channel, chat_id)

    async def handle(self, event: Incoming, channel: ChannelInfo) -> Handled:
        """Answer one event; the changes are committed before the replies are handed back.

        Counted in the metrics by channel and outcome, with the time it took."""
        started = time.perf_counter()
        outcome = "error"
        try:
            handled = await self._handle(event, channel)
            outcome = "ok"
            return handled
        finally:
            self.metrics.update_answered(event.channel, outcome, time.perf_counter() - started)

    async def _handle(self, event: Incoming, channel: ChannelInfo) -> Handled:
        if not event.is_private:
            return self._group_answer(event)
        event = event.visible()  # what is stored and shown to others is what the person could see
        now = self.clock.now()
        chat = (event.channel, event.chat_id)
        # A chat in the middle of a form starts in a transaction: its next answer is a step, and a step
        # writes; so, where a first attempt may not write and would only be run again, does an update on a
        # channel without buttons (its numbered menu is kept with nearly every reply) and one whose sender is
        # due to be marked seen.
        numbered = not channel.capabilities.buttons
        writes = chat in self._in_forms or (
            self.store.deferred_reads_only
            and (numbered or self.store.seen_due(event.channel, event.user_id, now))
        )
        attempt = 2 if writes else 1
        lost: list[float] = []  # when this update found the database unreachable
        while True:
            try:
                hold = f"{event.channel}:{event.chat_id}"  # before anything of the chat is read
                async with self.store.begin(deferred=attempt == 1, hold=hold) as repos:
                    ctx = await self._answer(event, channel, repos, now)
                break
            except ConnectionLost as error:
                # The server restarted or is away: the update waits for it (its chat's turn held), rather
                # than an apology asking the person to do it again. Once at once, on new connections; then
                # with the outage's pauses, for DATABASE_PATIENCE.
                lost.append(time.monotonic())
                waited = lost[-1] - lost[0]
                if waited >= DATABASE_PATIENCE:
                    raise
                wait = 0.0
                if len(lost) > 1:  # not a connection the server had ended: it cannot be reached
                    self._database.failed(str(error))
                    wait = min(self._database.pause(), DATABASE_PATIENCE - waited)
            except WriteNeeded:
                wait = 0.0  # nothing was written: at once, inside a transaction
            except Exception as error:
                if attempt >= BUSY_ATTEMPTS or not is_retryable(error):
                    raise
                wait = random.uniform(0, BUSY_BACKOFF * attempt)
            log.debug("database busy or unreachable, or a write, for chat %s: answering again", event.chat_id)
            attempt += 1
            await asyncio.sleep(wait)
        self._database.succeeded()
        if ctx.dialog.state is not None:
            self._in_forms.add(chat)
        else:
            self._in_forms.discard(chat)
        if repos.outbox.queued:  # the worker sleeps until there is something to send
            self._on_commit()
        if repos.reminders.plans_changed:
            self._on_plans_changed()
        for step in ctx.afterwards:  # heavy reads, outside the transaction and run once
            await step()
        return Handled(ctx.replies, ctx.who, ctx.menu_changed)

    async def _answer(self, event: Incoming, channel: ChannelInfo, repos: Repos, now: datetime) -> Ctx:
        opening = await repos.opening(event.channel, event.chat_id)  # one statement, before writes
        who = await identify(repos, self.settings, event, now, opening.identity_generation)
        dialog = Dialogs(
            repos, event.channel, event.chat_id, now, timedelta(hours=self.settings.dialog_expiry_hours)
        )
        await dialog.load(opening.dialog)
        numbered = not channel.capabilities.buttons
        if numbered and event.kind is Kind.TEXT and not event.payload:
            event = await self._typed_choice(repos, event)
        ctx = Ctx(
            event,
            who,
            repos,
            dialog,
            self.settings,
            now,
            channel,
            self.routes,
            reader=self.store,
            files=self.files,
        )
        await self._dispatch(ctx)
        if numbered and (shown := numbered_across(ctx.replies)):
            await repos.menus.put(event.channel, event.chat_id, _pairs(shown), now)
            if self._waits_for_text(ctx):
                self._words_only(ctx.replies)
        return ctx

    def _waits_for_text(self, ctx: Ctx) -> bool:
        """Whether the chat is now at a dialog step that takes typed text (where a number is an answer)."""
        state = ctx.dialog.state
        flow = self.routes.flows.get(state.flow) if state is not None else None
        return flow is not None and state is not None and state.step not in flow.buttons_only

    @staticmethod
    def _words_only(replies: list[Outgoing]) -> None:
        """Mark the replies whose choices the next text answers: they are named by words, not numbers."""
        for index, reply in enumerate(replies):
            if reply.buttons:
                replies[index] = replace(reply, words_only=True)

    @staticmethod
    async def _typed_choice(repos: Repos, event: Incoming) -> Incoming:
        # A text on a channel without buttons may name an option of the newest menu shown in this chat.
        kept = await repos.menus.get(event.channel, event.chat_id)
        menu = tuple(Option(n, label, payload) for n, (label, payload) in enumerate(kept, start=1))
        choice = read_choice(event.text, menu)
        if choice is None:
            return event
        return replace(event, payload=choice.option.payload, tentative=choice.tentative)

    async def remember_menu(
        self, channel: str, chat_id: str, buttons: tuple[tuple[Button, ...], ...]
    ) -> None:
        """Keep the numbered menu of a message delivered outside an update (a notice with choices), so the
        chat's next text may answer it; channels without buttons call this when they deliver one."""
        shown = numbered_menu(buttons)
        if not shown:
            return
        async with self.store.begin() as repos:
            await repos.menus.put(channel, chat_id, _pairs(shown), self.clock.now())

    def _group_answer(self, event: Incoming) -> Handled:
        # Only commands get an answer in groups, so the bot never chatters there.
        if event.kind is not Kind.COMMAND:
            return Handled()
        return Handled([Outgoing(text(self.settings.language, "fallback.private_only"))])

    async def _dispatch(self, ctx: Ctx) -> None:
        event = ctx.event
        if ctx.dialog.expired is not None and event.kind is Kind.TEXT:
            await self.routes.fallbacks.dialog_expired(ctx)
        elif event.kind is Kind.COMMAND:
            await self._command(ctx, event.command)
        elif event.kind is Kind.BUTTON:
            await self._button(ctx)
        elif event.kind is Kind.TEXT:
            await self._text(ctx)
        elif event.kind is Kind.CONTACT:
            await self.routes.on_contact(ctx)
        elif event.kind is Kind.FILE and (takes_files := self._flow_taking_files(ctx)) is not None:
            await takes_files(ctx)
        elif event.kind is Kind.EDITED:
            await self.routes.fallbacks.edited(ctx)
        else:
            await self.routes.fallbacks.unsupported(ctx)

    async def _command(self, ctx: Ctx, name: str) -> None:
        command = self.routes.command(name)
        if command is None:
            await self.routes.fallbacks.unknown_command(ctx)
            return
        if not await self._permitted(ctx, command.role):
            return
        if not command.keeps_dialog and command.name != "cancel":
            await ctx.dialog.finish()
        await command.handler(ctx)

    async def _button(self, ctx: Ctx) -> None:
        # The one place payloads are decoded: garbled, forged, oversized or outdated ones get a polite no.
        try:
            pressed = buttons.unpack(ctx.event.payload)
        except buttons.MalformedButton:
            await self.routes.fallbacks.stale_button(ctx)
            return
        if isinstance(pressed, buttons.OpenCommand):
            await self._command(ctx, pressed.command)
            return
        route = self.routes.buttons.get(type(pressed))
        if route is None:
            await self.routes.fallbacks.stale_button(ctx)
        elif await self._permitted(ctx, route.role):
            await route.handler(ctx, pressed)

    async def _text(self, ctx: Ctx) -> None:
        state = ctx.dialog.state
        flow = self.routes.flows.get(state.flow) if state is not None else None
        if ctx.event.payload and self._takes_choice(ctx, flow):
            ctx.event = replace(ctx.event, kind=Kind.BUTTON)  # a numbered menu's option, typed
            await self._button(ctx)
        elif flow is None:
            await self.routes.fallbacks.stray_text(ctx)
        else:
            await flow.on_text(ctx, ctx.event.text.strip())

    @staticmethod
    def _takes_choice(ctx: Ctx, flow: Flow | None) -> bool:
        # An option's whole words are a choice anywhere; a bare number, or part of an option's words, only
        # where no step waits for typed text, so "70" stays an answer at a step that asks for a number.
        state = ctx.dialog.state
        if not ctx.event.tentative or flow is None or state is None:
            return True
        return state.step in flow.buttons_only

    def _flow_taking_files(self, ctx: Ctx) -> Handler | None:
        state = ctx.dialog.state
        flow = self.routes.flows.get(state.flow) if state is not None else None
        return flow.on_file if flow is not None else None

    async def _permitted(self, ctx: Ctx, role: Role) -> bool:
        if allowed(role, ctx.who):
            return True
        fallbacks = self.routes.fallbacks
        refusal: Handler = fallbacks.link_first
        if role is Role.OFFICER:
            refusal = fallbacks.officers_only if ctx.who.member is not None else fallbacks.link_officer_first
        await refusal(ctx)
        return False


def _pairs(menu: tuple[Option, ...]) -> list[tuple[str, str]]:
    return [(option.label, option.payload) for option in menu]
