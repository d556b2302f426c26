"""Short-lived signed download links for generated files, for a channel that cannot send files (Zalo
sends a chart as a photo URL, an export or a code sheet as a link): ``FileShelf.link_for`` keeps the file
and returns ``{THIDUA_WEBHOOK_URL}/files/<token>``, which the web server answers while the link is valid.

A token names the kept file, the account it was made for and when it expires, signed with HMAC-SHA256 under
a key derived from THIDUA_FILE_SECRET (else THIDUA_WEBHOOK_SECRET, else a random key that lives as long as
the process). Files are kept in the database (``shared_files``) until their link expires, never in a folder:
every instance behind the service's address serves every link (they share the secret), and the files whose
time is up are deleted when the next is kept.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.engine.clock import Clock
from bot.engine.events import FileOut
from storage.database import Store

LINK_LIFETIME = timedelta(minutes=15)
SIGNATURE_BYTES = 16  # of HMAC-SHA256: 128 bits cannot be guessed
MIME_TYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".png": "image/png",
    ".csv": "text/csv; charset=utf-8",
}


class LinkRefused(Exception):
    """The link is forged, altered or made for another account's file (403)."""


class LinkExpired(Exception):
    """The link was genuine but its time is up, or its file is no longer kept (410)."""


@dataclass(frozen=True, slots=True)
class SharedFile:
    """A kept file and the account it was made for."""

    name: str
    content: bytes
    account_id: int

    @property
    def mime_type(self) -> str:
        """The content type its name implies."""
        suffix = self.name[self.name.rfind(".") :].lower() if "." in self.name else ""
        return MIME_TYPES.get(suffix, "application/octet-stream")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def derive_key(secret: str | None) -> bytes:
    """The signing key: derived from a configured secret (so every instance agrees), else random."""
    if not secret:
        return secrets.token_bytes(32)
    return hashlib.sha256(b"thidua file links\0" + secret.encode()).digest()


class FileShelf:
    """Keeps generated files for a while and signs and checks the links to them."""

    def __init__(
        self,
        clock: Clock,
        key: bytes,
        base_url: str | None,
        store: Store,
        *,
        lifetime: timedelta = LINK_LIFETIME,
    ) -> None:
        self._clock = clock
        self._key = key
        self._base_url = base_url
        self._store = store
        self._lifetime = lifetime

    @property
    def lifetime(self) -> timedelta:
        """How long a link works after it is made."""
        return self._lifetime

    @property
    def serves_links(self) -> bool:
        """True when the service has a public address (THIDUA_WEBHOOK_URL) the links can point at."""
        return self._base_url is not None

    async def link_for(self, account_id: int, file: FileOut) -> str:
        """Keep ``file`` for ``account_id`` and return the link that downloads it until it expires.

        Raises RuntimeError when the service has no public address to put in a link.
        """
        if self._base_url is None:
            raise RuntimeError("file links need THIDUA_WEBHOOK_URL, the service's public address")
        file_id = secrets.token_urlsafe(12)
        now = self._clock.now()
        expires = now + self._lifetime
        async with self._store.begin() as repos:
            await repos.files.keep(file_id, account_id, file.name, file.content, expires, now)
        return f"{self._base_url}/files/{self.sign(file_id, account_id, expires)}"

    def sign(self, file_id: str, account_id: int, expires: datetime) -> str:
        """The token for one kept file, one account and an expiry."""
        payload = f"{file_id}.{account_id}.{int(expires.timestamp())}"
        return f"{payload}.{self._signature(payload)}"

    async def open(self, token: str) -> SharedFile:
        """The file a token names, when the token is genuine, in time and for that file's account."""
        payload, _, signature = token.rpartition(".")
        if not hmac.compare_digest(signature.encode(), self._signature(payload).encode()):
            raise LinkRefused("bad signature")
        file_id, account, expires = payload.split(".")
        if self._clock.now() >= datetime.fromtimestamp(int(expires), UTC):
            raise LinkExpired("expired")
        async with self._store.begin(deferred=True) as repos:  # a read: no write lock
            kept = await repos.files.get(file_id, self._clock.now())
        if kept is None:
            raise LinkExpired("no longer kept")
        if kept[2] != int(account):
            raise LinkRefused("made for another account")
        return SharedFile(*kept)

    def _signature(self, payload: str) -> str:
        return _b64(hmac.digest(self._key, payload.encode(), "sha256")[:SIGNATURE_BYTES])
