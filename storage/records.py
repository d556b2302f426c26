"""Plain, immutable records that repositories hand back: the rest of the code never sees SQL rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


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
class DialogState:
    """Where a chat stands in a multi-step flow, kept in the database so a restart resumes it."""

    flow: str
    step: str
    data: dict[str, Any]
    back_stack: list[str]
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class JoinRequest:
    """Someone not found on the roster who asks to join a unit; an officer approves or rejects it."""

    id: int
    channel: str
    user_id: str
    full_name: str
    phone: str | None
    unit_id: int
    status: str
    created_at: datetime


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
