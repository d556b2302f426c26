"""Reads kept between transactions for as long as the database says they are current.

Nearly every update reads who is writing (an account with its member, unit and roles) and a member's
/campaigns reads the open campaigns of their unit's lineage; both change rarely. The database keeps a
generation number for each (table ``generations``), raised by triggers in the very transaction that changes
the rows behind it, whichever process writes (migration 0017). A read is kept with the generation it was made
under, and used again only while a read of the generation, in the update's own transaction and before the
kept value is used, finds the same number: one small indexed SELECT instead of a join and its records.

The generation is read afresh at each use, never remembered within a transaction: a transaction that
changes an identity and reads it again must not get the kept one. (SQLite's triggers raise the number at
once; PostgreSQL's at the commit, with a setting local to the transaction saying so until then.) One
exception: an update's first statement, before it writes, reads both generations with its dialog
(``DialogRepo.opening``), and the campaigns' is used from there until ``CampaignRepo``, the one writer of
campaigns, writes in that transaction.
Kept values are frozen records, bounded in number (least recently used first out), and touched only on the
event loop's thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from cachetools import LRUCache

from storage.loop_connection import Executor
from storage.prepared import Prepared, fetch
from storage.records import Campaign, Seen
from storage.tables import generations

T = TypeVar("T")

IDENTITIES_KEPT = 10_000  # accounts: about 1 kB each
CAMPAIGN_LISTS_KEPT = 1_000  # a unit lineage's open campaigns

# PostgreSQL raises the number at the commit; until then a setting local to the transaction says it changed.
_CHANGED_HERE = sa.func.current_setting(sa.literal("thidua.changed_") + generations.c.name, sa.true())


@dataclass(frozen=True, slots=True)
class Kept(Generic[T]):
    """A value and the generation it was read under."""

    generation: int
    value: T


@dataclass(frozen=True, slots=True)
class KeptIdentity:
    """An identity as read, and when its account was last marked seen."""

    seen: Seen
    last_seen_at: datetime | None  # None for an account never marked


class Memo:
    """This process's kept reads."""

    def __init__(self) -> None:
        self.identities: LRUCache[tuple[str, str], Kept[KeptIdentity]] = LRUCache(IDENTITIES_KEPT)
        self.open_campaigns: LRUCache[tuple[int, ...], Kept[tuple[Campaign, ...]]] = LRUCache(
            CAMPAIGN_LISTS_KEPT
        )


async def generation(conn: Executor, kind: str) -> int | None:
    """The current generation of ``kind`` ("identity" or "campaigns"), as this transaction sees it; None
    when this transaction changed it already (nothing kept may then be used, nor kept)."""
    statement = _GENERATION_PG if conn.dialect.name == "postgresql" else _GENERATION
    ((value, changed_here),) = await fetch(conn, statement, {"kind": kind})
    return read_generation(value, changed_here)


def generation_columns(postgresql: bool) -> tuple[sa.ColumnElement[Any], sa.ColumnElement[Any]]:
    """The columns of ``generations`` a statement reads a generation by (with ``read_generation``): its
    value and, on PostgreSQL, whether this transaction changed it (always NULL elsewhere)."""
    return generations.c.value, (_CHANGED_HERE if postgresql else sa.null())


def read_generation(value: int, changed_here: str | None) -> int | None:
    """A generation as read by ``generation_columns``: None when this transaction changed it."""
    return None if changed_here == "1" else int(value)


def _generation_of(postgresql: bool) -> Prepared:
    return Prepared(
        sa.select(*generation_columns(postgresql)).where(generations.c.name == sa.bindparam("kind"))
    )


_GENERATION, _GENERATION_PG = _generation_of(False), _generation_of(True)
