"""The router: one transaction per update, identity first, then the command, button, dialog step or fallback.

Channel adapters call ``Router.handle`` with a neutral event and send back the replies it returns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from bot import buttons
from bot.access import Identity, identify
from bot.clock import Clock
from bot.config import Settings
from bot.dialogs import Dialogs
from bot.events import Incoming, Kind, Outgoing
from handlers import common
from handlers.context import ChannelInfo, Ctx, Handler, Role, Routes, allowed
from messages import text
from storage.database import Store

log = logging.getLogger(__name__)


@dataclass
class Handled:
    """What answering one update produced."""

    replies: list[Outgoing] = field(default_factory=list)
    who: Identity | None = None
    menu_changed: bool = False


class Router:
    """Turns neutral events into handler calls, inside one database transaction each."""

    def __init__(
        self, routes: Routes, store: Store, settings: Settings, clock: Clock, on_commit: Callable[[], None]
    ) -> None:
        self.routes = routes
        self.store = store
        self.settings = settings
        self.clock = clock
        self._on_commit = on_commit  # wakes the outbox worker: handlers may have queued notices

    async def handle(self, event: Incoming, channel: ChannelInfo) -> Handled:
        """Answer one event; the changes are committed before the replies are handed back."""
        if not event.is_private:
            return self._group_answer(event)
        now = self.clock.now()
        async with self.store.begin() as repos:
            who = await identify(repos, self.settings, event, now)
            dialog = Dialogs(
                repos, event.channel, event.chat_id, now, timedelta(hours=self.settings.dialog_expiry_hours)
            )
            await dialog.load()
            ctx = Ctx(event, who, repos, dialog, self.settings, now, channel, self.routes)
            await self._dispatch(ctx)
        self._on_commit()
        return Handled(ctx.replies, ctx.who, ctx.menu_changed)

    def _group_answer(self, event: Incoming) -> Handled:
        # Only commands get an answer in groups, so the bot never chatters there.
        if event.kind is not Kind.COMMAND:
            return Handled()
        return Handled([Outgoing(text(self.settings.language, "fallback.private_only"))])

    async def _dispatch(self, ctx: Ctx) -> None:
        event = ctx.event
        if ctx.dialog.expired is not None and event.kind is Kind.TEXT:
            await common.dialog_expired(ctx)
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
            await common.edited(ctx)
        else:
            await common.unsupported(ctx)

    async def _command(self, ctx: Ctx, name: str) -> None:
        command = self.routes.command(name)
        if command is None:
            await common.unknown_command(ctx)
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
            await common.stale_button(ctx)
            return
        if isinstance(pressed, buttons.OpenCommand):
            await self._command(ctx, pressed.command)
            return
        route = self.routes.buttons.get(type(pressed))
        if route is None:
            await common.stale_button(ctx)
        elif await self._permitted(ctx, route.role):
            await route.handler(ctx, pressed)

    async def _text(self, ctx: Ctx) -> None:
        state = ctx.dialog.state
        flow = self.routes.flows.get(state.flow) if state is not None else None
        if flow is None:
            await common.stray_text(ctx)
        else:
            await flow.on_text(ctx, ctx.event.text.strip())

    def _flow_taking_files(self, ctx: Ctx) -> Handler | None:
        state = ctx.dialog.state
        flow = self.routes.flows.get(state.flow) if state is not None else None
        return flow.on_file if flow is not None else None

    @staticmethod
    async def _permitted(ctx: Ctx, role: Role) -> bool:
        if allowed(role, ctx.who):
            return True
        officers_only = role is Role.OFFICER and ctx.who.member is not None
        refusal: Handler = common.officers_only if officers_only else common.link_first
        await refusal(ctx)
        return False
