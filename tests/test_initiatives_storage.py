"""The initiative repository on a migrated SQLite file: versions, co-authors, moves, queues, counts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from storage.database import Repos, Store
from storage.migrate import upgrade_async
from storage.records import CoAuthor, HistoryEntry, InitiativeCounts

NOW = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)


@dataclass
class Tree:
    """Province P with districts A (base unions A1, A2) and B (base union B1); a member in each base union."""

    p: int
    a: int
    a1: int
    a2: int
    b: int
    b1: int
    mai: int  # in A1
    hung: int  # in A2
    hoa: int  # in B1
    campaign: int
    other_campaign: int


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    """The migrated, empty database."""
    await upgrade_async(db_url)
    store = Store(db_url)
    yield store
    await store.close()


@pytest.fixture
async def tree(store: Store) -> Tree:
    """The small tree, three members and two campaigns of the province."""
    async with store.begin() as repos:
        ids: dict[str, int] = {}
        paths: dict[str, str] = {}
        for code, parent, depth in (
            ("P", None, 0),
            ("A", "P", 1),
            ("A1", "A", 2),
            ("A2", "A", 2),
            ("B", "P", 1),
            ("B1", "B", 2),
        ):
            parent_id = ids[parent] if parent else None
            ids[code] = await repos.units.insert(code, f"Unit {code}", f"unit {code.lower()}", parent_id, NOW)
            paths[code] = f"{paths[parent] if parent else '/'}{ids[code]}/"
            await repos.units.set_path(ids[code], paths[code], depth)
        people = {}
        for code, name, unit in (("DV1", "Mai", "A1"), ("DV2", "Hùng", "A2"), ("DV3", "Hoa", "B1")):
            people[code] = await repos.members.insert(
                code=code, full_name=name, phone=None, email=None, unit_id=ids[unit], source="roster", now=NOW
            )
        campaigns = [
            await repos.campaigns.insert(
                {
                    "code": code,
                    "title": f"Campaign {code}",
                    "description": "",
                    "kind": "ongoing",
                    "unit_id": ids["P"],
                    "starts_on": date(2026, 1, 1),
                    "ends_on": date(2026, 12, 31),
                    "registration_deadline": date(2026, 6, 30),
                    "individual_titles": [],
                    "collective_titles": [],
                },
                "test",
                NOW,
            )
            for code in ("C1", "C2")
        ]
    return Tree(ids["P"], ids["A"], ids["A1"], ids["A2"], ids["B"], ids["B1"], *people.values(), *campaigns)


async def _submitted(
    repos: Repos, member_id: int, unit_id: int, campaign_id: int | None, title: str, at: datetime
) -> int:
    """A draft with a title, submitted at ``at``; returns its id."""
    initiative_id = await repos.initiatives.create_draft(
        author_member_id=member_id, unit_id=unit_id, campaign_id=campaign_id, now=at
    )
    await repos.initiatives.update_fields(initiative_id, {"title": title, "title_key": title.lower()}, at)
    assert await repos.initiatives.move(
        initiative_id, version=2, from_statuses=("draft",), to_status="submitted", actor="a", note="", now=at
    )
    return initiative_id


async def _paths(repos: Repos) -> dict[int, str]:
    """Every unit's path by id."""
    return {unit.id: unit.path for unit in await repos.units.all()}


async def _to(repos: Repos, initiative_id: int, status: str) -> None:
    """Move an initiative to ``status`` from wherever it is."""
    found = await repos.initiatives.get(initiative_id)
    assert found is not None
    assert await repos.initiatives.move(
        initiative_id,
        version=found.version,
        from_statuses=(found.status,),
        to_status=status,
        actor="council",
        note="",
        now=NOW,
    )


async def test_a_draft_starts_empty_and_every_change_bumps_its_version(store: Store, tree: Tree) -> None:
    later = NOW + timedelta(minutes=5)
    async with store.begin() as repos:
        draft_id = await repos.initiatives.create_draft(
            author_member_id=tree.mai, unit_id=tree.a1, campaign_id=None, now=NOW
        )
        draft = await repos.initiatives.get(draft_id)
        assert draft is not None
        assert (draft.title, draft.field, draft.problem, draft.benefit) == ("", "", "", "")
        assert (draft.status, draft.version, draft.scores, draft.coauthors) == ("draft", 1, {}, ())
        assert (draft.author_share, draft.value_dong, draft.first_applied_on) == (100, None, None)
        assert draft.created_at == draft.updated_at == NOW and draft.submitted_at is None

        await repos.initiatives.update_fields(
            draft_id,
            {
                "title": "Máy cắt",
                "title_key": "may cat",
                "first_applied_on": date(2026, 2, 1),
                "value_dong": 12_000_000_000,
                "campaign_id": tree.campaign,
            },
            later,
        )
        changed = await repos.initiatives.get(draft_id)
        assert changed is not None
        assert (changed.title, changed.first_applied_on, changed.value_dong) == (
            "Máy cắt",
            date(2026, 2, 1),
            12_000_000_000,
        )
        assert (changed.campaign_id, changed.version, changed.updated_at) == (tree.campaign, 2, later)
        assert changed.created_at == NOW

        with pytest.raises(ValueError, match="status"):
            await repos.initiatives.update_fields(draft_id, {"status": "valid"}, later)
        assert await repos.initiatives.get(draft_id + 100) is None


async def test_draft_of_is_the_members_newest_draft(store: Store, tree: Tree) -> None:
    async with store.begin() as repos:
        assert await repos.initiatives.draft_of(tree.mai) is None
        first = await _submitted(repos, tree.mai, tree.a1, tree.campaign, "Old", NOW)
        second = await repos.initiatives.create_draft(
            author_member_id=tree.mai, unit_id=tree.a1, campaign_id=None, now=NOW
        )
        await repos.initiatives.create_draft(
            author_member_id=tree.hung, unit_id=tree.a2, campaign_id=None, now=NOW
        )
        draft = await repos.initiatives.draft_of(tree.mai)
        assert draft is not None and draft.id == second != first


async def test_co_authors_are_replaced_and_kept_in_order(store: Store, tree: Tree) -> None:
    async with store.begin() as repos:
        draft_id = await repos.initiatives.create_draft(
            author_member_id=tree.mai, unit_id=tree.a1, campaign_id=None, now=NOW
        )
        trio = [CoAuthor("Zung", 10), CoAuthor("An", 20), CoAuthor("Minh", 30)]
        await repos.initiatives.set_coauthors(draft_id, 40, trio, NOW)
        found = await repos.initiatives.get(draft_id)
        assert found is not None
        assert (found.author_share, found.coauthors, found.version) == (40, tuple(trio), 2)

        await repos.initiatives.set_coauthors(draft_id, 70, [CoAuthor("Bình", 30)], NOW)
        found = await repos.initiatives.get(draft_id)
        assert found is not None
        assert (found.author_share, found.coauthors, found.version) == (70, (CoAuthor("Bình", 30),), 3)

        await repos.initiatives.set_coauthors(draft_id, 100, [], NOW)
        found = await repos.initiatives.get(draft_id)
        assert found is not None and (found.author_share, found.coauthors) == (100, ())


async def test_attachments_are_listed_in_the_order_sent(store: Store, tree: Tree) -> None:
    async with store.begin() as repos:
        draft_id = await repos.initiatives.create_draft(
            author_member_id=tree.mai, unit_id=tree.a1, campaign_id=None, now=NOW
        )
        other_id = await repos.initiatives.create_draft(
            author_member_id=tree.hung, unit_id=tree.a2, campaign_id=None, now=NOW
        )
        assert await repos.initiatives.attachments(draft_id) == []
        await repos.initiatives.add_attachment(
            draft_id, channel="telegram", file_id="F1", kind="photo", file_name=None, size=None, now=NOW
        )
        await repos.initiatives.add_attachment(
            draft_id, channel="telegram", file_id="F2", kind="document", file_name="a.pdf", size=2048, now=NOW
        )
        await repos.initiatives.add_attachment(
            other_id, channel="telegram", file_id="F3", kind="photo", file_name=None, size=None, now=NOW
        )
        files = await repos.initiatives.attachments(draft_id)
        assert [(f.file_id, f.kind, f.file_name, f.size) for f in files] == [
            ("F1", "photo", None, None),
            ("F2", "document", "a.pdf", 2048),
        ]
        assert {(f.initiative_id, f.channel) for f in files} == {(draft_id, "telegram")}
        found = await repos.initiatives.get(draft_id)
        assert found is not None and found.version == 3


async def test_a_move_goes_through_once_and_a_stale_one_is_refused(store: Store, tree: Tree) -> None:
    submitted_at = NOW + timedelta(hours=1)
    async with store.begin() as repos:
        draft_id = await repos.initiatives.create_draft(
            author_member_id=tree.mai, unit_id=tree.a1, campaign_id=tree.campaign, now=NOW
        )
        move = repos.initiatives.move
        assert await move(
            draft_id,
            version=1,
            from_statuses=("draft", "revision"),
            to_status="submitted",
            actor="telegram:1",
            note="",
            now=submitted_at,
        )
        # A second tap on the same (old) button, and a move from a status it is not in.
        assert not await move(
            draft_id,
            version=1,
            from_statuses=("draft",),
            to_status="submitted",
            actor="telegram:1",
            note="",
            now=NOW,
        )
        assert not await move(
            draft_id, version=2, from_statuses=("draft",), to_status="withdrawn", actor="x", note="", now=NOW
        )
        found = await repos.initiatives.get(draft_id)
        assert found is not None
        assert (found.status, found.version, found.submitted_at) == ("submitted", 2, submitted_at)

        assert await move(
            draft_id,
            version=2,
            from_statuses=("submitted",),
            to_status="valid",
            actor="c",
            note="ok",
            now=NOW,
        )
        scores = {"novelty": 8, "applicability": 7, "effect": 9}
        # Scoring keeps the status: the same-status move is allowed and recorded.
        assert await move(
            draft_id,
            version=3,
            from_statuses=("valid",),
            to_status="valid",
            actor="c",
            note="",
            now=NOW,
            scores=scores,
        )
        assert await move(
            draft_id, version=4, from_statuses=("valid",), to_status="recognised", actor="c", note="", now=NOW
        )
        found = await repos.initiatives.get(draft_id)
        assert found is not None
        assert (found.status, found.version, found.scores, found.submitted_at) == (
            "recognised",
            5,
            scores,
            submitted_at,
        )
        assert await repos.initiatives.history(draft_id) == [
            HistoryEntry(submitted_at, "telegram:1", "draft", "submitted", ""),
            HistoryEntry(NOW, "c", "submitted", "valid", "ok"),
            HistoryEntry(NOW, "c", "valid", "valid", ""),
            HistoryEntry(NOW, "c", "valid", "recognised", ""),
        ]
        assert not await move(
            draft_id + 100,
            version=1,
            from_statuses=("draft",),
            to_status="submitted",
            actor="x",
            note="",
            now=NOW,
        )


async def test_of_member_lists_every_initiative_newest_change_first(store: Store, tree: Tree) -> None:
    async with store.begin() as repos:
        older = await _submitted(repos, tree.mai, tree.a1, tree.campaign, "Older", NOW)
        newer = await _submitted(repos, tree.mai, tree.a1, tree.campaign, "Newer", NOW + timedelta(hours=1))
        draft = await repos.initiatives.create_draft(
            author_member_id=tree.mai, unit_id=tree.a1, campaign_id=None, now=NOW + timedelta(hours=2)
        )
        await repos.initiatives.set_coauthors(older, 60, [CoAuthor("An", 40)], NOW + timedelta(hours=3))
        await _submitted(repos, tree.hung, tree.a2, tree.campaign, "Not hers", NOW)
        found = await repos.initiatives.of_member(tree.mai)
        assert [i.id for i in found] == [older, draft, newer]
        assert [i.coauthors for i in found] == [(CoAuthor("An", 40),), (), ()]
        assert await repos.initiatives.of_member(tree.hoa) == []


async def test_the_queue_holds_only_the_subtree_and_the_longest_waiting_first(
    store: Store, tree: Tree
) -> None:
    async with store.begin() as repos:
        late = await _submitted(repos, tree.mai, tree.a1, tree.campaign, "Late", NOW + timedelta(hours=2))
        early = await _submitted(repos, tree.hung, tree.a2, None, "Early", NOW)
        sibling = await _submitted(repos, tree.hoa, tree.b1, tree.campaign, "In B", NOW - timedelta(hours=1))
        valid = await _submitted(repos, tree.mai, tree.a1, tree.campaign, "Valid", NOW + timedelta(hours=1))
        await _to(repos, valid, "valid")
        await repos.initiatives.create_draft(
            author_member_id=tree.mai, unit_id=tree.a1, campaign_id=None, now=NOW
        )
        await repos.initiatives.set_coauthors(late, 50, [CoAuthor("An", 50)], NOW)

        path = await _paths(repos)

        async def queue(units: list[int], statuses: list[str], limit: int = 10) -> list[int]:
            found = await repos.initiatives.queue([path[unit] for unit in units], statuses, limit)
            if late in (i.id for i in found):
                assert next(i for i in found if i.id == late).coauthors == (CoAuthor("An", 50),)
            return [i.id for i in found]

        assert await queue([tree.a], ["submitted"]) == [early, late]
        assert await queue([tree.a1], ["submitted", "valid"]) == [valid, late]
        assert await queue([tree.b], ["submitted"]) == [sibling]  # A's initiatives stay out of B's queue
        assert await queue([tree.a, tree.b], ["submitted"], limit=2) == [sibling, early]
        assert await queue([tree.p], ["submitted"]) == [sibling, early, late]
        assert await queue([], ["submitted"]) == []


async def test_titles_in_campaign_leave_out_drafts_withdrawn_the_initiative_itself(
    store: Store, tree: Tree
) -> None:
    async with store.begin() as repos:
        mine = await _submitted(repos, tree.mai, tree.a1, tree.campaign, "Máy cắt", NOW)
        theirs = await _submitted(repos, tree.hoa, tree.b1, tree.campaign, "Máy khoan", NOW)
        rejected = await _submitted(repos, tree.hung, tree.a2, tree.campaign, "Máy xay", NOW)
        await _to(repos, rejected, "invalid")
        gone = await _submitted(repos, tree.hung, tree.a2, tree.campaign, "Máy hàn", NOW)
        await _to(repos, gone, "withdrawn")
        await _submitted(repos, tree.hung, tree.a2, tree.other_campaign, "Máy khác", NOW)
        draft = await repos.initiatives.create_draft(
            author_member_id=tree.hung, unit_id=tree.a2, campaign_id=tree.campaign, now=NOW
        )
        await repos.initiatives.update_fields(draft, {"title": "Máy nháp", "title_key": "máy nháp"}, NOW)
        assert await repos.initiatives.titles_in_campaign(tree.campaign, mine) == [
            (theirs, "Máy khoan", "máy khoan"),
            (rejected, "Máy xay", "máy xay"),
        ]


async def test_counts_within_a_subtree_and_by_child(store: Store, tree: Tree) -> None:
    async with store.begin() as repos:
        statuses_in_a1 = ["submitted", "valid", "recognised", "not_recognised", "invalid", "revision"]
        for number, status in enumerate(statuses_in_a1):
            initiative_id = await _submitted(repos, tree.mai, tree.a1, tree.campaign, f"A1-{number}", NOW)
            if status == "recognised" or status == "not_recognised":
                await _to(repos, initiative_id, "valid")
            if status != "submitted":
                await _to(repos, initiative_id, status)
        await _to(repos, await _submitted(repos, tree.hung, tree.a2, tree.campaign, "A2", NOW), "recognised")
        await _to(repos, await _submitted(repos, tree.hung, tree.a2, tree.campaign, "Gone", NOW), "withdrawn")
        await repos.initiatives.create_draft(
            author_member_id=tree.hung, unit_id=tree.a2, campaign_id=tree.campaign, now=NOW
        )
        await _submitted(repos, tree.hoa, tree.b1, tree.other_campaign, "Other campaign", NOW)

        path = await _paths(repos)
        counts = repos.initiatives.counts
        assert await counts(tree.campaign, path[tree.a1]) == InitiativeCounts(6, 3, 1)
        assert await counts(tree.campaign, path[tree.a2]) == InitiativeCounts(1, 1, 1)
        assert await counts(tree.campaign, path[tree.a]) == InitiativeCounts(7, 4, 2)
        assert await counts(tree.campaign, path[tree.p]) == InitiativeCounts(7, 4, 2)
        assert await counts(tree.campaign, path[tree.b]) == InitiativeCounts(0, 0, 0)
        assert await counts(tree.other_campaign, path[tree.p]) == InitiativeCounts(1, 0, 0)

        by_child = repos.initiatives.counts_by_child
        assert await by_child(tree.campaign, tree.p) == {
            tree.a: InitiativeCounts(7, 4, 2),
            tree.b: InitiativeCounts(0, 0, 0),
        }
        assert await by_child(tree.campaign, tree.a) == {
            tree.a1: InitiativeCounts(6, 3, 1),
            tree.a2: InitiativeCounts(1, 1, 1),
        }
        assert await by_child(tree.other_campaign, tree.b) == {tree.b1: InitiativeCounts(1, 0, 0)}
        assert await by_child(tree.campaign, tree.a1) == {}
