"""The figures behind /stats, /report and the XLSX export, for one campaign and one subtree of units.

Every figure is counted in the database, scoped by the subtree's path prefix, in one query per method, so a
province of 100,000 members is never loaded into Python. The members' figures add up the per-unit counters
(storage/repos/counters.py): one row per unit in view, whatever the number of members. The export's rows
(``ExportRows``) go from the cursor to whoever writes them, a batch at a time, never all held.
bench/stats.py times them on a province.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.util.typing import TupleAny

from storage.loop_connection import Executor
from storage.records import (
    CommendationRow,
    DeliveryRow,
    InitiativeRow,
    RegistrationRow,
    ReviewStep,
    TitleHolderRow,
    path_ids,
)
from storage.repos.commendations import commendation_rows
from storage.repos.counters import subtree, subtree_sum, sums_by_child
from storage.tables import (
    broadcasts,
    channel_accounts,
    initiative_coauthors,
    initiative_history,
    initiatives,
    members,
    outbox,
    registration_counts,
    registrations,
    submission_hours,
    title_results,
    unit_counts,
    units,
)

T = TypeVar("T")

_REGISTRATION_STATUSES = ("active", "withdrawn")
# Rows fetched from the cursor at a time (PostgreSQL: a server-side cursor's batch), and the initiatives whose
# co-authors and history are read together: a few MB of rows in hand at most.
EXPORT_BATCH = 1_000
_registrant = members.alias("registrant")


def _subtree(path: str) -> sa.Select[Any]:
    """Ids of the units in the subtree with this path: an IN list the planner walks unit by unit, so a
    small subtree costs little whatever the size of the whole tree."""
    return sa.select(units.c.id).where(units.c.path.startswith(path))


def _linked() -> sa.ColumnElement[bool]:
    # An IN probe into channel_accounts' member_id index: cheaper per member than a correlated EXISTS.
    return members.c.id.in_(sa.select(channel_accounts.c.member_id))


def _registrants(campaign_id: int, subtree: sa.Select[Any]) -> sa.Select[Any]:
    """Members of the subtree with an active registration for the campaign, walked from the campaign's
    registrations (one covering index range) rather than probed member by member."""
    return (
        sa.select()
        .select_from(registrations)
        .join(_registrant, _registrant.c.id == registrations.c.member_id)
        .where(
            registrations.c.campaign_id == campaign_id,
            registrations.c.status == "active",
            _registrant.c.unit_id.in_(subtree),
        )
    )


class StatsRepo:
    """Read-only counts and export rows over members, registrations, initiatives and broadcasts."""

    def __init__(self, conn: Executor) -> None:
        self.conn = conn

    async def member_counts(self, campaign_id: int, path: str) -> tuple[int, int, int]:
        """(roster, linked, registered) in the subtree: linked members have at least one chat account,
        registered ones an active registration for the campaign. Added up from the per-unit counters."""
        registered = registration_counts.c.registered
        in_campaign = registration_counts.c.campaign_id == campaign_id
        query = sa.select(
            sa.func.coalesce(sa.func.sum(unit_counts.c.roster), 0),
            sa.func.coalesce(sa.func.sum(unit_counts.c.linked), 0),
            subtree_sum(registration_counts, registered, path, in_campaign),
        ).where(unit_counts.c.unit_id.in_(subtree(path)))
        roster, linked, registered = (await self.conn.execute(query)).one()
        return int(roster), int(linked), int(registered)

    async def member_counts_of(
        self, campaign_ids: Sequence[int], path: str
    ) -> dict[int, tuple[int, int, int]]:
        """``member_counts`` in one subtree for several campaigns at once, by campaign id: two statements
        whatever their number (a list of campaigns reads no query per line)."""
        if not campaign_ids:
            return {}
        people = sa.select(
            sa.func.coalesce(sa.func.sum(unit_counts.c.roster), 0),
            sa.func.coalesce(sa.func.sum(unit_counts.c.linked), 0),
        ).where(unit_counts.c.unit_id.in_(subtree(path)))
        roster, linked = (await self.conn.execute(people)).one()
        by_campaign = (
            sa.select(registration_counts.c.campaign_id, sa.func.sum(registration_counts.c.registered))
            .where(
                registration_counts.c.campaign_id.in_(list(campaign_ids)),
                registration_counts.c.unit_id.in_(subtree(path)),
            )
            .group_by(registration_counts.c.campaign_id)
        )
        registered = {campaign: int(total or 0) for campaign, total in await self.conn.execute(by_campaign)}
        return {
            campaign: (int(roster), int(linked), registered.get(campaign, 0)) for campaign in campaign_ids
        }

    async def member_counts_by_child(
        self, campaign_id: int, parent_id: int
    ) -> dict[int, tuple[int, int, int]]:
        """``member_counts`` for the whole subtree of every unit directly below ``parent_id``, by child id,
        from the counters of each unit in view."""
        per_unit = sa.select(
            units.c.path, unit_counts.c.roster, unit_counts.c.linked, registration_counts.c.registered
        ).select_from(
            units.outerjoin(unit_counts, unit_counts.c.unit_id == units.c.id).outerjoin(
                registration_counts,
                sa.and_(
                    registration_counts.c.unit_id == units.c.id,
                    registration_counts.c.campaign_id == campaign_id,
                ),
            )
        )
        found = await sums_by_child(self.conn, parent_id, per_unit)
        return {child: (roster, linked, registered) for child, (roster, linked, registered) in found.items()}

    async def daily_submissions(self, campaign_id: int, path: str, utc_offset_hours: int) -> dict[date, int]:
        """Submitted initiatives of the campaign in the subtree, by the local day (UTC + offset) they came:
        the subtree's top unit's hourly counters (at most 24 rows a day), added up by local day."""
        query = sa.select(submission_hours.c.hour_utc, submission_hours.c.n).where(
            submission_hours.c.campaign_id == campaign_id,
            submission_hours.c.unit_id == path_ids(path)[-1],
            submission_hours.c.n != 0,
        )
        shift = timedelta(hours=int(utc_offset_hours))
        days: Counter[date] = Counter()
        for hour, count in await self.conn.execute(query):
            days[(hour + shift).date()] += count
        return dict(days)

    async def export_rows(self, use: Callable[[ExportRows], T]) -> T:
        """``use(rows)``: ``use`` runs synchronously with the export's row readers, which fetch their rows
        from the cursor as ``use`` iterates them (on the async engine inside ``AsyncConnection.run_sync``,
        where a driver that awaits can fetch on demand); a row is never held longer than ``use`` keeps it."""
        return await self.conn.run_sync(lambda conn: use(ExportRows(conn)))


class ExportRows:
    """The export's rows on a synchronous connection, each reader a one-pass iterator over its cursor:
    ``yield_per`` makes PostgreSQL's asyncpg read through a server-side cursor, a batch at a time, and
    SQLite's cursor fetches a batch at a time anyway; nothing is read before it is asked for."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _rows(self, query: sa.Select[*TupleAny]) -> Iterator[sa.Row[*TupleAny]]:
        yield from self.conn.execute(query.execution_options(yield_per=EXPORT_BATCH))

    def registrations(
        self, campaign_id: int, path: str, phone_paths: Sequence[str]
    ) -> Iterator[RegistrationRow]:
        """Active and withdrawn registrations of the subtree's members and units, by unit path then name;
        a member's phone only where their unit lies inside one of ``phone_paths``."""
        holder_unit = sa.func.coalesce(registrations.c.unit_id, members.c.unit_id)
        query = (
            sa.select(
                units.c.name,
                units.c.path,
                members.c.code,
                members.c.full_name,
                members.c.phone,
                registrations.c.titles,
                registrations.c.pledges,
                registrations.c.initiative_title,
                registrations.c.status,
                registrations.c.updated_at,
            )
            .select_from(registrations)
            .outerjoin(members, members.c.id == registrations.c.member_id)
            .join(units, units.c.id == holder_unit)
            .where(
                registrations.c.campaign_id == campaign_id,
                registrations.c.status.in_(_REGISTRATION_STATUSES),
                units.c.path.startswith(path),
            )
            .order_by(units.c.path, sa.func.coalesce(members.c.full_name, ""), registrations.c.id)
        )
        covered = tuple(phone_paths)  # str.startswith tries each
        for (
            unit_name,
            unit_path,
            code,
            full_name,
            phone,
            titles,
            pledges,
            initiative_title,
            status,
            updated_at,
        ) in self._rows(query):
            yield RegistrationRow(
                unit_name=unit_name,
                member_code=code,
                full_name=full_name,
                phone=phone if phone is not None and unit_path.startswith(covered) else None,
                titles=list(titles),
                pledges=[(p["content"], p["unit"], p["figure"]) for p in pledges],
                initiative_title=initiative_title,
                status=status,
                updated_at=updated_at,
            )

    def initiatives(
        self, campaign_id: int, path: str, status: str | None = None, with_history: bool = True
    ) -> Iterator[InitiativeRow]:
        """The campaign's initiatives from the subtree in the order they were submitted, drafts left out
        (only those in ``status`` when given). Co-authors and history are read per batch of initiatives
        as the batch comes from the cursor, two queries a batch, so none is gathered for all at once;
        without ``with_history`` each row's history is left empty and not read (a written report)."""
        exported = sa.and_(
            initiatives.c.campaign_id == campaign_id,
            initiatives.c.status != "draft" if status is None else initiatives.c.status == status,
            initiatives.c.unit_id.in_(_subtree(path)),
        )
        query = (
            sa.select(
                initiatives.c.id,
                units.c.name,
                members.c.code,
                members.c.full_name,
                initiatives.c.author_share,
                initiatives.c.title,
                initiatives.c.field,
                initiatives.c.problem,
                initiatives.c.before,
                initiatives.c.steps,
                initiatives.c.improvement,
                initiatives.c.first_applied_on,
                initiatives.c.conditions,
                initiatives.c.benefit,
                initiatives.c.value_dong,
                initiatives.c.status,
                initiatives.c.scores,
                initiatives.c.submitted_at,
            )
            .join(units, units.c.id == initiatives.c.unit_id)
            .join(members, members.c.id == initiatives.c.author_member_id)
            .where(exported)
            .order_by(initiatives.c.submitted_at.asc().nulls_last(), initiatives.c.id)
        )
        for batch in self.conn.execute(query.execution_options(yield_per=EXPORT_BATCH)).partitions():
            ids = [row[0] for row in batch]
            coauthors = self._coauthors(ids)
            history = self._history(ids) if with_history else {}
            for (
                initiative_id,
                unit_name,
                author_code,
                author_name,
                author_share,
                title,
                field,
                problem,
                before,
                steps,
                improvement,
                first_applied_on,
                conditions,
                benefit,
                value_dong,
                status,
                scores,
                submitted_at,
            ) in batch:
                yield InitiativeRow(
                    id=initiative_id,
                    unit_name=unit_name,
                    author_code=author_code,
                    author_name=author_name,
                    author_share=author_share,
                    coauthors=coauthors.get(initiative_id, []),
                    title=title,
                    field=field,
                    problem=problem,
                    before=before,
                    steps=steps,
                    improvement=improvement,
                    first_applied_on=first_applied_on,
                    conditions=conditions,
                    benefit=benefit,
                    value_dong=value_dong,
                    status=status,
                    scores=dict(scores),
                    submitted_at=submitted_at,
                    history=history.get(initiative_id, []),
                )

    def _coauthors(self, ids: list[int]) -> dict[int, list[tuple[str, int]]]:
        found: dict[int, list[tuple[str, int]]] = {}
        query = (
            sa.select(
                initiative_coauthors.c.initiative_id,
                initiative_coauthors.c.name,
                initiative_coauthors.c.share,
            )
            .where(initiative_coauthors.c.initiative_id.in_(ids))
            .order_by(initiative_coauthors.c.initiative_id, initiative_coauthors.c.position)
        )
        for initiative_id, name, share in self.conn.execute(query):
            found.setdefault(initiative_id, []).append((name, share))
        return found

    def _history(self, ids: list[int]) -> dict[int, list[ReviewStep]]:
        """The review steps of these initiatives, by initiative, oldest first, without the status each left;
        the scores' JSON read only for a "scored" step (the others hold none)."""
        history = initiative_history.c
        scores = sa.case((history.event == "scored", history.scores), else_=sa.null()).label("scores")
        query = (
            sa.select(
                history.initiative_id,
                history.at,
                history.actor,
                history.event,
                history.to_status,
                history.note,
                scores,
            )
            .where(history.initiative_id.in_(ids))
            .order_by(history.initiative_id, history.id)
        )
        found: dict[int, list[ReviewStep]] = {}
        for initiative_id, at, actor, event, to_status, note, given in self.conn.execute(query):
            step = ReviewStep(at, actor, event, to_status, note, given)
            if initiative_id in found:
                found[initiative_id].append(step)
            else:
                found[initiative_id] = [step]
        return found

    def commendations(
        self, campaign_id: int, path: str, status: str | None = None
    ) -> Iterator[CommendationRow]:
        """The campaign's commendation proposals for candidates inside the subtree (only those at ``status``
        when given), by unit path, kind and name."""
        return commendation_rows(self.conn, campaign_id, path, status, EXPORT_BATCH)

    def title_holders(self, campaign_id: int, path: str) -> Iterator[TitleHolderRow]:
        """The members and collectives of the subtree who reached a title in the campaign, by unit path,
        title and name: the certificates the base unions print."""
        query = (
            sa.select(members.c.full_name, units.c.name, title_results.c.title)
            .select_from(title_results)
            .join(units, units.c.id == title_results.c.unit_id)
            .outerjoin(members, members.c.id == title_results.c.member_id)
            .where(
                title_results.c.campaign_id == campaign_id,
                title_results.c.reached.is_(True),
                units.c.path.startswith(path),
            )
            .order_by(units.c.path, title_results.c.title, members.c.full_name)
        )
        return (TitleHolderRow(*row) for row in self._rows(query))

    def deliveries(self, campaign_id: int, path: str) -> Iterator[DeliveryRow]:
        """The campaign's broadcasts that concern the subtree (sent for a unit above it, itself or inside
        it), oldest first, counted over their recipients who are members of the subtree only: a district's
        export of a province-wide announcement shows the district's share of it, never a sibling's."""

        def count(status: str) -> sa.ColumnElement[int]:
            return sa.func.count(outbox.c.id).filter(outbox.c.status == status)

        recipients = (
            sa.select(channel_accounts.c.id)
            .join(members, members.c.id == channel_accounts.c.member_id)
            .where(members.c.unit_id.in_(_subtree(path)))
        )
        rows_in_scope = sa.and_(outbox.c.broadcast_id == broadcasts.c.id, outbox.c.account_id.in_(recipients))
        query = (
            sa.select(
                broadcasts.c.kind,
                broadcasts.c.title,
                broadcasts.c.created_at,
                sa.func.count(outbox.c.id),
                count("sent"),
                count("unreachable"),
                count("failed"),
                count("pending"),
            )
            .select_from(
                broadcasts.join(units, units.c.id == broadcasts.c.unit_id).outerjoin(outbox, rows_in_scope)
            )
            .where(
                broadcasts.c.campaign_id == campaign_id,
                sa.or_(units.c.path.startswith(path), sa.literal(path).startswith(units.c.path)),
            )
            .group_by(broadcasts.c.id, broadcasts.c.kind, broadcasts.c.title, broadcasts.c.created_at)
            .order_by(broadcasts.c.created_at, broadcasts.c.id)
        )
        for row in self._rows(query):
            yield DeliveryRow(row[0], row[1], row[2], *(int(figure) for figure in row[3:]))
