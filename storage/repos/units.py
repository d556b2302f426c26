"""The union tree: lookups by code, children, ancestors and a diacritics-free name search."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from storage.loop_connection import Executor
from storage.records import Unit
from storage.repos.counters import CounterRepo
from storage.tables import units

UNIT_COLUMNS = (units.c.id, units.c.code, units.c.name, units.c.parent_id, units.c.path, units.c.depth)


def _unit(row: sa.Row[int, str, str, int | None, str, int]) -> Unit:
    return Unit(*row)


class UnitRepo:
    """Reads and writes ``units``."""

    def __init__(self, conn: Executor) -> None:
        self.conn = conn

    async def get(self, unit_id: int) -> Unit | None:
        """The unit with this id, if any."""
        row = (await self.conn.execute(sa.select(*UNIT_COLUMNS).where(units.c.id == unit_id))).first()
        return _unit(row) if row else None

    async def by_code(self, code: str) -> Unit | None:
        """The unit with this code, if any."""
        row = (await self.conn.execute(sa.select(*UNIT_COLUMNS).where(units.c.code == code))).first()
        return _unit(row) if row else None

    async def by_codes(self, codes: Sequence[str]) -> dict[str, Unit]:
        """The units with any of these codes, by code."""
        if not codes:
            return {}
        rows = await self.conn.execute(sa.select(*UNIT_COLUMNS).where(units.c.code.in_(set(codes))))
        return {unit.code: unit for unit in map(_unit, rows)}

    async def many(self, unit_ids: Sequence[int]) -> list[Unit]:
        """The units with these ids, in path order (parents before children)."""
        if not unit_ids:
            return []
        rows = await self.conn.execute(
            sa.select(*UNIT_COLUMNS).where(units.c.id.in_(list(unit_ids))).order_by(units.c.path)
        )
        return [_unit(row) for row in rows]

    async def ancestors(self, unit: Unit) -> list[Unit]:
        """The unit's ancestors from the root down, the unit itself excluded."""
        return await self.many(unit.lineage[:-1])

    async def children(self, unit_id: int) -> list[Unit]:
        """The units directly below this one, by name."""
        rows = await self.conn.execute(
            sa.select(*UNIT_COLUMNS).where(units.c.parent_id == unit_id).order_by(units.c.name)
        )
        return [_unit(row) for row in rows]

    async def search(self, name_key_fragment: str, limit: int, within: Sequence[str] = ()) -> list[Unit]:
        """Units whose diacritics-free name contains every word of the search key, in any order (only inside
        the subtrees at the paths ``within``, if given); base unions first, then by name."""
        words = [word.replace("%", "").replace("_", "") for word in name_key_fragment.split()]
        conditions: list[sa.ColumnElement[bool]] = [
            units.c.name_key.like(f"%{word}%") for word in words if word
        ]
        if within:
            conditions.append(sa.or_(*(units.c.path.startswith(path) for path in within)))
        rows = await self.conn.execute(
            sa.select(*UNIT_COLUMNS)
            .where(sa.and_(sa.true(), *conditions))
            .order_by(units.c.depth.desc(), units.c.name)
            .limit(limit)
        )
        return [_unit(row) for row in rows]

    async def roots(self) -> list[Unit]:
        """The units at the top of the tree, in path order."""
        rows = await self.conn.execute(
            sa.select(*UNIT_COLUMNS).where(units.c.parent_id.is_(None)).order_by(units.c.path)
        )
        return [_unit(row) for row in rows]

    async def all(self) -> list[Unit]:
        """Every unit, in path order."""
        rows = await self.conn.execute(sa.select(*UNIT_COLUMNS).order_by(units.c.path))
        return [_unit(row) for row in rows]

    async def ids_by_code(self) -> dict[str, int]:
        """Every unit's id by code, for imports."""
        rows = await self.conn.execute(sa.select(units.c.code, units.c.id))
        return {code: unit_id for code, unit_id in rows}

    async def count(self) -> int:
        """How many units there are."""
        return int((await self.conn.execute(sa.select(sa.func.count()).select_from(units))).scalar_one())

    async def insert(self, code: str, name: str, name_key: str, parent_id: int | None, now: datetime) -> int:
        """Add a unit with a provisional path (set the real one with ``set_path``); returns its id."""
        result = await self.conn.execute(
            units.insert().values(
                code=code,
                name=name,
                name_key=name_key,
                parent_id=parent_id,
                path="/",
                depth=0,
                created_at=now,
                updated_at=now,
            )
        )
        assert result.inserted_primary_key is not None
        return int(result.inserted_primary_key[0])

    async def update(
        self, unit_id: int, name: str, name_key: str, parent_id: int | None, now: datetime
    ) -> None:
        """Rename or move a unit (set its path again with ``set_path``)."""
        await self.conn.execute(
            units.update()
            .where(units.c.id == unit_id)
            .values(name=name, name_key=name_key, parent_id=parent_id, updated_at=now)
        )

    async def set_path(self, unit_id: int, path: str, depth: int) -> None:
        """Store a unit's materialised path and depth."""
        await self.conn.execute(units.update().where(units.c.id == unit_id).values(path=path, depth=depth))
        await CounterRepo(self.conn).units_moved([unit_id])

    async def insert_many(self, rows: Sequence[tuple[str, str, str]], now: datetime) -> None:
        """Add units given as (code, name, name_key) in one statement, at the root with a provisional path.

        Place them with ``update_many`` and ``set_paths``.
        """
        if not rows:
            return
        await self.conn.execute(
            units.insert(),
            [
                {
                    "code": code,
                    "name": name,
                    "name_key": name_key,
                    "parent_id": None,
                    "path": "/",
                    "depth": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for code, name, name_key in rows
            ],
        )

    async def update_many(self, rows: Sequence[tuple[int, str, str, int | None]], now: datetime) -> None:
        """Rename or move units given as (id, name, name_key, parent_id), at once; then call ``set_paths``."""
        if not rows:
            return
        statement = (
            units.update()
            .where(units.c.id == sa.bindparam("b_id"))
            .values(
                name=sa.bindparam("b_name"),
                name_key=sa.bindparam("b_name_key"),
                parent_id=sa.bindparam("b_parent_id"),
                updated_at=now,
            )
        )
        await self.conn.execute(
            statement,
            [
                {"b_id": unit_id, "b_name": name, "b_name_key": name_key, "b_parent_id": parent_id}
                for unit_id, name, name_key, parent_id in rows
            ],
        )

    async def set_paths(self, rows: Sequence[tuple[int, str, int]]) -> None:
        """Store the materialised paths and depths of units given as (id, path, depth), at once."""
        if not rows:
            return
        statement = (
            units.update()
            .where(units.c.id == sa.bindparam("b_id"))
            .values(path=sa.bindparam("b_path"), depth=sa.bindparam("b_depth"))
        )
        await self.conn.execute(
            statement, [{"b_id": unit_id, "b_path": path, "b_depth": depth} for unit_id, path, depth in rows]
        )
        await CounterRepo(self.conn).units_moved([unit_id for unit_id, _, _ in rows])
