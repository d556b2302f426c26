"""Linking where no contact can be shared (Zalo): personal one-time codes, and a typed phone number that an
officer of the member's unit confirms. Results are values the handlers turn into messages.

A code is eight characters from an alphabet without look-alikes (no 0/O, 1/I/L), shown as ``ABCD-EFGH``
and read back however it is typed (lower case, spaces, dashes). Only its SHA-256 is stored; it is spent by
its first use and expires after THIDUA_LINK_CODE_DAYS. Each account may get ``TRIES_PER_WINDOW`` codes wrong
per ``TRIES_WINDOW``; after that it is asked to wait, so guessing one of 31^8 codes is hopeless.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.onboarding import LinkOutcome, LinkResult, Reviewers, reviewers_of, supersede_pending
from bot.domain.vn.phones import normalize_phone
from storage.database import Repos
from storage.records import Account, Member, Unit

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
TRIES_PER_WINDOW = 5
TRIES_WINDOW = timedelta(hours=1)
_SEPARATORS = str.maketrans("", "", " -_.")


@dataclass(frozen=True, slots=True)
class IssuedCode:
    """A code just made for a member, to print or to show them once."""

    member: Member
    unit_code: str
    unit_name: str
    code: str  # as shown: ABCD-EFGH
    expires_at: datetime


def _new_code() -> str:
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        if not code.isdigit():  # eight digits could be read as part of a phone number
            return code


def shown(code: str) -> str:
    """The code as printed, in two halves: ``ABCD-EFGH``."""
    half = CODE_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"


def read_code(typed: str) -> str | None:
    """The code a person typed, in its stored form, or None when the text cannot be one."""
    code = typed.translate(_SEPARATORS).upper()
    if len(code) != CODE_LENGTH or code.isdigit() or any(char not in ALPHABET for char in code):
        return None
    return code


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


async def issue_codes(
    repos: Repos, actor: str, unit: Unit, now: datetime, valid_for: timedelta
) -> list[IssuedCode]:
    """New codes for every member of ``unit``'s subtree (the caller checks the actor covers it); each
    member's unused older code stops working."""
    found = await repos.members.within(unit.path)
    return await _issue(repos, actor, found, now, valid_for, {"unit": unit.code, "count": len(found)})


async def issue_member_code(
    repos: Repos, actor: str, member: Member, now: datetime, valid_for: timedelta
) -> IssuedCode:
    """A new code for one member: a linked member's own, to link another channel with (/mycode)."""
    unit = await repos.units.get(member.unit_id)
    assert unit is not None
    [issued] = await _issue(repos, actor, [(member, unit.code, unit.name)], now, valid_for, {"one": True})
    return issued


async def _issue(
    repos: Repos,
    actor: str,
    found: Sequence[tuple[Member, str, str]],
    now: datetime,
    valid_for: timedelta,
    details: dict[str, object],
) -> list[IssuedCode]:
    expires_at = now + valid_for
    codes: dict[str, None] = {}
    while len(codes) < len(found):
        codes.setdefault(_new_code())
    issued = [
        IssuedCode(member, unit_code, unit_name, shown(code), expires_at)
        for (member, unit_code, unit_name), code in zip(found, codes, strict=True)
    ]
    await repos.link_codes.replace(
        [(item.member.id, _hash(code)) for item, code in zip(issued, codes, strict=True)],
        actor,
        now,
        expires_at,
    )
    await repos.audit.record(actor, "link_codes.issue", f"members:{len(issued)}", details, now)  # no code
    return issued


async def link_by_code(repos: Repos, account: Account, typed: str, now: datetime) -> LinkResult:
    """Link ``account`` to the member whose code this is, if it is valid and the account has tries left."""
    if await repos.link_codes.failures_since(account.id, now - TRIES_WINDOW) >= TRIES_PER_WINDOW:
        return LinkResult(LinkOutcome.TOO_MANY_TRIES)
    code = read_code(typed)
    found = await repos.link_codes.by_hash(_hash(code)) if code is not None else None
    if found is None or found.used_at is not None or found.expires_at <= now:
        await repos.link_codes.record_failure(account.id, now, forget_before=now - TRIES_WINDOW)
        if found is None:
            return LinkResult(LinkOutcome.WRONG_CODE)
        return LinkResult(LinkOutcome.CODE_USED if found.used_at is not None else LinkOutcome.CODE_EXPIRED)
    member = await repos.members.get(found.member_id)
    assert member is not None
    if await _taken(repos, account, member):
        return LinkResult(LinkOutcome.TAKEN, member=member)
    if not await repos.link_codes.spend(found.id, account.id, now):
        raise RuntimeError("link code spent while being used")  # the transaction rolls back
    await repos.accounts.link(account.id, member.id, now)
    actor = f"{account.channel}:{account.user_id}"
    await repos.audit.record(actor, "account.link", f"member:{member.code}", {"by": "code"}, now)
    await supersede_pending(repos, account.channel, account.user_id, actor, now)
    return LinkResult(LinkOutcome.LINKED, member=member)


async def _taken(repos: Repos, account: Account, member: Member) -> bool:
    """The member already has another account on this channel."""
    return any(
        other.channel == account.channel and other.id != account.id
        for other in await repos.accounts.of_member(member.id)
    )


@dataclass(frozen=True, slots=True)
class LinkRequest:
    """A typed phone's outcome; when it became a link request, who is to confirm it."""

    result: LinkResult
    reviewers: Reviewers | None = None


async def request_link_by_phone(
    repos: Repos,
    account: Account,
    typed: str,
    *,
    invite_id: int | None,
    admins: Sequence[str],
    now: datetime,
) -> LinkRequest:
    """A phone number typed where no contact can be shared: when it is one roster member's, ask the
    officers of that member's unit to confirm the account is theirs."""
    phone = normalize_phone(typed)
    if phone is None:
        return LinkRequest(LinkResult(LinkOutcome.INVALID_PHONE))
    found = await repos.members.by_phone(phone)
    if not found:
        return LinkRequest(LinkResult(LinkOutcome.NOT_ON_ROSTER, phone))
    if len(found) > 1:
        return LinkRequest(LinkResult(LinkOutcome.AMBIGUOUS, phone))
    member = found[0]
    if await _taken(repos, account, member):
        return LinkRequest(LinkResult(LinkOutcome.TAKEN, phone, member))
    waiting = await repos.join_requests.pending_of_user(account.channel, account.user_id)
    if waiting is not None and waiting.kind == "link" and waiting.member_id == member.id:
        return LinkRequest(LinkResult(LinkOutcome.LINK_PENDING, phone, member))  # officers were told once
    await repos.join_requests.create(
        channel=account.channel,
        user_id=account.user_id,
        full_name=member.full_name,
        phone=phone,
        unit_id=member.unit_id,
        invite_id=invite_id,
        now=now,
        link_to=member.id,
    )
    reviewers = await reviewers_of(repos, member.unit_id, admins)
    return LinkRequest(LinkResult(LinkOutcome.LINK_REQUESTED, phone, member), reviewers)
