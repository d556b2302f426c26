"""The records the domain hands to handlers: the frozen dataclasses its rules read and return.

They are defined once, in ``storage.records``, because the repositories build them and storage imports
nothing above it; this module is the domain's word for them, so handlers name a campaign or a unit in
their signatures without importing storage (tests/test_import_flow.py allows them no storage import).
"""

from __future__ import annotations

from storage.records import (
    Account,
    Attachment,
    Campaign,
    CoAuthor,
    CommendationRow,
    HistoryEntry,
    Initiative,
    InitiativeCounts,
    JoinRequest,
    Pledge,
    PledgeResult,
    Registration,
    SelfAssessment,
    TitleResult,
    Unit,
)

__all__ = [
    "Account",
    "Attachment",
    "Campaign",
    "CoAuthor",
    "CommendationRow",
    "HistoryEntry",
    "Initiative",
    "InitiativeCounts",
    "JoinRequest",
    "Pledge",
    "PledgeResult",
    "Registration",
    "SelfAssessment",
    "TitleResult",
    "Unit",
]
