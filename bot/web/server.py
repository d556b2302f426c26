"""One aiohttp.web application for running as a service, started by the Runtime when THIDUA_WEBHOOK_URL is
set, listening on THIDUA_LISTEN behind a reverse proxy:

- ``POST`` each webhook route a channel hands in (``/telegram/webhook``, ``/zalo/webhook``): the secret
  header is compared in constant time (missing or wrong: 403, nothing handled); a body that is not JSON or not
  an update: 400, one log line; otherwise 200 at once, the update handled after the answer in its chat's turn.
- ``GET /healthz``: JSON ``{database, outbox_pending, leases}``, 200 while the database answers, else 503
  (also once a SQLite file is deleted or replaced under the running bot).
- ``GET /metrics``: the Runtime's Prometheus registry, the outbox depth read at the scrape.
- ``GET /files/<token>``: a signed download link (``bot.engine.files``): 200, 403 forged or another
  account's, 410 expired.
"""

from __future__ import annotations

import asyncio
import errno
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import quote

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.engine.channel import MalformedUpdate, Webhook
from bot.engine.clock import Clock
from bot.engine.files import FileShelf, LinkExpired, LinkRefused
from bot.engine.metrics import Metrics
from storage.database import Store

log = logging.getLogger(__name__)

HEALTH_TIMEOUT = 5.0  # seconds the database gets to answer a health check before it counts as down
MAX_BODY_BYTES = 1024 * 1024  # an update is a few kB; Telegram's largest are far below this

Route = Callable[[web.Request], Awaitable[web.StreamResponse]]
BIND_REASONS = {
    errno.EADDRINUSE: "address in use",
    errno.EACCES: "permission denied",
    errno.EADDRNOTAVAIL: "no such address on this machine",
}


class CannotListen(Exception):
    """THIDUA_LISTEN cannot be bound; the message is one line naming the setting and the address."""


class WebServer:
    """The routes above on one listening socket; ``start`` binds it, ``stop`` closes it."""

    def __init__(
        self,
        listen: str,
        webhooks: Sequence[Webhook],
        store: Store,
        metrics: Metrics,
        files: FileShelf,
        clock: Clock,
    ) -> None:
        host, _, port = listen.rpartition(":")
        self._host, self._port = host.strip("[]"), int(port)
        self._store = store
        self._metrics = metrics
        self._files = files
        self._clock = clock
        self.app = web.Application(client_max_size=MAX_BODY_BYTES)
        for hook in webhooks:
            self.app.router.add_post(hook.path, self._webhook_route(hook))
        self.app.router.add_get("/healthz", self._healthz)
        self.app.router.add_get("/metrics", self._scrape)
        self.app.router.add_get("/files/{token}", self._download)
        self._runner: web.AppRunner | None = None
        self.port = 0  # the bound port once started (THIDUA_LISTEN may ask for any free one, port 0)

    async def start(self) -> None:
        """Bind THIDUA_LISTEN and serve; raises CannotListen when the address cannot be bound."""
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        try:
            await site.start()
        except OSError as error:
            reason = BIND_REASONS.get(error.errno or 0, error.strerror or type(error).__name__)
            address = f"{self._host}:{self._port}"
            raise CannotListen(f"cannot listen on THIDUA_LISTEN {address}: {reason}") from None
        sockets = self._runner.addresses
        self.port = int(sockets[0][1]) if sockets else self._port
        log.info("web server listening on %s:%d", self._host, self.port)

    async def stop(self) -> None:
        """Stop taking requests and close the socket."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- webhooks -----------------------------------------------------------------------------------------

    def _webhook_route(self, hook: Webhook) -> Route:
        expected = hook.secret.encode()

        async def receive(request: web.Request) -> web.StreamResponse:
            given = request.headers.get(hook.secret_header, "").encode()
            if not hmac.compare_digest(given, expected):
                log.warning("webhook %s: a request with a missing or wrong secret; refused (403)", hook.path)
                return web.Response(status=403)
            body = await request.read()
            try:
                update = json.loads(body)
                await hook.receive(update)
            except (ValueError, MalformedUpdate) as error:  # JSON's decode errors are ValueErrors too
                log.warning(
                    "webhook %s: a body of %d bytes that is not an update (%s); answered 400",
                    hook.path,
                    len(body),
                    type(error).__name__,
                )
                return web.Response(status=400)
            return web.Response(status=200)

        return receive

    # -- operations -----------------------------------------------------------------------------------------

    async def _healthz(self, request: web.Request) -> web.StreamResponse:
        if self._store.file_lost():
            # It still answers, from the file it opened; what it writes now is lost when the bot stops.
            log.error("healthz: the database file was deleted or replaced while the bot runs; restart it")
            return web.json_response({"database": "error"}, status=503)
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT), self._store.begin(deferred=True) as repos:
                pending = await repos.outbox.pending_count()
                leases = await repos.leases.holders(self._clock.now())
        except Exception as error:
            log.warning("healthz: the database does not answer (%s)", type(error).__name__)
            return web.json_response({"database": "error"}, status=503)
        return web.json_response({"database": "ok", "outbox_pending": pending, "leases": leases})

    async def _scrape(self, request: web.Request) -> web.StreamResponse:
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT), self._store.begin(deferred=True) as repos:
                self._metrics.outbox_depth.set(await repos.outbox.pending_count())
        except Exception as error:  # the other figures are still worth the scrape
            log.warning("metrics: could not read the outbox depth (%s)", type(error).__name__)
        return web.Response(
            body=generate_latest(self._metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def _download(self, request: web.Request) -> web.StreamResponse:
        try:
            kept = await self._files.open(request.match_info["token"])
        except LinkExpired:
            return web.Response(status=410)
        except (LinkRefused, ValueError):  # ValueError: a token that is not even of the right shape
            return web.Response(status=403)
        return file_response(kept.content, kept.mime_type, kept.name)


def file_response(content: bytes, mime_type: str, name: str, *, inline: bool = False) -> web.Response:
    """A file for the browser: shown in the page where ``inline``, else downloaded under its own name
    (RFC 5987, so Vietnamese names survive); never cached."""
    disposition = "inline" if inline else "attachment"
    return web.Response(
        body=content,
        headers={
            "Content-Type": mime_type,
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name)}",
            "Cache-Control": "no-store",
        },
    )
