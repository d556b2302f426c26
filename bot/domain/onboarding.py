"""Linking chat accounts to the roster: by a shared phone number, by a join request (or, for a typed phone,
a link request) an officer approves, and through officers' invitation codes; personal link codes are in
bot/domain/linking.py. Results are values the handlers turn into messages.
"""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.vn.phones import normalize_phone
from bot.engine.access import Identity
from storage.database import Repos
from storage.records import Account, Invite, JoinRequest, Member, Unit

JOIN_REQUEST_CODE_PREFIX = "JR"
INVITE_CODE_BYTES = 6  # 8 URL-safe characters: fits Telegram's /start parameter with room to spare


class LinkOutcome(StrEnum):
    """How linking by a shared contact, a personal code or a typed phone went."""

    LINKED = "linked"
    NOT_OWN_CONTACT = "not_own_contact"
    INVALID_PHONE = "invalid_phone"
    NOT_ON_ROSTER = "not_on_roster"
    AMBIGUOUS = "ambiguous"  # several roster members share the number
    TAKEN = "taken"  # the member is already linked to another account on this channel
    WRONG_CODE = "wrong_code"
    CODE_USED = "code_used"
    CODE_EXPIRED = "code_expired"
    TOO_MANY_TRIES = "too_many_tries"
    LINK_REQUESTED = "link_requested"  # a typed phone matched a member: an officer confirms
    LINK_PENDING = "link_pending"  # the same link request is already waiting for an officer


@dataclass(frozen=True, slots=True)
class LinkResult:
    """The outcome, and the member and phone involved where known."""

    outcome: LinkOutcome
    phone: str | None = None
    member: Member | None = None


async def link_by_contact(
    repos: Repos, account: Account, phone: str, contact_user_id: str | None, now: datetime
) -> LinkResult:
    """Link ``account`` to the roster member with this phone, if the contact is the sender's own."""
    # A contact card saved by hand has no user id: only the sender's own card proves the number is theirs.
    if contact_user_id != account.user_id:
        return LinkResult(LinkOutcome.NOT_OWN_CONTACT)
    normalized = normalize_phone(phone)
    if normalized is None:
        return LinkResult(LinkOutcome.INVALID_PHONE)
    found = await repos.members.by_phone(normalized)
    if not found:
        return LinkResult(LinkOutcome.NOT_ON_ROSTER, normalized)
    if len(found) > 1:
        return LinkResult(LinkOutcome.AMBIGUOUS, normalized)
    member = found[0]
    if await _has_other_account(repos, account, member.id):
        return LinkResult(LinkOutcome.TAKEN, normalized, member)
    await repos.accounts.link(account.id, member.id, now)
    actor = f"{account.channel}:{account.user_id}"
    await repos.audit.record(actor, "account.link", f"member:{member.code}", {"by": "contact"}, now)
    await supersede_pending(repos, account.channel, account.user_id, actor, now)
    return LinkResult(LinkOutcome.LINKED, normalized, member)


def normalize_name(typed: str) -> str:
    """A person's name as the roster writes it: "trần văn  NAM" becomes "Trần Văn Nam". Only words made of
    letters are recased; anything else typed (digits, symbols) is kept as it is. Control and invisible
    format characters (a right-to-left override, a zero-width space) are dropped: shown to an officer, they
    made the name read backwards or hid characters in it."""
    visible = "".join(
        char for char in typed if unicodedata.category(char) not in ("Cc", "Cf") or char.isspace()
    )
    words = unicodedata.normalize("NFC", visible).split()
    return " ".join(word.capitalize() if word.isalpha() else word for word in words)


async def supersede_pending(repos: Repos, channel: str, user_id: str, actor: str, now: datetime) -> None:
    """Once a person is on the roster, their other join requests have nothing left to decide."""
    for request_id in await repos.join_requests.supersede_pending_of_user(
        channel, user_id, decided_by=actor, now=now
    ):
        await repos.audit.record(actor, "join_request.superseded", f"join_request:{request_id}", {}, now)


@dataclass(frozen=True, slots=True)
class Reviewers:
    """Who is told of a join request: the officers of ``unit`` (the request's own or the nearest above it),
    else the administrators (``unit`` None); nobody at all when ``accounts`` is empty."""

    accounts: list[Account]
    unit: Unit | None


async def submit_join_request(
    repos: Repos,
    account: Account,
    *,
    full_name: str,
    phone: str | None,
    unit_id: int,
    invite_id: int | None,
    admins: Sequence[str],
    now: datetime,
) -> tuple[int, Reviewers]:
    """Store a join request; returns its id and who is to be told of it."""
    request_id = await repos.join_requests.create(
        channel=account.channel,
        user_id=account.user_id,
        full_name=normalize_name(full_name),
        phone=phone,
        unit_id=unit_id,
        invite_id=invite_id,
        now=now,
    )
    return request_id, await reviewers_of(repos, unit_id, admins)


async def reviewers_of(repos: Repos, unit_id: int, admins: Sequence[str]) -> Reviewers:
    """The reachable officers of this unit, else of the closest ancestor that has some, else the
    administrators (``channel:user_id``) who have ever written to the bot."""
    unit = await repos.units.get(unit_id)
    assert unit is not None
    for candidate in [unit, *reversed(await repos.units.ancestors(unit))]:
        officers = await repos.roles.accounts_of_unit_officers(candidate.id)
        if officers:
            return Reviewers(officers, candidate)
    found = [await repos.accounts.get(*admin.split(":", 1)) for admin in admins]
    return Reviewers([account for account in found if account is not None and account.reachable], None)


async def _has_other_account(repos: Repos, account: Account, member_id: int | None) -> bool:
    """The member already has another account on ``account``'s channel."""
    if member_id is None:
        return False
    return any(
        other.channel == account.channel and other.id != account.id
        for other in await repos.accounts.of_member(member_id)
    )


class DecisionOutcome(StrEnum):
    """How an officer's decision on a join request went."""

    DONE = "done"
    GONE = "gone"  # no such request
    ALREADY_DECIDED = "already_decided"
    OUT_OF_SCOPE = "out_of_scope"
    TAKEN = "taken"  # a link request whose member got another account on that channel meanwhile


@dataclass(frozen=True, slots=True)
class JoinDecision:
    """The outcome, the request, and the requester's account to notify."""

    outcome: DecisionOutcome
    request: JoinRequest | None = None
    requester: Account | None = None
    unit: Unit | None = None


async def decide_join_request(
    repos: Repos, who: Identity, request_id: int, approve: bool, now: datetime
) -> JoinDecision:
    """Approve (adding the person to the roster, or for a link request taking the roster member it named,
    and linking their account) or reject a join or link request."""
    request = await repos.join_requests.get(request_id)
    if request is None:
        return JoinDecision(DecisionOutcome.GONE)
    unit = await repos.units.get(request.unit_id)
    assert unit is not None
    if not who.covers(unit):
        return JoinDecision(DecisionOutcome.OUT_OF_SCOPE, request)
    if request.status != "pending":
        return JoinDecision(DecisionOutcome.ALREADY_DECIDED, request)
    requester = await repos.accounts.get(request.channel, request.user_id)
    member_id = request.member_id  # a link request names its member; a join request's is made on approval
    if request.kind == "link":
        if approve and requester is not None and requester.member_id is None:
            if await _has_other_account(repos, requester, request.member_id):
                return JoinDecision(DecisionOutcome.TAKEN, request)
            assert request.member_id is not None
            await repos.accounts.link(requester.id, request.member_id, now)
    elif approve and requester is not None and requester.member_id is not None:
        member_id = requester.member_id  # linked by phone meanwhile: nothing to add to the roster
    elif approve:
        code = await repos.members.next_code(JOIN_REQUEST_CODE_PREFIX)
        member_id = await repos.members.insert(
            code=code,
            full_name=request.full_name,
            phone=request.phone,
            email=None,
            unit_id=unit.id,
            source="join_request",
            now=now,
        )
        if requester is not None and requester.member_id is None:
            await repos.accounts.link(requester.id, member_id, now)
    status = "approved" if approve else "rejected"
    if not await repos.join_requests.decide(
        request.id, status=status, member_id=member_id, decided_by=who.actor, now=now
    ):
        raise RuntimeError("join request changed while being decided")  # the transaction rolls back
    await repos.audit.record(
        who.actor,
        f"join_request.{status}",
        f"join_request:{request.id}",
        {"unit": unit.code, "member_id": member_id},
        now,
    )
    if approve:
        await supersede_pending(repos, request.channel, request.user_id, who.actor, now)
    return JoinDecision(DecisionOutcome.DONE, request, requester, unit)


async def create_invite(
    repos: Repos, who: Identity, unit: Unit, now: datetime, valid_for: timedelta
) -> Invite:
    """A new invitation code for ``unit``, which the officer must cover."""
    if not who.covers(unit):
        raise PermissionError(f"{who.actor} does not cover {unit.code}")
    code = secrets.token_urlsafe(INVITE_CODE_BYTES)
    await repos.invites.create(code, unit.id, who.actor, now, now + valid_for)
    await repos.audit.record(who.actor, "invite.create", f"unit:{unit.code}", {"code": code}, now)
    invite = await repos.invites.by_code(code)
    assert invite is not None
    return invite


async def valid_invite(repos: Repos, code: str, now: datetime) -> tuple[Invite, Unit] | None:
    """The invitation and its unit, if the code exists and has not expired."""
    invite = await repos.invites.by_code(code)
    if invite is None or invite.expires_at <= now:
        return None
    unit = await repos.units.get(invite.unit_id)
    return (invite, unit) if unit is not None else None


async def count_invite_use(repos: Repos, invite: Invite) -> None:
    """Someone opened the bot through this invitation (officers see how many did)."""
    await repos.invites.count_use(invite.id)
