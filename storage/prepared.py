"""The statements every update runs, compiled once and run on the driver's own connection.

On SQLite a hot statement of this bot takes 20–50 µs inside SQLite, and SQLAlchemy's execution around it
(building the execution context, processing parameters, wrapping the cursor in a result) about 100–150 µs
more (issue 13, docs/performance.md). A ``Prepared`` statement keeps SQLAlchemy's statement (built with bind
parameters, as before) and, for SQLite, the SQL it compiles to, the order of its parameters and the
converters of its parameters and columns, so ``fetch`` and ``run`` only convert values and call the
driver. On PostgreSQL the same goes to asyncpg's connection inside the transaction (which
storage/server_transaction.py begins there), a list (``column IN (...)``) as one array parameter
(``column = ANY($1::text[]::integer[])``). Otherwise, or while something listens to the engine's
statements (tests count them), they go through SQLAlchemy as any statement does; the rows and the errors
are the same.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import operators, visitors
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import BinaryExpression, BindParameter
from sqlalchemy.sql.selectable import Select
from sqlalchemy.types import TypeDecorator

from storage.loop_connection import Executor, LoopConnection, driver
from storage.server_transaction import READING, WriteNeeded, as_sqlalchemy_error

Converter = Callable[[Any], Any] | None
Row = tuple[Any, ...]
Statement = Select[Any] | UpdateBase


@dataclass(frozen=True)
class _Bind:
    name: str
    default: Any  # the statement's own value (a literal in it), used when the caller gives none
    convert: Converter
    expanding: bool  # a list for ``IN (...)``: one placeholder per item

    def given(self, parameters: Mapping[str, Any]) -> Any:
        """The caller's value (or the statement's own), as the driver takes it; a list item by item."""
        value = parameters.get(self.name, self.default)
        if self.convert is None:
            return list(value) if self.expanding else value
        return [self.convert(item) for item in value] if self.expanding else self.convert(value)


@dataclass(frozen=True)
class _Plan:
    pieces: tuple[str, ...]  # the SQL split around each expanding parameter's placeholder
    binds: tuple[_Bind, ...]
    columns: tuple[tuple[int, Callable[[Any], Any]], ...]  # the columns to convert, by position


class Prepared:
    """A statement with bind parameters, run on SQLite's cursor from SQL compiled once per dialect."""

    __slots__ = ("_plans", "statement")

    def __init__(self, statement: Statement) -> None:
        self.statement = statement
        self._plans: dict[type[Dialect], _Plan] = {}

    def plan(self, dialect: Dialect) -> _Plan:
        """The statement compiled for ``dialect``'s kind, the first time it is asked for (for asyncpg with
        each list as one array parameter: ``column = ANY($1::text[]::integer[])``)."""
        plan = self._plans.get(type(dialect))
        if plan is None:
            statement = _with_arrays(self.statement) if dialect.driver == "asyncpg" else self.statement
            plan = self._plans[type(dialect)] = _compile(statement, dialect)
        return plan


async def fetch(conn: Executor, prepared: Prepared, parameters: Mapping[str, Any]) -> list[Row]:
    """The rows of a prepared SELECT, as tuples in the statement's column order."""
    rows = await _on_driver(conn, prepared, parameters)
    if rows is not None:
        return rows
    result = await conn.execute(prepared.statement, dict(parameters))
    return [tuple(row) for row in result]


async def run(conn: Executor, prepared: Prepared, parameters: Mapping[str, Any]) -> None:
    """Run a prepared statement that returns no rows (an UPDATE, an INSERT)."""
    if await _on_driver(conn, prepared, parameters) is None:
        await conn.execute(prepared.statement, dict(parameters))


async def _on_driver(conn: Executor, prepared: Prepared, parameters: Mapping[str, Any]) -> list[Row] | None:
    # The rows from the driver's own connection, or None where the statement must go through SQLAlchemy.
    if isinstance(conn, LoopConnection):
        return None if _watched(conn.sync) else _run_on_cursor(conn.sync, prepared, parameters)
    asyncpg = _asyncpg_inside_transaction(conn, prepared)
    return None if asyncpg is None else await _run_on_asyncpg(asyncpg, conn.dialect, prepared, parameters)


def _watched(conn: Connection) -> bool:
    # Listeners of the engine's statements (the tests' statement counter, a tracer) see them only when they
    # go through SQLAlchemy.
    return bool(conn.dispatch.before_cursor_execute or conn.dispatch.after_cursor_execute)


def _asyncpg_inside_transaction(conn: AsyncConnection, prepared: Prepared) -> Any | None:
    # asyncpg's own connection, inside the transaction storage/server_transaction.py began on it, or lent
    # to read only outside one, where a write raises ``WriteNeeded`` before it is sent (as SQLAlchemy's
    # statements do there).
    sync = conn.sync_connection
    if sync is None or conn.dialect.driver != "asyncpg":
        return None
    reading = sync.info.get(READING, False)
    if reading and isinstance(prepared.statement, UpdateBase):
        raise WriteNeeded(type(prepared.statement).__name__)
    if _watched(sync):
        return None
    driver = sync.connection.driver_connection
    return driver if driver is not None and (reading or driver.is_in_transaction()) else None


async def _run_on_asyncpg(
    driver: Any, dialect: Dialect, prepared: Prepared, parameters: Mapping[str, Any]
) -> list[Row]:
    plan = prepared.plan(dialect)
    values = [bind.given(parameters) for bind in plan.binds]
    try:
        records = await driver.fetch(plan.pieces[0], *values)
    except Exception as error:
        raise as_sqlalchemy_error(plan.pieces[0], values, error) from error
    return _converted(plan, [tuple(record) for record in records])


def _run_on_cursor(conn: Connection, prepared: Prepared, parameters: Mapping[str, Any]) -> list[Row]:
    plan = prepared.plan(conn.dialect)
    values: list[Any] = []
    sql = plan.pieces[0]
    expanded = 1
    for bind in plan.binds:
        given = bind.given(parameters)
        if bind.expanding:
            values += given
            sql += ", ".join(["?"] * len(given)) + plan.pieces[expanded]
            expanded += 1
        else:
            values.append(given)
    try:
        rows = driver(conn).execute(sql, values).fetchall()
    except sqlite3.Error as error:  # wrapped as SQLAlchemy would, so callers see its errors either way
        raise DBAPIError.instance(sql, values, error, sqlite3.Error) from error
    return _converted(plan, rows)


def _converted(plan: _Plan, rows: list[Row]) -> list[Row]:
    if not plan.columns:
        return rows
    converted = []
    for row in rows:
        columns = list(row)
        for at, convert in plan.columns:
            columns[at] = convert(columns[at])
        converted.append(tuple(columns))
    return converted


class _Texts(TypeDecorator[list[Any]]):
    """A list as PostgreSQL's ``text[]``, each item as its text (numbers, text, dates: what the server reads
    back into the column's type). asyncpg knows ``text[]`` without asking the server, where an array of any
    other type costs each new connection a lookup of the type: a round trip and a query that took the server
    ~9 ms to plan."""

    impl = ARRAY(sa.Text())
    cache_ok = True

    def process_bind_param(self, value: list[Any] | None, dialect: Dialect) -> list[str] | None:
        """Each item as its text."""
        return None if value is None else [str(item) for item in value]


def _with_arrays(statement: Statement) -> Statement:
    # Each ``column IN (:list)`` as ``column = ANY(CAST(:list AS type[]))``, the list one ``text[]``
    # parameter: asyncpg takes it as it is, where SQLAlchemy would number a parameter per item at every run.
    def as_array(element: Any, **_: Any) -> Any:
        if (
            isinstance(element, BinaryExpression)
            and element.operator is operators.in_op
            and isinstance(element.right, BindParameter)
            and element.right.expanding
        ):
            texts = sa.bindparam(element.right.key, type_=_Texts())
            return element.left == sa.any_(sa.cast(texts, ARRAY(element.left.type)))
        return None

    return cast(Statement, visitors.replacement_traverse(cast(Any, statement), {}, as_array))


def _compile(statement: Statement, dialect: Dialect) -> _Plan:
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    assert compiled.positiontup is not None, "SQLite's and asyncpg's parameters are positional"
    sql = str(compiled)
    binds: list[_Bind] = []
    pieces: list[str] = []
    for name in compiled.positiontup:
        param = compiled.binds[name]
        convert = param.type.dialect_impl(dialect).bind_processor(dialect)
        if param.expanding:
            before, placeholder, sql = sql.partition(f"__[POSTCOMPILE_{name}]")
            assert placeholder, name
            pieces.append(before)
        binds.append(_Bind(name, param.value, convert, param.expanding))
    pieces.append(sql)
    columns: list[tuple[int, Callable[[Any], Any]]] = []
    if isinstance(statement, Select):
        for at, column in enumerate(statement.selected_columns):
            convert = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if convert is not None:
                columns.append((at, convert))
    return _Plan(tuple(pieces), tuple(binds), tuple(columns))
