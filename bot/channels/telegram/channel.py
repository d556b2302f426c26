"""The Telegram channel on python-telegram-bot 22: long polling against THIDUA_TELEGRAM_API_URL (Telegram,
a self-hosted Bot API server or the project's sandbox), or a webhook when THIDUA_WEBHOOK_URL is set (the
service's web server takes the calls and hands each update to the same queue polling fills), inline
keyboards, per-role command menus, the library's rate limiter. Updates run concurrently; the engine's
``Router.in_order`` keeps one chat's in order.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import ssl
import time
import warnings
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from functools import lru_cache, partial
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import AIORateLimiter, Application, ContextTypes, TypeHandler
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter
from telegram.warnings import PTBUserWarning

from bot.channels.answered import AnsweredUpdates, TakenUpdates
from bot.channels.capabilities import TELEGRAM
from bot.channels.telegram.aiohttp_request import (
    AiohttpRequest,
    AnswerTimedOut,
    ConnectionDropped,
    MaybeSent,
    NotSent,
)
from bot.channels.telegram.polling import PollingMonitor, TolerantBot
from bot.channels.telegram.updates import CHANNEL, to_incoming
from bot.channels.text import split_text
from bot.engine.access import Identity
from bot.engine.channel import ChannelStartError, MalformedUpdate, Webhook
from bot.engine.context import Role
from bot.engine.events import Button, Outgoing
from bot.engine.logs import quiet_passed_on_rate_limits, update_fields
from bot.engine.outages import OutageLog
from bot.engine.outbox import Delivery, Outcome
from bot.engine.router import Router
from messages import LANGUAGES, text

log = logging.getLogger(__name__)
# Broadcasts call sendMessage through do_api_request on purpose (see _send_quickly); the library's advice
# to use Bot.send_message instead is noted and declined.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.sendMessage'", category=PTBUserWarning)

CALLBACK_DATA_LIMIT = 64  # bytes, Telegram's limit
MESSAGE_LIMIT = TELEGRAM.text_limit  # characters of text in one message
STORED_PAYLOAD_MARK = "~"  # callback data "~<token>" stands for a payload kept in the database
MAX_CONCURRENT_UPDATES = 256
MAX_REPLY_WAIT = 30.0  # seconds a direct reply waits when Telegram answers 429; longer, it is given up
# Seconds between the tries of a start the Bot API answered with a 5xx, a 429 or a dropped connection.
START_RETRY_WAITS = (1.0, 2.0, 4.0, 8.0)
# Seconds between the tries of a direct reply that did not reach Telegram (refused, a 5xx): about 7 s in all.
REPLY_RETRY_WAITS = (1.0, 2.0, 4.0)
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
WEBHOOK_PATH = "/telegram/webhook"  # on the service's web server; Telegram calls THIDUA_WEBHOOK_URL + this
WEBHOOK_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def rate_limiter(rate: float) -> AIORateLimiter:
    """python-telegram-bot's limiter at ``rate`` messages per second overall.

    The bucket is a tenth of a second deep, so a broadcast starts at the configured pace instead of
    bursting a whole second's worth of messages at once (which could itself draw a 429).
    """
    # With no retries of its own, every 429 it passes on is handled (and logged once) by the caller.
    quiet_passed_on_rate_limits()
    return AIORateLimiter(overall_max_rate=max(1.0, rate / 10), overall_time_period=0.1, max_retries=0)


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _network_reason(error: NetworkError) -> str:
    """What went wrong reaching the server, in a few words."""
    if isinstance(error, TimedOut):
        return "no answer in time"
    cause: BaseException | None = error.__cause__
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "unknown host"
        if isinstance(cause, ssl.SSLError):
            return "TLS handshake failed"
        cause = cause.__cause__
    return error.message


def start_failure(error: TelegramError, api_url: str, webhook_url: str | None = None) -> str:
    """One line saying why the Bot API refused to start the channel, never with the token."""
    if webhook_url is not None and isinstance(error, BadRequest) and "webhook" in error.message.lower():
        # Telegram's "bad webhook: An HTTPS URL must be provided", "... only on ports 80, 88, 443 or 8443".
        return (
            f"THIDUA_WEBHOOK_URL {webhook_url} was refused by the Bot API at {api_url} ({error.message}); "
            "Telegram delivers updates only to an https:// address on port 443, 80, 88 or 8443"
        )
    if isinstance(error, InvalidToken):
        # The library's message names the token; the server's own answer is the cause.
        answer = error.__cause__.message if isinstance(error.__cause__, TelegramError) else "rejected"
        return f"THIDUA_TELEGRAM_TOKEN was rejected by {api_url} ({answer})"
    if isinstance(error, NetworkError):
        return f"cannot reach THIDUA_TELEGRAM_API_URL {api_url}: {_network_reason(error)}"
    return f"the Bot API at {api_url} refused to start the bot ({type(error).__name__}: {error.message})"


def start_retry_wait(error: TelegramError, waits: Iterator[float]) -> float | None:
    """Seconds to wait before starting again after ``error``, or None where another try cannot help: a
    rejected token, an address that refuses or does not answer, a bad request, or no tries left."""
    if isinstance(error, RetryAfter):
        wait = _seconds(error.retry_after)
        return wait if wait <= MAX_REPLY_WAIT and next(waits, None) is not None else None
    busy = isinstance(error, ConnectionDropped) or (
        isinstance(error, NetworkError) and not isinstance(error, (BadRequest, NotSent, MaybeSent))
    )
    return next(waits, None) if busy else None


class TelegramChannel:
    """Runs the bot on Telegram: receives updates, routes them, sends replies and outbox messages.

    It implements the engine's ``Channel``; its outbox pace is ``rate`` (THIDUA_TELEGRAM_RATE). Given
    ``webhook_url`` (the service's public address) and ``webhook_secret`` it registers its webhook at start
    instead of polling, and hands the web server its route (``webhook``).
    """

    name = CHANNEL
    capabilities = TELEGRAM

    def __init__(
        self,
        token: str,
        api_url: str,
        router: Router,
        *,
        poll_timeout: int = 10,
        rate: float = 30.0,
        send_timeout: float = 30.0,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> None:
        self._router = router
        self._webhook_url = webhook_url
        self._webhook_secret = webhook_secret
        self.rate: float | None = rate
        self._poll_timeout = poll_timeout
        self.username = ""
        self._api_url = api_url
        self.polling = PollingMonitor()
        # TolerantBot reads each polled update on its own, so one it cannot parse never blocks the rest.
        # aiohttp instead of the default httpx: httpx cannot carry a 1,000 msg/s broadcast here. Telegram
        # normally answers within a second; waiting longer for a slow answer is cheaper than not knowing
        # whether a message went out (see deliver).
        self._request = AiohttpRequest(read_timeout=send_timeout)
        bot = TolerantBot(
            token,
            base_url=f"{api_url}/bot",
            base_file_url=f"{api_url}/file/bot",
            request=self._request,
            get_updates_request=AiohttpRequest(connection_pool_size=1),
            rate_limiter=rate_limiter(rate),
            monitor=self.polling,
        )
        self.app: Application[Any, Any, Any, Any, Any, Any] = (
            Application.builder()
            .bot(bot)
            # Across chats at once; within a chat, the router's order (see _on_update).
            .concurrent_updates(MAX_CONCURRENT_UPDATES)
            .build()
        )
        self.app.add_handler(TypeHandler(Update, self._on_update))
        self.app.add_error_handler(self._on_error)
        self._answered: AnsweredUpdates[int] = AnsweredUpdates()
        # Polling says when the Bot API is lost and found again; in webhook mode nothing polls, so the
        # outbox's sends say it, or a broadcast would wait out an outage without a word.
        self._sending_outage = (
            OutageLog("telegram sending", "the Bot API", log, attempts="sends") if webhook_url else None
        )
        self._taken: TakenUpdates[int] = TakenUpdates()

    # -- life cycle -------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, set the command menus and start long polling, or register the webhook.

        A 5xx, a 429 or a connection dropped before the answer (the Bot API busy for a moment) is tried
        again over about 15 s, one WARNING each time. Raises ChannelStartError, one line naming the setting
        or the address, when the Bot API rejects the token, cannot be reached or keeps failing; every
        connection opened so far is closed first.
        """
        waits = iter(START_RETRY_WAITS)
        while True:
            try:
                await self._start_once()
                break
            except TelegramError as error:
                await self._close_after_failed_start()
                wait = start_retry_wait(error, waits)
                if wait is None:
                    # from None: the library's own exception names the token.
                    raise ChannelStartError(start_failure(error, self._api_url, self._webhook_url)) from None
                log.warning(
                    "telegram: the Bot API at %s did not start the bot (%s: %s); trying again in %.0f s",
                    self._api_url,
                    type(error).__name__,
                    error.message,
                    wait,
                )
                await asyncio.sleep(wait)
            except BaseException:
                await self._close_after_failed_start()
                raise
        mode = "webhook" if self._webhook_url is not None else "polling"
        log.info("telegram channel %s as @%s", mode, self.username)

    async def _start_once(self) -> None:
        await self.app.initialize()
        self.username = self.app.bot.username
        await self.set_default_menus()
        await self.app.start()
        if self._webhook_url is not None:
            # Updates Telegram holds while the service was down come next; a restart loses none.
            await self.app.bot.set_webhook(
                f"{self._webhook_url}{WEBHOOK_PATH}",
                secret_token=self._webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
        else:
            assert self.app.updater is not None
            # Polling first deletes any webhook a previous run in webhook mode left registered.
            await self.app.updater.start_polling(
                poll_interval=0,
                timeout=timedelta(seconds=self._poll_timeout),
                allowed_updates=ALLOWED_UPDATES,
                error_callback=self._polling_failed,
            )

    async def _close_after_failed_start(self) -> None:
        await self.stop()
        # The application shuts its bot down only once fully initialised; a failed getMe leaves it half.
        await self.app.bot.shutdown()

    def _polling_failed(self, error: TelegramError) -> None:
        """Already told by the PollingMonitor, once per event; this keeps python-telegram-bot from logging
        every failed poll again with a traceback."""

    async def stop(self) -> None:
        """Stop polling, finish the updates in hand and close the connections."""
        assert self.app.updater is not None
        if self.app.updater.running:
            if isinstance(self.app.bot, TolerantBot):
                self.app.bot.stopping()
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()

    async def wait_processed(self, update_id: int, timeout: float = 10.0) -> None:
        """Wait until the update with this id has been fully answered (used by tests and the demo)."""
        await self._answered.wait_for(update_id, timeout)

    def webhook(self) -> Webhook | None:
        """The web server's route for Telegram's calls, in webhook mode."""
        if self._webhook_url is None or self._webhook_secret is None:
            return None
        return Webhook(WEBHOOK_PATH, WEBHOOK_SECRET_HEADER, self._webhook_secret, self.receive)

    async def receive(self, body: object) -> None:
        """Hand one webhook update to the queue the polling loop fills; its handling goes on after this
        returns. Raises MalformedUpdate for a body that is not an update with an id."""
        if not isinstance(body, dict):
            raise MalformedUpdate("not a JSON object")
        bot = self.app.bot
        update = bot.read_update(body) if isinstance(bot, TolerantBot) else None
        if update is None:
            raise MalformedUpdate("no update id")
        bot.insert_callback_data(update)
        await self.app.update_queue.put(update)

    # -- ChannelInfo --------------------------------------------------------------------------------------

    def invite_link(self, code: str) -> str:
        """The deep link that opens the bot with ``/start CODE``."""
        return f"https://t.me/{self.username}?start={code}"

    # -- incoming -----------------------------------------------------------------------------------------

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not self._taken.first_time(update.update_id):
            # Delivered again (a retried webhook call, a batch polled again): answered once already.
            log.info(
                "update %s came again; skipped",
                update.update_id,
                extra=update_fields(update.update_id, CHANNEL),
            )
            return
        chat = update.effective_chat
        started = time.perf_counter()
        # The whole update, the callback answer and any apology included, in its chat's turn.
        try:
            async with self._router.in_order(CHANNEL, str(chat.id) if chat is not None else ""):
                await self._answer_or_apologise(update)
            if log.isEnabledFor(logging.INFO):  # the line's fields are not built for nobody (issue 13)
                ms = (time.perf_counter() - started) * 1000
                log.info("update answered", extra=update_fields(update.update_id, CHANNEL, ms))
        finally:
            await self._answered.add(update.update_id)

    async def _answer_or_apologise(self, update: Update) -> None:
        try:
            await self._answer(update)
        except RetryAfter as error:  # still too fast after waiting once: an apology would meet the same
            log.warning(
                "update %s not answered: Telegram still asks to wait %.0f s (429)",
                update.update_id,
                _seconds(error.retry_after),
                extra=update_fields(update.update_id, CHANNEL),
            )
        except BadRequest as error:  # a NetworkError to python-telegram-bot, yet the request's own fault
            await self._failed(update, error)
        except MaybeSent as error:
            # Handled, and the reply may well have arrived: an apology would ask to do it all again.
            log.warning(
                "update %s: Telegram did not confirm the reply (%s); it may have arrived, not sent again",
                update.update_id,
                type(error).__name__,
                extra=update_fields(update.update_id, CHANNEL),
            )
        except NetworkError as error:  # tried again already; an apology would take the same road
            log.warning(
                "update %s: the reply could not be sent (%s: %s)",
                update.update_id,
                type(error).__name__,
                error.message,
                extra=update_fields(update.update_id, CHANNEL),
            )
        except Exception as error:
            await self._failed(update, error)

    async def _failed(self, update: Update, error: Exception) -> None:
        # The update id and the traceback, never the update's content.
        log.error(
            "update %s failed (%s); the person got the apology",
            update.update_id,
            type(error).__name__,
            exc_info=error,
            extra=update_fields(update.update_id, CHANNEL),
        )
        await self._apologise(update)

    async def _answer(self, update: Update) -> None:
        payload = None
        if update.callback_query is not None:
            try:
                await self._patiently(update.update_id, update.callback_query.answer)
            except TelegramError as error:
                # Only the spinner on the button: a press Telegram calls too old (it came while the bot was
                # down) or that met a network fault is handled all the same.
                log.warning(
                    "update %s: the button press was not acknowledged (%s: %s); handled all the same",
                    update.update_id,
                    type(error).__name__,
                    error.message,
                    extra=update_fields(update.update_id, CHANNEL),
                )
            payload = await self._resolve_payload(update.callback_query.data or "")
        event = to_incoming(update, self.username, payload)
        if event is None:
            return
        handled = await self._router.handle(event, self)
        pressed = update.callback_query.message if update.callback_query is not None else None
        unconfirmed: MaybeSent | None = None
        for reply in handled.replies:
            try:
                await self._patiently(
                    update.update_id,
                    partial(
                        self._send,
                        int(event.chat_id),
                        reply,
                        pressed if isinstance(pressed, Message) else None,
                    ),
                )
            except MaybeSent as error:  # it may have arrived; the replies after it are owed all the same
                unconfirmed = error
        if handled.menu_changed and handled.who is not None:
            await self.refresh_menu(handled.who)
        if unconfirmed is not None:
            raise unconfirmed

    async def _patiently(self, update_id: int, send: Callable[[], Awaitable[object]]) -> None:
        """Send a direct reply, trying again where that cannot make a copy.

        On a 429, say so in one line, wait as asked (up to a limit), try once more. A request that never
        reached Telegram, or a 5xx, is tried again after a short pause, a few times (REPLY_RETRY_WAITS). A
        connection closed before the answer is tried once more at once, as ``deliver`` does; an answer that
        did not come in time (MaybeSent) is not repeated.
        """
        waits = iter(REPLY_RETRY_WAITS)
        asked_to_wait = dropped = False
        while True:
            try:
                await send()
                return
            except RetryAfter as error:
                wait = _seconds(error.retry_after)
                if asked_to_wait or wait > MAX_REPLY_WAIT:
                    raise
                asked_to_wait = True
                log.warning(
                    "answering update %s: Telegram asked to wait %.0f s (429); waiting", update_id, wait
                )
            except ConnectionDropped:
                if dropped:
                    raise
                dropped, wait = True, 0.0
            except (MaybeSent, BadRequest):
                raise
            except NetworkError:
                next_wait = next(waits, None)
                if next_wait is None:
                    raise
                wait = next_wait
            await asyncio.sleep(wait)

    async def _resolve_payload(self, data: str) -> str:
        if not data.startswith(STORED_PAYLOAD_MARK):
            return data
        async with self._router.store.begin(deferred=True) as repos:  # a read: no write lock
            return await repos.payloads.get(data[1:]) or ""

    async def _apologise(self, update: Update) -> None:
        chat = update.effective_chat
        if chat is None or chat.type != chat.PRIVATE:
            return
        user = update.effective_user
        language = await self._router.apology_language(CHANNEL, str(user.id) if user else None)
        try:
            await self.app.bot.send_message(
                chat.id, text(language, "fallback.error"), parse_mode=ParseMode.HTML
            )
        except Exception as error:
            log.warning("could not apologise to chat %s (%s)", chat.id, type(error).__name__)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # Errors outside a handler (tasks of the application): the handler's own are caught in _on_update.
        error = context.error
        if isinstance(error, TelegramError):
            log.warning("telegram: %s: %s", type(error).__name__, error.message)
        else:
            log.error("telegram: unexpected error outside an update", exc_info=error)

    # -- outgoing -----------------------------------------------------------------------------------------

    async def _markup(self, reply: Outgoing) -> str | None:
        # The keyboard as the Bot API's JSON, built from plain data: python-telegram-bot's objects, turned
        # back into dictionaries for the request, cost more than the request itself (issue 13).
        if reply.buttons:
            kept = _inline_keyboard(reply.buttons)
            if kept is not None:
                return kept
            keyboard = [
                [{"text": b.label, "callback_data": await self._callback_data(b.payload)} for b in row]
                for row in reply.buttons
            ]
            return json.dumps({"inline_keyboard": keyboard})
        if reply.ask_contact:
            button = {"text": reply.ask_contact, "request_contact": True}
            return json.dumps({"keyboard": [[button]], "resize_keyboard": True, "one_time_keyboard": True})
        if reply.remove_keyboard:
            return json.dumps({"remove_keyboard": True})
        return None

    async def _callback_data(self, payload: str) -> str:
        if _goes_as_is(payload):
            return payload
        async with self._router.store.begin() as repos:
            return STORED_PAYLOAD_MARK + await repos.payloads.put(payload, self._router.clock.now())

    async def _send(self, chat_id: int, reply: Outgoing, pressed: Message | None = None) -> None:
        parts = split_text(reply.text, MESSAGE_LIMIT)
        if len(parts) > 1 and reply.file is None:
            # Too long for one message: the leading parts go plain, the last carries the buttons.
            for part in parts[:-1]:
                await self._send_text(chat_id, part, None)
            reply = replace(reply, text=parts[-1], replace=False)
        markup = await self._markup(reply)
        keyboard = {"reply_markup": markup} if markup else None
        inline = bool(reply.buttons) or not (reply.ask_contact or reply.remove_keyboard)
        if reply.replace and pressed is not None and inline:  # a reply keyboard cannot be edited in
            try:
                await pressed.edit_text(reply.text, parse_mode=ParseMode.HTML, api_kwargs=keyboard)
                return
            except BadRequest as error:
                if "not modified" in error.message:
                    return
                log.warning("could not edit message %s: %s", pressed.message_id, error.message)
        bot = self.app.bot
        if reply.file is not None:
            send = bot.send_photo if reply.file.is_photo else bot.send_document
            field = "photo" if reply.file.is_photo else "document"
            await send(
                chat_id,
                **{field: reply.file.file_id or reply.file.content},
                filename=reply.file.name,
                caption=reply.text,
                parse_mode=ParseMode.HTML,
                api_kwargs=keyboard,
            )
            return
        await self._send_text(chat_id, reply.text, markup)

    async def _send_text(self, chat_id: int, text: str, markup: str | None) -> None:
        # Nothing looks at the Message Telegram sends back, and every value is already the text the Bot API
        # takes: the request goes to the bot's transport through its limiter (the same errors, the same
        # pace), past the library's layers that would encode each value again and build a Message from the
        # answer (together about a tenth of an update's CPU, issue 13), and the answer of a success is not
        # even parsed (``post_unread``).
        parameters = [
            RequestParameter("chat_id", str(chat_id), None),
            RequestParameter("text", text, None),
            RequestParameter("parse_mode", ParseMode.HTML.value, None),
        ]
        if markup is not None:
            parameters.append(RequestParameter("reply_markup", markup, None))
        log.debug("sendMessage to chat %s: %d characters", chat_id, len(text))  # never the words
        bot = self.app.bot
        post = partial(self._request.post_unread, f"{bot.base_url}/sendMessage", RequestData(parameters))
        if bot.rate_limiter is None:
            await post()
            return
        await bot.rate_limiter.process_request(
            callback=post,
            args=(),
            kwargs={},
            endpoint="sendMessage",
            data={"chat_id": chat_id},  # what the limiter reads: a group's chat is paced apart
            rate_limit_args=None,
        )

    async def _send_quickly(self, chat_id: int, message: Outgoing) -> None:
        if message.file is not None or message.replace or len(message.text) > MESSAGE_LIMIT:
            await self._send(chat_id, message)
            return
        await self._send_text(chat_id, message.text, await self._markup(message))

    async def deliver(self, chat_id: str, message: Outgoing) -> Delivery:
        """Send one outbox message and classify the outcome for the outbox worker.

        A request that never reached Telegram, or a 5xx, is retried later. One answered too late may have
        been delivered: it is UNCERTAIN and never sent again. A connection closed before the answer is
        tried once more at once, then counted UNCERTAIN too.
        """
        dropped = False
        while True:
            try:
                await self._send_quickly(int(chat_id), message)
            except RetryAfter as error:
                return Delivery(Outcome.RETRY, _seconds(error.retry_after), "429 retry after")
            except Forbidden as error:
                return Delivery(Outcome.UNREACHABLE, error=error.message[:255])
            except BadRequest as error:
                gone = "chat not found" in error.message.lower()
                return Delivery(Outcome.UNREACHABLE if gone else Outcome.FAILED, error=error.message[:255])
            except AnswerTimedOut as error:
                return Delivery(Outcome.UNCERTAIN, error=error.message[:255])
            except ConnectionDropped as error:
                if dropped:
                    return Delivery(Outcome.UNCERTAIN, error=error.message[:255])
                dropped = True
                continue
            except (NetworkError, TelegramError) as error:
                if self._sending_outage is not None:
                    self._sending_outage.failed(f"{type(error).__name__}: {error.message}")
                return Delivery(Outcome.RETRY, 0.0, str(error)[:255])
            if self._sending_outage is not None:
                self._sending_outage.succeeded()
            return Delivery(Outcome.SENT)

    # -- command menus ------------------------------------------------------------------------------------

    def _commands(self, language: str, officer: bool) -> list[BotCommand]:
        roles = (Role.ANYONE, Role.MEMBER, Role.OFFICER) if officer else (Role.ANYONE, Role.MEMBER)
        return [
            BotCommand(c.name, text(language, f"commands.{c.name}"))
            for c in self._router.routes.commands
            if c.role in roles
        ]

    async def set_default_menus(self) -> None:
        """The members' menu for everyone, in Vietnamese and (for English clients) in English."""
        default = self._router.settings.language
        await self.app.bot.set_my_commands(
            self._commands(default, officer=False), scope=BotCommandScopeDefault()
        )
        for language in LANGUAGES:
            if language != default:
                await self.app.bot.set_my_commands(
                    self._commands(language, officer=False),
                    scope=BotCommandScopeDefault(),
                    language_code=language,
                )

    async def refresh_menu(self, who: Identity) -> None:
        """A chat's own menu: officers see theirs; a member who chose a language sees it in that one."""
        scope = BotCommandScopeChat(int(who.account.chat_id))
        language = who.account.language or self._router.settings.language
        try:
            if who.is_officer or language != self._router.settings.language:
                await self.app.bot.set_my_commands(self._commands(language, who.is_officer), scope=scope)
            else:
                await self.app.bot.delete_my_commands(scope=scope)
        except TelegramError as error:
            log.warning("could not set the command menu of chat %s: %s", who.account.chat_id, error)


def _goes_as_is(payload: str) -> bool:
    """True when a button's payload is its own callback data (short enough, not taken for a stored one)."""
    return len(payload.encode()) <= CALLBACK_DATA_LIMIT and not payload.startswith(STORED_PAYLOAD_MARK)


@lru_cache(maxsize=1024)
def _inline_keyboard(rows: tuple[tuple[Button, ...], ...]) -> str | None:
    """The inline keyboard's JSON when every payload goes as it is, else None (one is stored first). The same
    keyboard (the main menu, a unit's list of campaigns) goes to many people: encoded once (issue 13)."""
    if not all(_goes_as_is(button.payload) for row in rows for button in row):
        return None
    keyboard = [[{"text": b.label, "callback_data": b.payload} for b in row] for row in rows]
    return json.dumps({"inline_keyboard": keyboard})
