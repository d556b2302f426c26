"""An aiohttp transport for python-telegram-bot, plugged in through its documented ``BaseRequest`` seam.

PTB's default httpx transport tops out near 350 requests/s on two cores (httpcore's pool); one shared
aiohttp session carries well over 1,000/s, which broadcasts need (DESIGN.md §4, §6).

Failures say whether the request may have reached Telegram: ``NotSent`` (refused, DNS, connect or pool
timeout) is safe to send again; ``MaybeSent`` (no answer in time, connection closed before the answer) may
already have been delivered, so the outbox does not blindly repeat it.
"""

from __future__ import annotations

import re

import aiohttp
import yarl
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput, UploadFileDict
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

__all__ = [
    "AiohttpRequest",
    "AnswerTimedOut",
    "ConnectTimedOut",
    "ConnectionDropped",
    "MaybeSent",
    "NotConnected",
    "NotSent",
]

FORM_URLENCODED = "application/x-www-form-urlencoded"
# httpx (PTB's default) writes multipart file names the HTML5 way: raw UTF-8, '"' and control characters
# percent-encoded. aiohttp's default percent-encodes every non-ASCII byte, and receivers that do not decode
# it (the sandbox, aiohttp's own server) then show "b%C3%A1o-c%C3%A1o.xlsx" instead of "báo-cáo.xlsx".
_HTML5_ESCAPES = {'"': "%22", **{chr(code): f"%{code:02X}" for code in range(0x20) if code != 0x1B}}
_HTML5_ESCAPE_RE = re.compile("|".join(re.escape(char) for char in _HTML5_ESCAPES))
_TOKEN_IN_URL_RE = re.compile(r"/bot[^/]+")


class NotSent(NetworkError):
    """The request never reached the server: sending it again cannot make a copy."""


class NotConnected(NotSent):
    """The connection could not be opened (refused, unreachable, name not resolved)."""


class ConnectTimedOut(TimedOut, NotSent):
    """Opening a connection, or waiting for a free pooled one, took longer than allowed."""


class MaybeSent(NetworkError):
    """The request was written but no answer came back: the server may have acted on it."""


class AnswerTimedOut(TimedOut, MaybeSent):
    """The answer did not come within the read timeout after the request was written."""


class ConnectionDropped(MaybeSent):
    """The server closed the connection (or it broke) before the whole answer arrived."""


def html5_filename(filename: str) -> str:
    """The file name as httpx puts it in Content-Disposition (aiohttp then escapes backslashes)."""
    return _HTML5_ESCAPE_RE.sub(lambda match: _HTML5_ESCAPES[match.group(0)], filename)


def form_encoded(parameters: dict[str, str]) -> bytes:
    """The parameters as an application/x-www-form-urlencoded body, as ``urllib.parse.urlencode`` writes
    it but through yarl's compiled quoter: for a list of a dozen campaigns in Vietnamese, 30 µs instead of
    230 (urlencode quotes byte by byte in Python)."""
    return yarl.URL.build(query=parameters).raw_query_string.encode()


def redact(text: str, url: str) -> str:
    """The text with the bot token in `url` masked, for error messages that may end up in logs."""
    return text.replace(url, _TOKEN_IN_URL_RE.sub("/bot<token>", url)) if url else text


def _pick(value: ODVInput[float], default: float | None) -> float | None:
    """A per-call timeout, or the instance default when the caller left it at DEFAULT_NONE."""
    return default if isinstance(value, DefaultValue) else value


def _add(*parts: float | None) -> float | None:
    """The sum of timeouts, or None (no limit) if any of them is unlimited."""
    if any(part is None for part in parts):
        return None
    return sum(part for part in parts if part is not None)


class AiohttpRequest(BaseRequest):
    """:class:`telegram.request.BaseRequest` on one shared :class:`aiohttp.ClientSession`.

    Timeouts mean what they mean for PTB's ``HTTPXRequest`` (seconds, ``None`` = no limit), mapped onto
    :class:`aiohttp.ClientTimeout`: ``connect`` → ``sock_connect``; ``pool + connect`` → ``connect`` (aiohttp
    counts waiting for a free connection and opening it together); ``read`` → ``sock_read`` (between two
    chunks of the answer, counted from the end of the upload). aiohttp has no per-write timeout, so a request
    with a body is also bounded as a whole by the sum of all four; body-less GETs (file downloads) are not.
    """

    __slots__ = (
        "_connect_timeout",
        "_connection_pool_size",
        "_media_write_timeout",
        "_pool_timeout",
        "_read_timeout",
        "_session",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._connection_pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout in seconds (PTB adds a long poll's own timeout to it)."""
        return self._read_timeout

    @property
    def http_version(self) -> str:
        """The HTTP version spoken: aiohttp's client speaks HTTP/1.1 only."""
        return "1.1"

    @property
    def connection_pool_size(self) -> int:
        """How many connections the shared session may open at once."""
        return self._connection_pool_size

    async def initialize(self) -> None:
        """Open the shared session; calling it again while open does nothing."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connection_pool_size),
                headers={"User-Agent": self.USER_AGENT},
                timeout=aiohttp.ClientTimeout(total=None),
            )

    async def shutdown(self) -> None:
        """Close the shared session; calling it again (or before initialize) does nothing."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def post_unread(self, url: str, request_data: RequestData) -> None:
        """``post`` a request whose answer nobody reads (a reply's sendMessage): the same errors as ``post``
        (a 429, 403 or 400 read from the answer), but a success's body is not parsed. For a list of twelve
        campaigns Telegram sends the whole message back, ~4 kB that took ~20 µs to parse (issue 13)."""
        await self._request_wrapper(url=url, method="POST", request_data=request_data)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request; return the HTTP status and the raw body (BaseRequest reads the JSON)."""
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized: call initialize() first")

        files = request_data.multipart_data if request_data else None
        body: aiohttp.FormData | bytes | None = None
        headers: dict[str, str] | None = None
        if files:
            body = self._multipart(request_data.json_parameters if request_data else {}, files)
        elif request_data and request_data.json_parameters:
            body = form_encoded(request_data.json_parameters)
            headers = {"Content-Type": FORM_URLENCODED}

        read = _pick(read_timeout, self._read_timeout)
        connect = _pick(connect_timeout, self._connect_timeout)
        pool = _pick(pool_timeout, self._pool_timeout)
        write = _pick(write_timeout, self._media_write_timeout if files else self._write_timeout)
        timeout = aiohttp.ClientTimeout(
            total=_add(pool, connect, write, read) if body is not None else None,
            connect=_add(pool, connect),
            sock_connect=connect,
            sock_read=read,
        )

        try:
            async with session.request(method, url, data=body, headers=headers, timeout=timeout) as response:
                return response.status, await response.read()
        except aiohttp.ConnectionTimeoutError as error:
            raise ConnectTimedOut(
                f"Timed out connecting to {redact(url, url)} (connect timeout {connect}s) or waiting for "
                f"one of the {self._connection_pool_size} pooled connections (pool timeout {pool}s); "
                "the request was not sent"
            ) from error
        except aiohttp.SocketTimeoutError as error:
            raise AnswerTimedOut(f"Timed out waiting {read}s for the answer to a {method} request") from error
        except TimeoutError as error:
            raise AnswerTimedOut(
                f"The {method} request did not finish within its overall budget of {timeout.total}s"
            ) from error
        except aiohttp.ClientConnectorError as error:
            raise NotConnected(redact(f"aiohttp.{type(error).__name__}: {error}", url)) from error
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as error:
            raise ConnectionDropped(redact(f"aiohttp.{type(error).__name__}: {error}", url)) from error
        except aiohttp.ClientError as error:
            raise NetworkError(redact(f"aiohttp.{type(error).__name__}: {error}", url)) from error

    @staticmethod
    def _multipart(fields: dict[str, str], files: UploadFileDict) -> aiohttp.FormData:
        """The multipart body PTB's HTTPXRequest sends: plain fields first, then each file part."""
        form = aiohttp.FormData(quote_fields=False)
        for name, value in fields.items():
            form.add_field(name, value)
        for name, (filename, content, mimetype) in files.items():
            form.add_field(name, content, filename=html5_filename(filename), content_type=mimetype)
        return form
