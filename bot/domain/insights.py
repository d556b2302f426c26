"""Officer insights: the figures behind /stats, /report and the XLSX export, for one campaign and the part of
its subtree an officer covers. Plain data: storage fills it, bot/reports/ (charts, export_xlsx) renders it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from bot.domain.titles import COLLECTIVE_TITLES, INDIVIDUAL_TITLES
from storage.records import (
    Campaign,
    CommendationCount,
    CommendationRow,
    DeliveryRow,
    InitiativeRow,
    RegistrationRow,
    TitleHolderRow,
    Unit,
)

__all__ = [
    "CampaignFigures",
    "CommendationRow",
    "DeliveryRow",
    "ExportData",
    "FormFigures",
    "InitiativeRow",
    "RegistrationRow",
    "Standing",
    "TitleCount",
    "TitleHolderRow",
    "UnitFigures",
    "covered_scope",
    "covered_scopes",
    "form_figures",
    "local_days",
    "title_totals",
]


@dataclass(frozen=True, slots=True)
class UnitFigures:
    """One unit's subtree: roster, linked accounts, registrations and initiatives for the campaign."""

    unit: Unit
    roster: int
    linked: int
    registered: int
    submitted: int
    valid: int
    recognised: int
    target: int | None = None  # the unit's own initiative target for the campaign; None: none was given

    @property
    def registration_rate(self) -> float:
        """Registered members as a share of the roster (0 when the roster is empty)."""
        return self.registered / self.roster if self.roster else 0.0


@dataclass(frozen=True, slots=True)
class Standing:
    """Who leads and who lags among the units directly below; ``compared`` is how many units had members."""

    leading: list[UnitFigures]
    lagging: list[UnitFigures]
    compared: int

    @property
    def level(self) -> bool:
        """True when there is nothing to rank: fewer than two units, or all at the same rate."""
        return not self.leading


@dataclass(frozen=True, slots=True)
class CampaignFigures:
    """A campaign seen from one unit: its totals, each unit directly below, submissions per local day."""

    campaign: Campaign
    scope: UnitFigures
    children: list[UnitFigures]
    daily_submissions: list[tuple[date, int]]  # every day from the campaign's start to today or its end
    # (submissions made before the start on its first day, after the end on its last)

    def ranked(self) -> list[UnitFigures]:
        """Units below, best first: by registration rate, then initiatives submitted."""
        return sorted(self.children, key=lambda f: (-f.registration_rate, -f.submitted, f.unit.name))

    def standing(self, most: int) -> Standing:
        """Leading: up to ``most`` of the best units with a positive rate above the lowest; lagging: up to as
        many of the worst, below the highest rate, never a leading one. Each list holds at most half the units
        with members, so no unit is in both; with fewer than two, or all at one rate, both are empty."""
        ranked = [f for f in self.ranked() if f.roster]
        rates = [f.registration_rate for f in ranked]
        if len(ranked) < 2 or min(rates) == max(rates):
            return Standing([], [], len(ranked))
        count = min(most, len(ranked) // 2)
        low, high = min(rates), max(rates)
        leading = [f for f in ranked[:count] if f.registration_rate > max(low, 0)]
        lagging = [f for f in reversed(ranked) if f not in leading and f.registration_rate < high][:count]
        return Standing(leading, lagging, len(ranked))


@dataclass(frozen=True, slots=True)
class FormFigures:
    """One commendation form's proposals in a scope: how many were made, granted (by kind), returned and
    are waiting; what a year's report says as "43 tập thể, cá nhân được tặng Bằng khen"."""

    form: str
    level: str
    proposed: int = 0
    collectives: int = 0  # granted, by kind
    individuals: int = 0
    initiatives: int = 0
    returned: int = 0
    waiting: int = 0

    @property
    def granted(self) -> int:
        """Proposals approved, of every kind."""
        return self.collectives + self.individuals + self.initiatives


_GRANTED = {"collective": "collectives", "member": "individuals", "initiative": "initiatives"}
_WAITING_OR_RETURNED = {"proposed": "waiting", "returned": "returned"}
_LEVEL_ORDER = ("district", "province", "national")


def form_figures(counts: Iterable[CommendationCount], forms: Iterable[str]) -> list[FormFigures]:
    """Each form's figures from the counts by form, kind and status: the configured ``forms`` in their order,
    then any other form proposed before (no longer configured), by level."""
    found: dict[str, FormFigures] = {}
    for count in counts:
        current = found.get(count.form) or FormFigures(count.form, count.level)
        column = _GRANTED[count.kind] if count.status == "approved" else _WAITING_OR_RETURNED[count.status]
        found[count.form] = replace(
            current,
            proposed=current.proposed + count.count,
            **{column: getattr(current, column) + count.count},
        )
    ordered = [code for code in forms if code in found]
    rest = [code for code in found if code not in ordered]
    ordered += sorted(rest, key=lambda code: (_LEVEL_ORDER.index(found[code].level), code))
    return [found[code] for code in ordered]


@dataclass(frozen=True, slots=True)
class TitleCount:
    """How many reached one title, members and collectives apart: in one unit, or in the whole scope when
    ``unit`` is None; what a year's report says as "187 lượt Chiến sĩ thi đua cơ sở"."""

    unit: str | None
    title: str
    individual: int
    collective: int


_TITLE_ORDER = INDIVIDUAL_TITLES + COLLECTIVE_TITLES


def title_totals(counts: Iterable[TitleCount]) -> list[TitleCount]:
    """The counts of every unit added up per title, the titles in the order a registration offers them."""
    found: dict[str, TitleCount] = {}
    for count in counts:
        current = found.get(count.title) or TitleCount(None, count.title, 0, 0)
        found[count.title] = replace(
            current,
            individual=current.individual + count.individual,
            collective=current.collective + count.collective,
        )
    known = [title for title in _TITLE_ORDER if title in found]
    return [found[title] for title in known + sorted(set(found) - set(known))]


@dataclass(frozen=True, slots=True)
class ExportData:
    """Everything the workbook holds; the rows may be one-pass iterators, read once each, in order (an
    export's come straight from the database cursor)."""

    figures: CampaignFigures
    registrations: Iterable[RegistrationRow] = ()
    initiatives: Iterable[InitiativeRow] = ()
    deliveries: Iterable[DeliveryRow] = ()
    generated_at: datetime | None = None
    commendations: list[FormFigures] = field(default_factory=list)
    proposals: Iterable[CommendationRow] = ()  # every proposal of the scope's candidates
    certificates: Iterable[CommendationRow] = ()  # the approved ones, for the certificates' mail merge
    titles: list[TitleCount] = field(default_factory=list)  # reached, per unit
    title_holders: Iterable[TitleHolderRow] = ()  # who reached them, for the certificates too


def covered_scopes(owner: Unit, led: tuple[Unit, ...] | list[Unit]) -> list[Unit]:
    """The parts of a campaign's subtree an officer covers: the campaign's own unit where they lead it or a
    unit above, and each unit they lead inside it."""
    return [owner if unit.covers(owner) else unit for unit in led if unit.covers(owner) or owner.covers(unit)]


def covered_scope(owner: Unit, led: tuple[Unit, ...] | list[Unit]) -> Unit | None:
    """The one part shown in statistics: the whole campaign if covered, else the first unit led inside it."""
    scopes = covered_scopes(owner, led)
    return owner if owner in scopes else next(iter(scopes), None)


def local_days(start: date, end: date) -> list[date]:
    """Every day from ``start`` to ``end`` inclusive."""
    return [date.fromordinal(day) for day in range(start.toordinal(), end.toordinal() + 1)]
