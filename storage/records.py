"""Plain, immutable records that repositories hand back: the rest of the code never sees SQL rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple


def path_ids(path: str) -> list[int]:
    """The ids along a materialised path, root first: "/1/4/9/" -> [1, 4, 9]."""
    return [int(part) for part in path.strip("/").split("/") if part]


@dataclass(frozen=True, slots=True)
class Unit:
    """A node of the union tree: a federation, a sector union or a base union (CĐCS)."""

    id: int
    code: str
    name: str
    parent_id: int | None
    path: str
    depth: int

    def covers(self, other: Unit) -> bool:
        """True when ``other`` is this unit or lies anywhere below it."""
        return other.path.startswith(self.path)

    @property
    def lineage(self) -> list[int]:
        """The ids from the root down to this unit, itself included, read off its path."""
        return path_ids(self.path)


@dataclass(frozen=True, slots=True)
class Member:
    """A person on the union roster (đoàn viên)."""

    id: int
    code: str
    full_name: str
    phone: str | None
    email: str | None
    unit_id: int


@dataclass(frozen=True, slots=True)
class Account:
    """A chat identity on one channel, linked to a roster member once they prove who they are."""

    id: int
    channel: str
    user_id: str
    chat_id: str
    display_name: str
    member_id: int | None
    language: str | None
    reachable: bool


@dataclass(frozen=True, slots=True)
class Seen:
    """An account as an update finds it: its member and their unit when linked, and the units it leads
    (through the member or the channel identity), in path order."""

    account: Account
    member: Member | None
    unit: Unit | None
    led_units: tuple[Unit, ...]


@dataclass(frozen=True, slots=True)
class DialogState:
    """Where a chat stands in a multi-step flow, kept in the database so a restart resumes it."""

    flow: str
    step: str
    data: dict[str, Any]
    back_stack: list[str]
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class JoinRequest:
    """Someone who asks an officer's approval: to join a unit (``kind`` "join", not on the roster), or to be
    linked to the roster member ``member_id`` whose phone they typed (``kind`` "link")."""

    id: int
    channel: str
    user_id: str
    full_name: str
    phone: str | None
    unit_id: int
    status: str
    created_at: datetime
    kind: str = "join"
    member_id: int | None = None


@dataclass(frozen=True, slots=True)
class LinkCode:
    """A personal one-time link code, as stored: only its hash, never the code."""

    id: int
    member_id: int
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True, slots=True)
class Invite:
    """An officer's invitation code for one unit, used as ``/start CODE``."""

    id: int
    code: str
    unit_id: int
    expires_at: datetime
    use_count: int


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One message waiting to go to one chat."""

    id: int
    channel: str
    chat_id: str
    account_id: int | None
    kind: str
    message: dict[str, Any]
    attempts: int
    broadcast_id: int | None
    quiet_hours: tuple[int, int] | None  # the recipient's quiet hours, minutes after local midnight
    failing_since: datetime | None = None  # when the network outage this message is waiting out began


@dataclass(frozen=True, slots=True)
class Campaign:
    """An emulation campaign (phong trào thi đua) run by a unit for its whole subtree."""

    id: int
    code: str
    title: str
    description: str
    kind: str  # ongoing, peak
    unit_id: int
    starts_on: date
    ends_on: date
    registration_deadline: date
    initiative_deadline: date | None
    initiative_target: int | None
    individual_titles: tuple[str, ...]
    collective_titles: tuple[str, ...]
    status: str  # draft, launched, closed
    evaluation_opens_on: date | None = None  # the day the year-end evaluation (bình xét) opens


@dataclass(frozen=True, slots=True)
class Pledge:
    """One pledged target of a registration: what, in which unit of measure, how much."""

    content: str
    unit: str
    figure: str


@dataclass(frozen=True, slots=True)
class Registration:
    """A member's (or, with ``unit_id``, a collective's) sign-up for a campaign."""

    id: int
    campaign_id: int
    member_id: int | None
    unit_id: int | None
    titles: tuple[str, ...]
    pledges: tuple[Pledge, ...]
    initiative_title: str | None
    status: str  # active, withdrawn
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class BroadcastProgress:
    """How far a broadcast has gone."""

    id: int
    kind: str
    title: str
    total: int
    sent: int
    unreachable: int
    failed: int
    pending: int
    created_at: datetime
    finished_at: datetime | None
    requested_by: int | None
    uncertain: int = 0  # Telegram did not answer in time: maybe delivered, never sent again


@dataclass(frozen=True, slots=True)
class CoAuthor:
    """Someone who worked on an initiative with its author, and their share of it in percent."""

    name: str
    share: int


@dataclass(frozen=True, slots=True)
class Initiative:
    """An improvement proposal (sáng kiến) of a member, from draft to the council's decision."""

    id: int
    campaign_id: int | None
    author_member_id: int
    unit_id: int
    title: str
    field: str
    problem: str
    before: str
    steps: str
    improvement: str
    first_applied_on: date | None
    conditions: str
    benefit: str
    value_dong: int | None
    author_share: int
    coauthors: tuple[CoAuthor, ...]
    # draft, submitted, valid, invalid, revision, recognised, not_recognised, withdrawn
    status: str
    scores: dict[str, int]
    version: int  # +1 on every change
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None


@dataclass(frozen=True, slots=True)
class Attachment:
    """A photo or document sent with an initiative, kept as the channel's file reference."""

    id: int
    initiative_id: int
    channel: str
    file_id: str
    kind: str  # photo, document
    file_name: str | None
    size: int | None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One step of an initiative's way through review: who moved it from which status to which."""

    at: datetime
    actor: str
    from_status: str
    to_status: str
    note: str
    event: str = "moved"  # or "scored": the council scored it, the status stayed
    scores: dict[str, int] = field(default_factory=dict)


class ReviewStep(NamedTuple):
    """One step of an initiative's review as the export reads it: when, by whom, what happened (a move to
    ``to_status``, or the council's ``scores`` when ``event`` is "scored"; None otherwise) and the note. A
    tuple: an export reads ~80,000 of them."""

    at: datetime
    actor: str
    event: str
    to_status: str
    note: str
    scores: dict[str, int] | None


@dataclass(frozen=True, slots=True)
class TitleOf:
    """An initiative's title, its diacritics-free key and the campaign it counts for (None if none)."""

    id: int
    title: str
    title_key: str
    campaign: str | None


@dataclass(frozen=True, slots=True)
class InitiativeCounts:
    """How many initiatives a subtree submitted, how many were valid and how many recognised."""

    submitted: int
    valid: int
    recognised: int


@dataclass(frozen=True, slots=True)
class ReminderRule:
    """What to remind, to whom: a campaign deadline, an officer's own words, a day of the union year."""

    id: int
    kind: str
    campaign_id: int | None
    unit_id: int
    audience: str
    calendar_key: str | None
    text: str | None
    owner_account_id: int | None
    status: str
    sender_unit_id: int | None = None  # an officer's reminder: the unit it comes from (None: ``unit_id``)


@dataclass(frozen=True, slots=True)
class Sending:
    """One planned moment a rule's reminder goes out."""

    id: int
    rule: ReminderRule
    due_at: datetime
    status: str


@dataclass(frozen=True, slots=True)
class RegistrationRow:
    """One registration for the export (a member's or a collective's)."""

    unit_name: str
    member_code: str | None
    full_name: str | None  # None for a collective
    phone: str | None  # only where the officer covers the member
    titles: list[str]
    pledges: list[tuple[str, str, str]]  # content, unit of measure, figure
    initiative_title: str | None
    status: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class InitiativeRow:
    """One initiative with everything the council and the author wrote, for the export."""

    id: int
    unit_name: str
    author_code: str
    author_name: str
    author_share: int
    coauthors: list[tuple[str, int]]
    title: str
    field: str
    problem: str
    before: str
    steps: str
    improvement: str
    first_applied_on: date | None
    conditions: str
    benefit: str
    value_dong: int | None
    status: str
    scores: dict[str, int]
    submitted_at: datetime | None
    history: list[ReviewStep]


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    """One broadcast of the campaign (its launch announcement, its reminders) and how it went."""

    kind: str
    title: str
    created_at: datetime
    total: int
    sent: int
    unreachable: int
    failed: int
    pending: int


@dataclass(frozen=True, slots=True)
class PledgeResult:
    """How one pledged target went, as the member says: reached or not, and the figure achieved."""

    reached: bool
    figure: str


@dataclass(frozen=True, slots=True)
class SelfAssessment:
    """A registration's self-assessment: one result per pledge (None: not answered yet), the titles still
    sought; a draft until submitted."""

    id: int
    registration_id: int
    campaign_id: int
    results: tuple[PledgeResult | None, ...]
    titles: tuple[str, ...]
    status: str  # draft, submitted
    version: int


@dataclass(frozen=True, slots=True)
class TitleResult:
    """The evaluation's outcome for one candidate (a member, or a collective when ``member_id`` is None) and
    one title, with the meeting's vote."""

    id: int
    campaign_id: int
    member_id: int | None
    unit_id: int
    title: str
    reached: bool
    votes_agreed: int
    votes_present: int
    note: str
    decided_by: str
    decided_at: datetime


@dataclass(frozen=True, slots=True)
class TitleHolderRow:
    """Who reached a title, as a certificate names them: the member (None for a collective) and the unit."""

    full_name: str | None
    unit_name: str
    title: str


@dataclass(frozen=True, slots=True)
class Proposal:
    """A commendation proposal (đề nghị khen thưởng) of a member, a collective or an initiative."""

    id: int
    campaign_id: int
    year: int
    kind: str  # member, collective, initiative
    member_id: int | None  # the member proposed, or the initiative's author
    unit_id: int  # the candidate's unit: the collective itself, or the member's or initiative's
    initiative_id: int | None
    form: str
    level: str
    granting_unit_id: int
    achievements: str
    status: str  # proposed, approved, returned
    version: int
    proposer_account_id: int | None


@dataclass(frozen=True, slots=True)
class CommendationRow:
    """A proposal as it is read out: who or what, the unit, the form and who grants it, how it went."""

    id: int
    kind: str
    member_code: str | None
    full_name: str | None  # the member, or the initiative's author; None for a collective
    unit_name: str
    initiative_title: str | None
    form: str
    level: str
    granting_unit_name: str
    year: int
    achievements: str
    status: str
    note: str
    created_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True, slots=True)
class CommendationCount:
    """How many proposals of one kind for one form stand at one status."""

    form: str
    level: str
    kind: str
    status: str
    count: int
