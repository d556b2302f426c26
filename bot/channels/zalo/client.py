"""An async client of the Zalo Bot Platform API on one aiohttp session: ``POST {root}/bot{token}/{method}``
with a JSON body, answers ``{ok, result, error_code, description}``.

No Zalo SDK: the API is a handful of methods and the published ones are young. The token is only ever part
of the URL path, and no exception raised here carries the URL or chains an aiohttp error that does, so it
cannot reach a log. Failures say whether the request may have reached Zalo, as the Telegram transport's do:
``NotSent`` is safe to send again; ``AnswerTimedOut`` and ``ConnectionDropped`` may have been delivered.
"""

from __future__ import annotations

import json
import socket
import ssl
from typing import Any

import aiohttp

IDLE = 408  # getUpdates found nothing to hand out before its timeout: not an error


class ZaloError(Exception):
    """Any failure of a Zalo API call: the method and a reason that never holds the token."""

    def __init__(self, method: str, reason: str) -> None:
        super().__init__(f"{method}: {reason}")
        self.method = method
        self.reason = reason


class ZaloApiError(ZaloError):
    """Zalo answered, and refused: its error_code (or the HTTP status when the body is not Zalo's) and why."""

    def __init__(self, method: str, error_code: int, description: str) -> None:
        super().__init__(method, f"{error_code} {description}")
        self.error_code = error_code
        self.description = description


class NotSent(ZaloError):
    """The request never reached Zalo (refused, unknown host, no connection in time): safe to send again."""


class AnswerTimedOut(ZaloError):
    """The request was written but no answer came in time: Zalo may have acted on it."""


class ConnectionDropped(ZaloError):
    """The connection closed before the whole answer arrived: Zalo may have acted on it."""


def _unreachable_reason(error: aiohttp.ClientConnectorError) -> str:
    """What went wrong opening a connection, in a few words."""
    if isinstance(error, aiohttp.ClientConnectorDNSError) or isinstance(error.os_error, socket.gaierror):
        return "unknown host"
    if isinstance(error, aiohttp.ClientConnectorCertificateError) or isinstance(error.os_error, ssl.SSLError):
        return "TLS handshake failed"
    if isinstance(error.os_error, ConnectionRefusedError):
        return "connection refused"
    return f"cannot connect ({type(error.os_error).__name__})"


class ZaloClient:
    """Calls the Zalo Bot API; open with ``open()`` inside the event loop, close with ``close()``."""

    def __init__(
        self, token: str, api_url: str, *, read_timeout: float = 30.0, connect_timeout: float = 10.0
    ) -> None:
        self._base = f"{api_url.rstrip('/')}/bot{token}/"
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        """Open the shared session; calling it again while open does nothing."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))

    async def close(self) -> None:
        """Close the shared session; safe to call twice."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def call(self, method: str, params: dict[str, Any] | None = None, *, wait: float = 0.0) -> Any:
        """Call ``method`` and return its ``result``; ``wait`` is extra time the answer may take (a poll).

        Raises ZaloApiError for a refusal, NotSent, AnswerTimedOut or ConnectionDropped for the network.
        """
        if self._session is None or self._session.closed:
            raise RuntimeError("the Zalo client is not open: call open() first")
        timeout = aiohttp.ClientTimeout(
            total=None, connect=self._connect_timeout, sock_read=self._read_timeout + wait
        )
        try:
            async with self._session.post(
                self._base + method, json=params or {}, timeout=timeout
            ) as response:
                status, body = response.status, await response.read()
        # from None throughout: aiohttp's errors name the URL, and with it the token.
        except aiohttp.ConnectionTimeoutError:
            raise NotSent(method, f"no connection within {self._connect_timeout:.0f} s") from None
        except TimeoutError:
            raise AnswerTimedOut(method, f"no answer within {self._read_timeout + wait:.0f} s") from None
        except aiohttp.ClientConnectorError as error:
            raise NotSent(method, _unreachable_reason(error)) from None
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as error:
            raise ConnectionDropped(method, f"connection closed ({type(error).__name__})") from None
        except aiohttp.ClientError as error:
            raise ConnectionDropped(method, type(error).__name__) from None
        return _result(method, status, body)


def _result(method: str, status: int, body: bytes) -> Any:
    """The ``result`` of an answer, or ZaloApiError with Zalo's code and description."""
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or "ok" not in answer:
        # A gateway's page or an empty body: the HTTP status is all there is to go on.
        raise ZaloApiError(method, status if status >= 400 else 502, f"HTTP {status} without a Zalo answer")
    if answer["ok"] is True:
        return answer.get("result")
    code = answer.get("error_code")
    description = answer.get("description")
    raise ZaloApiError(
        method,
        code if isinstance(code, int) else status,
        str(description) if description is not None else "no description",
    )
