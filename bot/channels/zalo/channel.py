"""The Zalo channel: long polling of the Zalo Bot Platform API, or its webhook when THIDUA_WEBHOOK_URL is set;
replies as plain text with numbered menus, split at Zalo's 2,000 characters, and the outbox's messages
delivered at THIDUA_ZALO_RATE.

Zalo has no buttons, edits, files from the bot or contact sharing (``ZALO`` capabilities): the choices of a
reply become a numbered menu (``bot.channels.render``), which the router keeps with the chat in the database
(``bot.engine.menus``), so the next text is read back as a choice by number or words, even after a restart.
A file a reply carries goes as a signed link of the bot's web server (``bot.engine.files``) where the service
has a public address: a chart as sendPhoto with its URL, a workbook as a download line under the text.
Without one the capabilities say so (``delivers_files``) and the handlers answer in words instead.
Updates of different chats are answered concurrently, one chat's strictly in order (``Router.in_order``),
whether polled or posted to the webhook.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any

from bot.channels.answered import AnsweredUpdates, TakenUpdates, keep_newest
from bot.channels.capabilities import ZALO, Capabilities
from bot.channels.render import render
from bot.channels.zalo.client import (
    AnswerTimedOut,
    ConnectionDropped,
    NotSent,
    ZaloApiError,
    ZaloClient,
    ZaloError,
)
from bot.channels.zalo.polling import ZaloPoller
from bot.channels.zalo.updates import (
    CHANNEL,
    UnknownEvent,
    Unreadable,
    event_name,
    message_id,
    to_incoming,
)
from bot.engine.channel import ChannelStartError, MalformedUpdate, Webhook
from bot.engine.events import FileOut, Incoming, Outgoing
from bot.engine.files import FileShelf
from bot.engine.outbox import Delivery, Outcome
from bot.engine.router import Router
from messages import plain, text

log = logging.getLogger(__name__)

MAX_CONCURRENT_UPDATES = 256  # updates being answered at once; polling waits while this many are
PARTLY_SENT = 10_000  # outbox messages kept with the parts already sent, for their retry to go on from there
QUOTA_PAUSE = 1.0  # seconds before a send refused with 429 is tried again (Zalo gives no figure)
UNREACHABLE_CODES = frozenset({403, 404})  # the user blocked the bot, or there is no such user
WEBHOOK_PATH = "/zalo/webhook"  # on the service's web server; Zalo calls THIDUA_WEBHOOK_URL + this
WEBHOOK_SECRET_HEADER = "X-Bot-Api-Secret-Token"  # Zalo puts the secret_token here, in plain text


def start_failure(error: ZaloError, api_url: str) -> str:
    """One line saying why the channel could not start, naming the setting, never the token."""
    if isinstance(error, ZaloApiError):
        if error.error_code in (401, 403):
            return f"THIDUA_ZALO_TOKEN was rejected by {api_url} ({error.description})"
        return f"the Zalo Bot API at {api_url} refused to start the bot ({error.reason})"
    return f"cannot reach THIDUA_ZALO_API_URL {api_url}: {error.reason}"


def classify(error: ZaloError) -> Delivery:
    """The outbox's view of a failed send: what Zalo refused, and what may or may not have gone out."""
    reason = str(error)[:255]
    if isinstance(error, ZaloApiError):
        if error.error_code == 429:
            return Delivery(Outcome.RETRY, QUOTA_PAUSE, reason)
        if error.error_code >= 500:
            return Delivery(Outcome.RETRY, 0.0, reason)
        if error.error_code in UNREACHABLE_CODES:
            return Delivery(Outcome.UNREACHABLE, error=reason)
        return Delivery(Outcome.FAILED, error=reason)
    if isinstance(error, NotSent):
        return Delivery(Outcome.RETRY, 0.0, reason)
    return Delivery(Outcome.UNCERTAIN, error=reason)  # AnswerTimedOut, or dropped twice


@dataclass
class Sending:
    """The API calls that show one message, and how many of them have been made (answered or not)."""

    calls: list[tuple[str, dict[str, Any]]]
    made: int = 0


class ZaloChannel:
    """Runs the bot on Zalo: polls updates or takes them by webhook, routes them, sends replies and outbox
    messages.

    It implements the engine's ``Channel``; its outbox pace is ``rate`` (THIDUA_ZALO_RATE). Given
    ``webhook_url`` (the service's public address) and ``webhook_secret`` it registers its webhook at start
    instead of polling and hands the web server its route (``webhook``). Given a ``files`` shelf that serves
    links, files go as links (``capabilities.file_links``).
    """

    name = CHANNEL

    def __init__(
        self,
        token: str,
        api_url: str,
        router: Router,
        *,
        poll_timeout: int = 30,
        rate: float = 5.0,
        send_timeout: float = 30.0,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        files: FileShelf | None = None,
    ) -> None:
        self._router = router
        self.rate: float | None = rate
        self._api_url = api_url
        self._webhook_url = webhook_url
        self._webhook_secret = webhook_secret
        self._files = files if files is not None and files.serves_links else None
        self.capabilities: Capabilities = replace(ZALO, file_links=self._files is not None)
        self.client = ZaloClient(token, api_url, read_timeout=send_timeout)
        self.poller = ZaloPoller(self.client, self._on_update, poll_timeout)
        self._polling: asyncio.Task[None] | None = None
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_UPDATES)
        self._answering: set[asyncio.Task[None]] = set()
        self._answered: AnsweredUpdates[str] = AnsweredUpdates()
        self._taken: TakenUpdates[tuple[str, str]] = TakenUpdates()  # (chat, message): answered once
        self._partly_sent: OrderedDict[tuple[str, str], int] = OrderedDict()

    # -- life cycle -------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Check the token, then register the webhook, or clear any webhook (getUpdates is refused while one
        is set) and start polling.

        Raises ChannelStartError, one line naming the setting or the address, when Zalo rejects the token or
        cannot be reached; the connections are closed first.
        """
        await self.client.open()
        try:
            me: dict[str, Any] = await self.client.call("getMe") or {}
            if self._webhook_url is not None:
                # Updates Zalo holds while the service was down come next; a restart loses none.
                await self.client.call(
                    "setWebhook",
                    {"url": f"{self._webhook_url}{WEBHOOK_PATH}", "secret_token": self._webhook_secret},
                )
            else:
                await self.client.call("deleteWebhook")
        except ZaloError as error:
            await self.client.close()
            raise ChannelStartError(start_failure(error, self._api_url)) from None
        except BaseException:
            await self.client.close()
            raise
        mode = "webhook" if self._webhook_url is not None else "polling"
        if self._webhook_url is None:
            self._polling = asyncio.create_task(self.poller.run(), name="zalo polling")
        log.info("zalo channel %s as %s", mode, me.get("account_name", "?"))

    async def stop(self) -> None:
        """Stop polling, finish the updates in hand and close the connection; safe to call twice."""
        if self._polling is not None:
            self._polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._polling
            self._polling = None
        if self._answering:
            await asyncio.gather(*self._answering, return_exceptions=True)
        await self.client.close()

    async def wait_processed(self, message_id: str, timeout: float = 10.0) -> None:
        """Wait until the update of this message has been fully answered (used by tests and the demo)."""
        await self._answered.wait_for(message_id, timeout)

    def invite_link(self, code: str) -> None:
        """None: Zalo has no links that open a bot with a code; the invited person types ``/start CODE``."""
        return None

    def webhook(self) -> Webhook | None:
        """The web server's route for Zalo's calls, in webhook mode."""
        if self._webhook_url is None or self._webhook_secret is None:
            return None
        return Webhook(WEBHOOK_PATH, WEBHOOK_SECRET_HEADER, self._webhook_secret, self.receive)

    async def receive(self, body: object) -> None:
        """Start answering one update Zalo posted; its handling goes on after this returns, in its chat's
        turn. Raises MalformedUpdate for a body that is not a Zalo update (the server answers 400); an event
        the bot does not take is skipped with a log line (200, so Zalo does not post it again)."""
        try:
            event = to_incoming(body)
        except UnknownEvent as error:
            log.warning("zalo webhook: skipped an update of an event the bot does not take: %s", error)
            return
        except Unreadable as error:
            raise MalformedUpdate(str(error)) from None
        if event is not None:
            await self._answer_later(event, message_id(body))

    # -- incoming -----------------------------------------------------------------------------------------

    async def _on_update(self, raw: object) -> None:
        """Start answering one polled update; waits while MAX_CONCURRENT_UPDATES are being answered."""
        try:
            event = to_incoming(raw)
        except Unreadable as error:
            # The event's name and what is wrong, never the content.
            log.warning(
                "zalo polling: skipped an update (%s) that cannot be read: %s", event_name(raw), error
            )
            return
        if event is not None:
            await self._answer_later(event, message_id(raw))

    async def _answer_later(self, event: Incoming, answered: str) -> None:
        """Start answering ``event``, unless its message was already taken; waits while
        MAX_CONCURRENT_UPDATES are being answered."""
        if not self._first_delivery(event.chat_id, answered):
            log.info("zalo: message %s of chat %s came again; answered once", answered, event.chat_id)
            return
        await self._slots.acquire()
        # Tasks start in the order updates came and take the chat's turn first, so one chat stays in order.
        task = asyncio.create_task(self._receive(event, answered))
        self._answering.add(task)
        task.add_done_callback(self._answering.discard)

    def _first_delivery(self, chat_id: str, message_id: str) -> bool:
        """Whether this message is new: Zalo's getUpdates has no offset and its webhook calls are retried, so
        one message may come twice (``TakenUpdates``)."""
        return not message_id or self._taken.first_time((chat_id, message_id))

    async def _receive(self, event: Incoming, answered: str) -> None:
        try:
            async with self._router.in_order(CHANNEL, event.chat_id):
                await self._answer_or_apologise(event)
        finally:
            self._slots.release()
            await self._answered.add(answered)

    async def _answer_or_apologise(self, event: Incoming) -> None:
        try:
            await self._answer(event)
        except ZaloError as error:  # Zalo refused or failed the reply: the apology may still get through
            log.warning("zalo: a reply to chat %s was not sent (%s); apologising", event.chat_id, error)
            await self._apologise(event)
        except Exception as error:
            log.error(
                "zalo: an update of chat %s failed (%s); the person got the apology",
                event.chat_id,
                type(error).__name__,
                exc_info=error,
            )
            await self._apologise(event)

    async def _answer(self, event: Incoming) -> None:
        handled = await self._router.handle(event, self)
        language = (handled.who.account.language if handled.who else None) or self._router.settings.language
        account_id = handled.who.account.id if handled.who else None
        for reply in handled.replies:
            sending = Sending(await self._calls(event.chat_id, reply, language, account_id))
            try:
                unanswered = await self._make(sending)
            except ZaloError as error:
                if classify(error).outcome is not Outcome.RETRY:
                    raise
                # Quota, a 5xx or no connection: nothing went out, and the update was handled; a person
                # waiting for the answer is worth one short wait and one more try from the part missing.
                log.warning(
                    "zalo: a reply to chat %s was not sent (%s); trying once more in %.0f s",
                    event.chat_id,
                    error,
                    QUOTA_PAUSE,
                )
                await asyncio.sleep(QUOTA_PAUSE)
                unanswered = await self._make(sending)
            if unanswered is not None:
                # The update was handled; the reply has most likely arrived: no apology, the next replies go.
                log.warning(
                    "zalo: a reply to chat %s may have arrived (%s); no apology", event.chat_id, unanswered
                )

    async def _apologise(self, event: Incoming) -> None:
        if not event.is_private:
            return
        language = await self._router.apology_language(CHANNEL, event.user_id)
        try:
            apology = text(language, "fallback.error")
            await self.client.call("sendMessage", {"chat_id": event.chat_id, "text": plain(apology)})
        except Exception as error:
            log.warning("zalo: could not apologise to chat %s (%s)", event.chat_id, type(error).__name__)

    # -- outgoing -----------------------------------------------------------------------------------------

    async def _calls(
        self, chat_id: str, message: Outgoing, language: str, account_id: int | None = None
    ) -> list[tuple[str, dict[str, Any]]]:
        """The API calls that show ``message`` as Zalo can, in order: plain text in parts of 2,000
        characters, a numbered menu, and a file as a link kept for ``account_id`` (a chart's photo after the
        text, a workbook's line in it)."""
        link = await self._link(message.file, account_id)
        if link is not None and message.file is not None and not message.file.is_photo:
            minutes = int(self._files.lifetime.total_seconds() // 60) if self._files else 0
            download = text(language, "insights.download", minutes=minutes, link=link)
            message = replace(message, text=f"{message.text}\n{download}")
        shown = render(message, self.capabilities, language)
        calls: list[tuple[str, dict[str, Any]]] = [
            ("sendMessage", {"chat_id": chat_id, "text": part}) for part in shown.parts
        ]
        if link is not None and message.file is not None and message.file.is_photo:
            calls.append(("sendPhoto", {"chat_id": chat_id, "photo": link}))
        return calls

    async def _make(self, sending: Sending) -> ZaloError | None:
        """Make the calls of ``sending`` not made yet, in order. Returns the error of one that may have
        reached Zalo but got no answer (those after it are made all the same), None when every one was
        answered; raises ZaloError for one refused or never sent (``sending.made``: the calls before it)."""
        unanswered: ZaloError | None = None
        for method, params in sending.calls[sending.made :]:
            try:
                await self._call_once_more_if_dropped(method, params)
            except (AnswerTimedOut, ConnectionDropped) as error:
                unanswered = unanswered or error
            sending.made += 1
        return unanswered

    async def _call_once_more_if_dropped(self, method: str, params: dict[str, Any]) -> None:
        """Call ``method``; a connection closed before the answer (often a kept-alive one Zalo had closed,
        the request never read) is tried once more."""
        try:
            await self.client.call(method, params)
        except ConnectionDropped:
            await self.client.call(method, params)

    async def _link(self, file: FileOut | None, account_id: int | None) -> str | None:
        """The signed link ``file`` goes as, when there is a file and somewhere to serve it from."""
        if file is None or self._files is None or account_id is None or not file.content:
            return None
        return await self._files.link_for(account_id, file)

    async def deliver(self, chat_id: str, message: Outgoing) -> Delivery:
        """Send one outbox message and classify the outcome for the outbox worker, as Telegram's does.

        A 429, a 5xx or a request that never reached Zalo is retried later; a blocked or unknown user is
        unreachable; a refused message failed. One answered too late may have been delivered: it is UNCERTAIN
        and never sent again (its other parts still go). A connection closed before the answer is tried once
        more, then UNCERTAIN too. A message in parts whose retry comes after some went out goes on from the
        first part missing, so none is shown twice.
        """
        key = (chat_id, message.text)
        calls = await self._calls(chat_id, message, self._router.settings.language)
        sending = Sending(calls, self._partly_sent.pop(key, 0))
        try:
            unanswered = await self._make(sending)
        except ZaloError as error:
            delivery = classify(error)
            if delivery.outcome is Outcome.RETRY and sending.made:
                keep_newest(self._partly_sent, key, sending.made, PARTLY_SENT)
            return delivery
        if message.buttons:  # a notice with choices: its menu is what the chat's next text answers
            await self._router.remember_menu(CHANNEL, chat_id, message.buttons)
        return Delivery(Outcome.SENT) if unanswered is None else classify(unanswered)
