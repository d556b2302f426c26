"""The signed file links without a server: what a token binds, the memory cap, and no address, no link."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.engine.clock import ManualClock
from bot.engine.events import FileOut
from bot.engine.files import FileShelf, LinkExpired, LinkRefused, derive_key
from tests.helpers.roster import NOW

BASE = "https://bot.example.vn"


def token_of(link: str) -> str:
    """The token at the end of a link."""
    return link.rsplit("/", 1)[1]


def test_instances_sharing_the_secret_accept_each_others_tokens_and_others_do_not() -> None:
    clock = ManualClock(NOW)
    first = FileShelf(clock, derive_key("shared-secret-1"), BASE)
    link = first.link_for(5, FileOut("a.xlsx", b"x"))
    file_id, account, _, _ = token_of(link).split(".")
    same_key = FileShelf(clock, derive_key("shared-secret-1"), BASE)
    assert same_key.sign(file_id, int(account), NOW + timedelta(minutes=15)) == token_of(link)
    other_key = FileShelf(clock, derive_key("another-secret"), BASE)
    with pytest.raises(LinkRefused):
        other_key.open(token_of(link))
    assert derive_key(None) != derive_key(None)  # no secret: a random key per process


def test_the_oldest_file_goes_first_past_the_cap_and_its_link_is_gone() -> None:
    shelf = FileShelf(ManualClock(NOW), derive_key("s3cret-key"), BASE, cap_bytes=10)
    old = shelf.link_for(1, FileOut("old.xlsx", b"123456"))
    new = shelf.link_for(1, FileOut("new.xlsx", b"abcdef"))
    with pytest.raises(LinkExpired):
        shelf.open(token_of(old))
    assert shelf.open(token_of(new)).content == b"abcdef"


def test_without_a_public_address_there_is_no_link() -> None:
    shelf = FileShelf(ManualClock(NOW), derive_key(None), None)
    assert not shelf.serves_links
    with pytest.raises(RuntimeError, match="THIDUA_WEBHOOK_URL"):
        shelf.link_for(1, FileOut("a.xlsx", b"x"))
