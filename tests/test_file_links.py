"""The signed file links without a server: what a token binds, files kept in the database for any instance,
gone once their time is up, and no address, no link."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.engine.clock import ManualClock
from bot.engine.events import FileOut
from bot.engine.files import LINK_LIFETIME, FileShelf, LinkExpired, LinkRefused, derive_key
from storage.database import Store
from storage.tables import shared_files
from tests.helpers.roster import NOW

BASE = "https://bot.example.vn"


def token_of(link: str) -> str:
    """The token at the end of a link."""
    return link.rsplit("/", 1)[1]


async def test_an_instance_sharing_the_secret_serves_anothers_link_and_others_do_not(store: Store) -> None:
    clock = ManualClock(NOW)
    first = FileShelf(clock, derive_key("shared-secret-1"), BASE, store)
    link = await first.link_for(5, FileOut("báo-cáo.xlsx", b"x"))
    other_instance = Store(store.url)  # its own connections to the same database
    same_key = FileShelf(clock, derive_key("shared-secret-1"), BASE, other_instance)
    kept = await same_key.open(token_of(link))
    assert (kept.name, kept.content, kept.account_id) == ("báo-cáo.xlsx", b"x", 5)
    other_key = FileShelf(clock, derive_key("another-secret"), BASE, other_instance)
    with pytest.raises(LinkRefused):
        await other_key.open(token_of(link))
    file_id = token_of(link).split(".")[0]
    with pytest.raises(LinkRefused):  # a genuine token, but for another account than the file's
        await same_key.open(same_key.sign(file_id, 6, NOW + LINK_LIFETIME))
    assert derive_key(None) != derive_key(None)  # no secret: a random key per process
    await other_instance.close()


async def test_a_file_is_gone_once_its_link_expires_and_is_deleted_with_the_next(store: Store) -> None:
    clock = ManualClock(NOW)
    shelf = FileShelf(clock, derive_key("s3cret-key"), BASE, store)
    old = await shelf.link_for(1, FileOut("old.xlsx", b"123456"))
    clock.advance(LINK_LIFETIME + timedelta(seconds=1))
    with pytest.raises(LinkExpired):
        await shelf.open(token_of(old))
    new = await shelf.link_for(1, FileOut("new.xlsx", b"abcdef"))
    assert (await shelf.open(token_of(new))).content == b"abcdef"
    async with store.begin() as repos:
        names = (await repos.conn.execute(sa.select(shared_files.c.name))).scalars().all()
    assert names == ["new.xlsx"]


async def test_without_a_public_address_there_is_no_link(store: Store) -> None:
    shelf = FileShelf(ManualClock(NOW), derive_key(None), None, store)
    assert not shelf.serves_links
    with pytest.raises(RuntimeError, match="THIDUA_WEBHOOK_URL"):
        await shelf.link_for(1, FileOut("a.xlsx", b"x"))
