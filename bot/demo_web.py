"""``thidua demo``: the demo as a web chat on 127.0.0.1. The demo's people (``bot.demo.PERSONAS``) are chat
windows over the Telegram and Zalo sandboxes; ``bot.web.chat`` serves the page and its endpoints, and this
module is the ``ChatRoom`` behind them: what a window shows, what a visitor's action becomes in a sandbox,
and the demo's time travel through the engine's clock.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.demo import PERSONAS, DemoWorld, Persona, claimed, demo_world, log_file, start_logging
from bot.engine.config import ConfigError, Settings
from bot.sandbox import SandboxUser, SentMessage, ZaloUser
from bot.sandbox.telegram import JsonDict, scope_key
from bot.web.chat import Download, Refused, WebChat
from bot.web.server import BIND_REASONS
from messages import plain, text

log = logging.getLogger(__name__)

TRAVEL_STEP = timedelta(hours=1)  # well inside the reminders' grace period: each one goes out, none "missed"
LISTEN_BACKLOG = 128  # connections waiting to be accepted: one visitor's page and its event streams
ANSWER_TIMEOUT = 30.0  # seconds the bot gets to answer one action (an export of the demo union takes ~1)

Json = dict[str, Any]


class PortUnavailable(ConfigError):
    """The web chat's port cannot be listened on: one line, exit status 2."""


def _entity_json(entity: JsonDict) -> Json:
    """The parts of a Telegram entity the page draws (bold, code, links...)."""
    return {key: entity[key] for key in ("type", "offset", "length", "url") if key in entity}


def _buttons_json(rows: list[list[JsonDict]]) -> list[list[Json]]:
    """Rows of buttons as the page draws them: the label, the number to press, or the link to open."""
    numbered: list[list[Json]] = []
    count = 0
    for row in rows:
        drawn: list[Json] = []
        for button in row:
            entry: Json = {"label": str(button["text"]), "index": count}
            if "url" in button:
                entry["url"] = str(button["url"])
            if button.get("request_contact"):
                entry["contact"] = True
            drawn.append(entry)
            count += 1
        numbered.append(drawn)
    return numbered


class SandboxRoom:
    """The demo's chat windows: one per persona, on Telegram (buttons, files, contact) or on Zalo
    (numbered menus, plain text), each action waited on until the bot and its outbox have answered."""

    def __init__(self, world: DemoWorld) -> None:
        self.world = world
        self.language = world.runtime.settings.language
        self.personas = {persona.key: persona for persona in PERSONAS}
        self.users: dict[str, SandboxUser] = {
            p.key: world.sandbox.user(p.user_id, p.first_name, p.last_name, phone=p.phone)
            for p in PERSONAS
            if p.zalo_member is None
        }
        self.zalo_users: dict[str, ZaloUser] = {
            p.key: world.zalo.user(str(p.user_id), p.full_name) for p in PERSONAS if p.zalo_member is not None
        }
        # Zalo's sandbox keeps only the bot's side; the visitor's own lines, by message id (one counter).
        self.zalo_typed: dict[str, list[tuple[str, str]]] = {key: [] for key in self.zalo_users}
        self._zalo_changes = 0
        self._zalo_changed = asyncio.Event()
        self._travelling = asyncio.Lock()

    # -- changes ----------------------------------------------------------------------------------------

    @property
    def changes(self) -> int:
        """Messages sent, edited or deleted in either sandbox, and lines typed on Zalo."""
        return self.world.sandbox.changes + self.world.zalo.changes + self._zalo_changes

    async def wait_changed(self, seen: int) -> None:
        """Return once ``changes`` has moved past ``seen``."""
        while self.changes == seen:
            waits = [
                asyncio.ensure_future(self.world.sandbox.wait_changed(self.world.sandbox.changes)),
                asyncio.ensure_future(self.world.zalo.wait_changed(self.world.zalo.changes)),
                asyncio.ensure_future(self._zalo_changed.wait()),
            ]
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for wait in waits:
                    wait.cancel()

    def _typed_on_zalo(self) -> None:
        self._zalo_changes += 1
        self._zalo_changed.set()
        self._zalo_changed = asyncio.Event()

    # -- what the windows show --------------------------------------------------------------------------

    def windows(self) -> list[Json]:
        """Who the visitor may be, in the order of the demo's people."""
        return [self._window_info(persona) for persona in PERSONAS]

    def _window_info(self, persona: Persona) -> Json:
        on_zalo = persona.key in self.zalo_users
        return {
            "key": persona.key,
            "name": persona.full_name,
            "role": plain(text(self.language, persona.role_key)),
            "channel": "zalo" if on_zalo else "telegram",
            "buttons": not on_zalo,
            "contact": not on_zalo,
            "attach": not on_zalo,
        }

    def _persona(self, key: str) -> Persona:
        persona = self.personas.get(key)
        if persona is None:
            raise LookupError(key)
        return persona

    def view(self, key: str) -> Json:
        """A window: the conversation both ways, oldest first, with the reply keyboard and command menu."""
        persona = self._persona(key)
        if key in self.zalo_users:
            return {
                **self._window_info(persona),
                "messages": self._zalo_messages(key),
                "keyboard": [],
                "commands": [],
            }
        user = self.users[key]
        chat = self.world.sandbox.chat(user.chat_id)
        drawn: list[tuple[int, Json]] = [
            (number, self._mine(number, sent)) for number, sent in chat.user_messages.items()
        ]
        drawn += [(number, self._bot_message(key, sent)) for number, sent in chat.bot_messages.items()]
        keyboard = chat.newest_bot_message(
            lambda sent: sent.reply_keyboard is not None or sent.remove_keyboard
        )
        return {
            **self._window_info(persona),
            "messages": [message for _, message in sorted(drawn, key=lambda pair: pair[0])],
            "keyboard": _buttons_json(keyboard.reply_keyboard or []) if keyboard is not None else [],
            "commands": self._commands(user),
        }

    def _mine(self, number: int, sent: JsonDict) -> Json:
        entry: Json = {
            "id": str(number),
            "from": "me",
            "kind": "text",
            "text": "",
            "entities": [],
            "edits": 0,
        }
        if "text" in sent:
            entry["text"] = str(sent["text"])
        elif "contact" in sent:
            entry.update(kind="contact", text=str(sent["contact"]["phone_number"]))
        elif "photo" in sent:
            entry.update(kind="photo", text=str(sent.get("caption", "")))
        elif "document" in sent:
            entry.update(kind="document", text=str(sent["document"].get("file_name", "")))
        return entry

    def _bot_message(self, key: str, sent: SentMessage) -> Json:
        entry: Json = {
            "id": str(sent.message_id),
            "from": "bot",
            "kind": sent.kind,
            "text": sent.plain_text,
            "entities": [_entity_json(entity) for entity in sent.entities],
            "buttons": _buttons_json(sent.inline_keyboard),
            "edits": sent.edits,
        }
        if sent.file_bytes is not None:
            entry["file"] = {
                "name": sent.file_name or "file",
                "url": f"/api/windows/{key}/files/{sent.message_id}",
                "size": len(sent.file_bytes),
            }
        return entry

    def _zalo_messages(self, key: str) -> list[Json]:
        user = self.zalo_users[key]
        drawn = [
            (number, {"id": number, "from": "me", "kind": "text", "text": typed, "entities": [], "edits": 0})
            for number, typed in self.zalo_typed[key]
        ]
        for sent in user.messages():
            entry: Json = {
                "id": sent.message_id,
                "from": "bot",
                "kind": "text" if sent.kind == "text" else sent.kind,
                "text": sent.plain_text,
                "entities": [],
                "buttons": [],
                "edits": 0,
            }
            if sent.photo_url is not None:
                entry["link"] = sent.photo_url
            drawn.append((sent.message_id, entry))
        return [message for _, message in sorted(drawn, key=lambda pair: pair[0])]

    def _commands(self, user: SandboxUser) -> list[Json]:
        """The command menu Telegram shows this user: the chat's own scope first, then the defaults."""
        commands = self.world.sandbox.commands
        for scope in (scope_key({"type": "chat", "chat_id": user.chat_id}), "all_private_chats", "default"):
            for language in (user.language_code, ""):
                found = commands.get((scope, language))
                if found:
                    return [dict(command) for command in found]
        return []

    def download(self, key: str, message_id: str) -> Download | None:
        """The photo or document of a bot message in a Telegram window."""
        self._persona(key)
        user = self.users.get(key)
        if user is None or not message_id.isdecimal():
            return None
        sent = self.world.sandbox.chat(user.chat_id).bot_messages.get(int(message_id))
        if sent is None or sent.file_bytes is None:
            return None
        return Download(
            sent.file_name or "file", sent.file_bytes, sent.mime_type or "application/octet-stream"
        )

    # -- what a visitor does ------------------------------------------------------------------------------

    def _telegram(self, key: str) -> SandboxUser:
        self._persona(key)
        user = self.users.get(key)
        if user is None:
            raise Refused("webchat.zalo_typed_only")
        return user

    async def send_text(self, key: str, typed: str) -> None:
        """Send a text or a /command, on Telegram or on Zalo."""
        self._persona(key)
        zalo = self.zalo_users.get(key)
        if zalo is not None:
            message_id = await zalo.send_text(typed)
            self.zalo_typed[key].append((message_id, typed))
            self._typed_on_zalo()
            await self._answered_on_zalo(message_id)
            return
        await self._answered(await self.users[key].send(typed))

    async def press(self, key: str, message_id: str, button: int) -> None:
        """Press an inline button of any bot message still in the chat, as it is now."""
        user = self._telegram(key)
        sent = (
            self.world.sandbox.chat(user.chat_id).bot_messages.get(int(message_id))
            if message_id.isdecimal()
            else None
        )
        buttons = [pressed for row in sent.inline_keyboard for pressed in row] if sent is not None else []
        if sent is None or not 0 <= button < len(buttons) or "callback_data" not in buttons[button]:
            raise Refused("webchat.no_button")
        await self._answered(await user.press_in(sent, str(buttons[button]["text"])))

    async def press_key(self, key: str, button: int) -> None:
        """Press a button of the reply keyboard (a contact button shares the phone number)."""
        user = self._telegram(key)
        chat = self.world.sandbox.chat(user.chat_id)
        shown = chat.newest_bot_message(lambda sent: sent.reply_keyboard is not None or sent.remove_keyboard)
        keys = (
            [pressed for row in (shown.reply_keyboard or []) for pressed in row] if shown is not None else []
        )
        if not 0 <= button < len(keys):
            raise Refused("webchat.no_button")
        await self._answered(await user.press_key(keys[button]))

    async def share_contact(self, key: str) -> None:
        """Share the persona's phone number (Telegram only: Zalo shares no contact)."""
        await self._answered(await self._telegram(key).share_contact())

    async def attach(self, key: str, upload: Download) -> None:
        """Send an image as a photo, anything else as a document."""
        user = self._telegram(key)
        if upload.mime_type.startswith("image/"):
            update_id = await user.send_photo(upload.content)
        else:
            update_id = await user.send_document(upload.name, upload.content, upload.mime_type)
        await self._answered(update_id)

    async def _answered(self, update_id: int) -> None:
        telegram = self.world.runtime.telegram
        assert telegram is not None
        await telegram.wait_processed(update_id, timeout=ANSWER_TIMEOUT)
        await self.world.runtime.outbox.wait_idle(timeout=ANSWER_TIMEOUT)

    async def _answered_on_zalo(self, message_id: str) -> None:
        zalo = self.world.runtime.zalo
        assert zalo is not None
        await zalo.wait_processed(message_id, timeout=ANSWER_TIMEOUT)
        await self.world.runtime.outbox.wait_idle(timeout=ANSWER_TIMEOUT)

    # -- time travel ----------------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The demo's clock."""
        return self.world.clock.now()

    async def travel(self, delta: timedelta) -> None:
        """Move the clock forward an hour at a time; at each step the reminders then due are sent, as they
        would have been had the visitor waited, and the outbox delivers them before the next step."""
        runtime = self.world.runtime
        async with self._travelling:
            left = delta
            while left > timedelta(0):
                step = min(left, TRAVEL_STEP)
                self.world.clock.advance(step)
                left -= step
                await runtime.reminders.plan_changed()
                await runtime.outbox.wait_idle(timeout=ANSWER_TIMEOUT)


def _listen(port: int) -> socket.socket:
    """The web chat's socket on 127.0.0.1:port, bound before anything else is done: a second demo on a taken
    port said so only after it had replaced the running demo's database and emptied its log."""
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio's servers do
    try:
        listening.bind(("127.0.0.1", port))
        listening.listen(LISTEN_BACKLOG)
    except OSError as error:  # the port is taken, or not ours to take
        listening.close()
        reason = BIND_REASONS.get(error.errno or 0, error.strerror or type(error).__name__)
        raise PortUnavailable(
            f"cannot listen on 127.0.0.1:{port}: {reason}; choose another with --port"
        ) from error
    return listening


async def run_web_demo(settings: Settings, database: Path, *, port: int, keep: bool = False) -> str:
    """Start the sandboxes, the bot and the web chat, print the page's address, and serve until Ctrl-C or
    SIGTERM; the log goes to a file beside the database. Nothing is opened by itself."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    listening = _listen(port)
    with closing(listening), claimed(database):
        start_logging(settings, database)
        async with demo_world(settings, database, keep=keep) as world:
            chat = WebChat(SandboxRoom(world), world.runtime.settings.language)
            await chat.start(listening)
            try:
                print(plain(text(chat.language, "webchat.open", address=chat.address)), flush=True)
                print(plain(text(chat.language, "webchat.log", log=log_file(database).resolve())), flush=True)
                await stop.wait()
            finally:
                await chat.stop()
            language = chat.language
    return plain(text(language, "webchat.finished", database=database))
