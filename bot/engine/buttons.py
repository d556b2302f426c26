"""Button payloads (Telegram's callback data) as typed values: one small frozen dataclass per action.

``ReviewStep("valid", 12, 3).pack()`` gives ``"rv:valid:12:3"``; ``unpack("rv:valid:12:3")`` gives the object
back, and refuses anything else with ``MalformedButton``: an unknown prefix, a wrong number of fields, digits
that are not ASCII, ids outside SQLite's INTEGER range, unknown choices, non-ASCII or over-long text. Handlers
receive the typed object; the router answers a refused payload with "this button is no longer valid".
Every payload fits Telegram's 64 bytes; ``pack`` raises if one would not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Annotated, Any, ClassVar, Literal, Self, get_args, get_origin, get_type_hints

from bot.domain.campaigns import KINDS
from bot.domain.initiatives import COMMON_FIELDS, REVIEW_ACTIONS
from bot.domain.titles import COLLECTIVE_TITLES, INDIVIDUAL_TITLES
from messages import LANGUAGES

PAYLOAD_LIMIT = 64  # bytes of callback data Telegram carries
ID_MAX = 2**63 - 1  # SQLite's INTEGER range; larger numbers overflow in a query
SEPARATOR = ":"
_NUMBER = re.compile(r"0|[1-9][0-9]{0,18}", re.ASCII)  # canonical: no sign, no leading zeros
_PREFIX = re.compile(r"[a-z]+(:[a-z]+)*", re.ASCII)


class MalformedButton(ValueError):
    """A payload that is not one of ours: garbled, forged, oversized, or from a version that is gone."""


@dataclass(frozen=True)
class Ranged:
    """A whole number field within ``low``..``high``."""

    low: int
    high: int

    def encode(self, value: object) -> str:
        """The field as text; a value out of range is a bug in the code that draws the button."""
        if not isinstance(value, int) or isinstance(value, bool) or not self.low <= value <= self.high:
            raise ValueError(f"{value!r} is not a number in {self.low}..{self.high}")
        return str(value)

    def decode(self, part: str) -> int:
        """The number, or MalformedButton."""
        if not _NUMBER.fullmatch(part) or not self.low <= int(part) <= self.high:
            raise MalformedButton(f"not a number in {self.low}..{self.high}")
        return int(part)


@dataclass(frozen=True)
class OneOf:
    """A field that is one of a fixed set of words."""

    choices: tuple[str, ...]

    def encode(self, value: object) -> str:
        """The word itself, checked."""
        if value not in self.choices:
            raise ValueError(f"{value!r} is not one of {self.choices}")
        return str(value)

    def decode(self, part: str) -> str:
        """The word, or MalformedButton."""
        if part not in self.choices:
            raise MalformedButton("unknown choice")
        return part


@dataclass(frozen=True)
class Word:
    """A short lowercase ASCII word the handler checks against what it offered (a step, an event key)."""

    pattern: ClassVar[re.Pattern[str]] = re.compile(r"[a-z][a-z0-9_]{0,31}", re.ASCII)

    def encode(self, value: object) -> str:
        """The word itself, checked."""
        if not isinstance(value, str) or not self.pattern.fullmatch(value):
            raise ValueError(f"{value!r} is not a short lowercase word")
        return value

    def decode(self, part: str) -> str:
        """The word, or MalformedButton."""
        if not self.pattern.fullmatch(part):
            raise MalformedButton("not a short word")
        return part


Rule = Ranged | OneOf | Word

Id = Annotated[int, Ranged(1, ID_MAX)]
IdOrNone = Annotated[int, Ranged(0, ID_MAX)]  # 0 stands for "none"
Version = Annotated[int, Ranged(0, ID_MAX)]
Minute = Annotated[int, Ranged(0, 24 * 60 - 1)]
Point = Annotated[int, Ranged(1, 99)]
Key = Annotated[str, Word()]
Language = Annotated[str, OneOf(LANGUAGES)]
TitleCode = Annotated[str, OneOf(INDIVIDUAL_TITLES + COLLECTIVE_TITLES)]
ALL_TITLES = INDIVIDUAL_TITLES + COLLECTIVE_TITLES
TitleIndex = Annotated[int, Ranged(0, len(ALL_TITLES) - 1)]

_BY_PREFIX: dict[str, type[ButtonData]] = {}
_RULES: dict[type[ButtonData], tuple[tuple[str, Rule], ...]] = {}
_LONGEST_PREFIX = 3  # parts: "ann:aud:everyone"


class ButtonData:
    """The base of every payload: a ``PREFIX`` naming the action, then typed fields in order."""

    PREFIX: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not _PREFIX.fullmatch(cls.PREFIX) or cls.PREFIX.count(SEPARATOR) >= _LONGEST_PREFIX:
            raise TypeError(f"{cls.__name__}: bad prefix {cls.PREFIX!r}")
        if cls.PREFIX in _BY_PREFIX:
            raise TypeError(f"{cls.__name__}: prefix {cls.PREFIX!r} already used by {_BY_PREFIX[cls.PREFIX]}")
        _BY_PREFIX[cls.PREFIX] = cls

    def pack(self) -> str:
        """The callback data; raises ValueError for a field out of its range or a payload over 64 bytes."""
        return _packed(self)

    @classmethod
    def unpack(cls, data: str) -> Self:
        """This class's payload from callback data, or MalformedButton (also for another action's payload)."""
        found = unpack(data)
        if not isinstance(found, cls):
            raise MalformedButton("another action's payload")
        return found


def unpack(data: str) -> ButtonData:
    """The typed payload behind callback data; MalformedButton for anything not drawn by ``pack``."""
    if not data.isascii() or len(data) > PAYLOAD_LIMIT:
        raise MalformedButton("not ASCII or too long")
    parts = data.split(SEPARATOR)
    for length in range(min(len(parts), _LONGEST_PREFIX), 0, -1):  # the longest prefix wins: "cal:w:std"
        kind = _BY_PREFIX.get(SEPARATOR.join(parts[:length]))
        if kind is not None:
            return _decode(kind, parts[length:])
    raise MalformedButton("unknown prefix")


@lru_cache(maxsize=4096)
def _packed(data: ButtonData) -> str:
    # Every payload is a frozen dataclass: the same button (a campaign's, shown to every member who lists
    # the campaigns) is packed once, not once per reply.
    packed = SEPARATOR.join(
        [data.PREFIX, *(rule.encode(getattr(data, name)) for name, rule in _rules(type(data)))]
    )
    if len(packed.encode()) > PAYLOAD_LIMIT:
        raise ValueError(f"{packed!r} is longer than {PAYLOAD_LIMIT} bytes")
    return packed


def _decode(kind: type[ButtonData], parts: list[str]) -> ButtonData:
    rules = _rules(kind)
    if len(parts) != len(rules):
        raise MalformedButton("wrong number of fields")
    return kind(**{name: rule.decode(part) for (name, rule), part in zip(rules, parts, strict=True)})


def _rules(kind: type[ButtonData]) -> tuple[tuple[str, Rule], ...]:
    """Each field's name and rule, read once from its annotation."""
    if kind not in _RULES:
        hints = get_type_hints(kind, include_extras=True)
        _RULES[kind] = tuple((field.name, _rule(kind, hints[field.name])) for field in fields(kind))  # type: ignore[arg-type]
    return _RULES[kind]


def _rule(kind: type[ButtonData], hint: Any) -> Rule:
    if get_origin(hint) is Literal:
        return OneOf(tuple(get_args(hint)))
    if get_origin(hint) is Annotated:
        rule = next((extra for extra in hint.__metadata__ if isinstance(extra, Ranged | OneOf | Word)), None)
        if rule is not None:
            return rule
    raise TypeError(f"{kind.__name__}: a field must be Literal or annotated with a rule, not {hint}")


def every_kind() -> list[type[ButtonData]]:
    """Every payload class, for the routing table's completeness check and the tests."""
    return list(_BY_PREFIX.values())


# --------------------------------------------------------------------------- menus, language, dialogs


@dataclass(frozen=True)
class OpenCommand(ButtonData):
    """A menu button that runs a command: "cmd:campaigns"."""

    PREFIX = "cmd"
    command: Key


@dataclass(frozen=True)
class ChooseLanguage(ButtonData):
    """lang:vi, lang:en."""

    PREFIX = "lang"
    language: Language


@dataclass(frozen=True)
class SwitchReminders(ButtonData):
    """pref:on, pref:off."""

    PREFIX = "pref"
    state: Literal["on", "off"]


@dataclass(frozen=True)
class ChooseChannel(ButtonData):
    """reach:telegram — the channel a member on several is reached on; reach:last — the one used last."""

    PREFIX = "reach"
    channel: Key


@dataclass(frozen=True)
class ChooseQuietHours(ButtonData):
    """pref:quiet:START:END, minutes after midnight."""

    PREFIX = "pref:quiet"
    start: Minute
    end: Minute


@dataclass(frozen=True)
class DialogControl(ButtonData):
    """The Back and Cancel buttons of every form."""

    PREFIX = "dlg"
    action: Literal["back", "cancel"]


# --------------------------------------------------------------------------- onboarding


@dataclass(frozen=True)
class JoinStep(ButtonData):
    """join:begin, join:send."""

    PREFIX = "join"
    action: Literal["begin", "send"]


@dataclass(frozen=True)
class JoinUnit(ButtonData):
    """A unit picked from the search results of a join request."""

    PREFIX = "join:unit"
    unit: Id


# --------------------------------------------------------------------------- campaigns


@dataclass(frozen=True)
class ViewCampaign(ButtonData):
    """A campaign's page."""

    PREFIX = "camp:view"
    campaign: Id


@dataclass(frozen=True)
class CloseCampaign(ButtonData):
    """Ask to confirm closing a campaign."""

    PREFIX = "camp:close"
    campaign: Id


@dataclass(frozen=True)
class ConfirmClose(ButtonData):
    """Close it."""

    PREFIX = "camp:closeyes"
    campaign: Id


@dataclass(frozen=True)
class UnitTargets(ButtonData):
    """Give the units below a campaign's own their initiative targets."""

    PREFIX = "camp:targets"
    campaign: Id


@dataclass(frozen=True)
class SplitUnitTargets(ButtonData):
    """Split the campaign's target among the units directly below by roster size."""

    PREFIX = "camp:split"
    campaign: Id


@dataclass(frozen=True)
class LaunchPreview(ButtonData):
    """A draft's launch preview."""

    PREFIX = "launch:show"
    campaign: Id


@dataclass(frozen=True)
class LaunchGo(ButtonData):
    """Launch it."""

    PREFIX = "launch:go"
    campaign: Id


@dataclass(frozen=True)
class Dismiss(ButtonData):
    """The Cancel button of a launch or close confirmation."""

    PREFIX = "launch:no"


@dataclass(frozen=True)
class NewCampaignStep(ButtonData):
    """The /newcampaign form's done, skip, edit and save; the preview's units' targets and their split."""

    PREFIX = "nc"
    action: Literal["done", "skip", "edit", "save", "targets", "split"]


@dataclass(frozen=True)
class NewCampaignKind(ButtonData):
    """Ongoing or peak."""

    PREFIX = "nc:kind"
    kind: Annotated[str, OneOf(KINDS)]


@dataclass(frozen=True)
class NewCampaignUnit(ButtonData):
    """The owning unit, among those the officer leads."""

    PREFIX = "nc:unit"
    unit: Id


@dataclass(frozen=True)
class NewCampaignTitle(ButtonData):
    """A title switched on or off."""

    PREFIX = "nc:title"
    title: TitleCode


@dataclass(frozen=True)
class NewCampaignGoto(ButtonData):
    """The field to edit from the preview."""

    PREFIX = "nc:goto"
    step: Key


# --------------------------------------------------------------------------- registrations


@dataclass(frozen=True)
class Register(ButtonData):
    """Register for a campaign (or change one's registration)."""

    PREFIX = "reg:start"
    campaign: Id


@dataclass(frozen=True)
class WithdrawRegistration(ButtonData):
    """Withdraw one's registration."""

    PREFIX = "reg:withdraw"
    campaign: Id


@dataclass(frozen=True)
class ConfirmWithdrawal(ButtonData):
    """The answer to "withdraw your registration?": yes withdraws it, no keeps it."""

    PREFIX = "reg:unreg"
    campaign: Id
    answer: Literal["yes", "no"]


@dataclass(frozen=True)
class RegisterStep(ButtonData):
    """The registration forms' done, skip (go on with the pledges as they are), clear (no pledges) and
    confirm."""

    PREFIX = "reg"
    action: Literal["done", "skip", "clear", "confirm"]


@dataclass(frozen=True)
class RegisterTitle(ButtonData):
    """A title switched on or off."""

    PREFIX = "reg:title"
    title: TitleCode


@dataclass(frozen=True)
class RegisterUnit(ButtonData):
    """The unit a collective registration is for."""

    PREFIX = "reg:unit"
    unit: Id


@dataclass(frozen=True)
class CollectiveStart(ButtonData):
    """An officer registers a collective for a campaign."""

    PREFIX = "coll:start"
    campaign: Id


# --------------------------------------------------------------------------- initiatives


@dataclass(frozen=True)
class InitiativeStep(ButtonData):
    """The initiative form's new, skip and edit; at the co-authors step, keep them or have none."""

    PREFIX = "ini"
    action: Literal["new", "skip", "edit", "keep", "alone"]


@dataclass(frozen=True)
class ResumeInitiative(ButtonData):
    """Continue a draft where it was left."""

    PREFIX = "ini:resume"
    initiative: Id


@dataclass(frozen=True)
class OpenInitiative(ButtonData):
    """Edit an initiative from its page."""

    PREFIX = "ini:open"
    initiative: Id


@dataclass(frozen=True)
class InitiativeField(ButtonData):
    """A common field of application."""

    PREFIX = "ini:field"
    field: Annotated[str, OneOf(COMMON_FIELDS)]


@dataclass(frozen=True)
class InitiativeCampaign(ButtonData):
    """The campaign the initiative counts for; 0 for none."""

    PREFIX = "ini:campaign"
    campaign: IdOrNone


@dataclass(frozen=True)
class InitiativeGoto(ButtonData):
    """The part to edit from the preview."""

    PREFIX = "ini:goto"
    part: Key


@dataclass(frozen=True)
class SubmitInitiative(ButtonData):
    """Submit the version previewed."""

    PREFIX = "ini:submit"
    version: Version


@dataclass(frozen=True)
class SubmitDespiteSimilar(ButtonData):
    """Submit although similar titles exist."""

    PREFIX = "ini:confirm"
    version: Version


@dataclass(frozen=True)
class ViewInitiative(ButtonData):
    """An initiative's page for its author."""

    PREFIX = "idea:view"
    initiative: Id


@dataclass(frozen=True)
class WithdrawInitiative(ButtonData):
    """Withdraw the version shown."""

    PREFIX = "idea:withdraw"
    initiative: Id
    version: Version


# --------------------------------------------------------------------------- review


@dataclass(frozen=True)
class ReviewStep(ButtonData):
    """A council action on the version of an initiative that was shown."""

    PREFIX = "rv"
    action: Annotated[str, OneOf(tuple(REVIEW_ACTIONS))]
    initiative: Id
    version: Version


@dataclass(frozen=True)
class ReviewNext(ButtonData):
    """The next initiative in the queue after this one."""

    PREFIX = "rv:next"
    after: Id


@dataclass(frozen=True)
class ReviewPoint(ButtonData):
    """A score on the current criterion."""

    PREFIX = "rv:pt"
    point: Point


@dataclass(frozen=True)
class ReviewSkipNote(ButtonData):
    """No note for an action where one is optional."""

    PREFIX = "rv:skipnote"


# --------------------------------------------------------------------------- officers' other tools


@dataclass(frozen=True)
class DecideJoinRequest(ButtonData):
    """Approve or reject a join request."""

    PREFIX = "jr"
    decision: Literal["approve", "reject"]
    request: Id


@dataclass(frozen=True)
class InviteUnit(ButtonData):
    """The unit an invitation link is for."""

    PREFIX = "inv"
    unit: Id


@dataclass(frozen=True)
class CodesUnit(ButtonData):
    """The unit whose members' link codes an officer prints."""

    PREFIX = "codes"
    unit: Id


@dataclass(frozen=True)
class PickInsight(ButtonData):
    """The campaign for /stats, /export or /report."""

    PREFIX = "st"
    report: Literal["stats", "export", "report"]
    campaign: Id


@dataclass(frozen=True)
class AnnounceStep(ButtonData):
    """ann:new (a reminder), ann:units (send to another unit than the one offered) and ann:go (confirm the
    preview)."""

    PREFIX = "ann"
    action: Literal["new", "units", "go"]


@dataclass(frozen=True)
class CancelReminder(ButtonData):
    """Cancel one's planned reminder."""

    PREFIX = "ann:cancel"
    rule: Id


@dataclass(frozen=True)
class AnnounceUnit(ButtonData):
    """The unit a broadcast or reminder goes to."""

    PREFIX = "ann:unit"
    unit: Id


@dataclass(frozen=True)
class AudienceEveryone(ButtonData):
    """Everyone of the unit's subtree."""

    PREFIX = "ann:aud:everyone"


@dataclass(frozen=True)
class AudienceOfCampaign(ButtonData):
    """The unregistered or the registered of a campaign."""

    PREFIX = "ann:aud"
    audience: Literal["unregistered", "registered"]
    campaign: Id


@dataclass(frozen=True)
class CalendarList(ButtonData):
    """The union calendar from /remind."""

    PREFIX = "cal:list"


@dataclass(frozen=True)
class CalendarUnit(ButtonData):
    """The unit whose calendar to show."""

    PREFIX = "cal:u"
    unit: Id


@dataclass(frozen=True)
class CalendarSwitch(ButtonData):
    """Switch an event's reminders on or off for a unit."""

    PREFIX = "cal:t"
    unit: Id
    event: Key


@dataclass(frozen=True)
class CalendarWords(ButtonData):
    """Put an event's reminder in the unit's own words."""

    PREFIX = "cal:w"
    unit: Id
    event: Key


@dataclass(frozen=True)
class CalendarStandardWords(ButtonData):
    """Go back to the standard text."""

    PREFIX = "cal:w:std"


# --------------------------------------------------------------------------- evaluation (bình xét)


@dataclass(frozen=True)
class AssessCampaign(ButtonData):
    """Self-assess one's registration for a campaign (a reminder's button)."""

    PREFIX = "as:camp"
    campaign: Id


@dataclass(frozen=True)
class AssessStart(ButtonData):
    """Begin or resume the self-assessment of a registration (one's own, or a collective's)."""

    PREFIX = "as:start"
    registration: Id


@dataclass(frozen=True)
class AssessPledge(ButtonData):
    """The current pledge reached or not."""

    PREFIX = "as:pl"
    reached: Literal["yes", "no"]


@dataclass(frozen=True)
class AssessClaim(ButtonData):
    """A pledge's answer that claims more than the figures: kept as given, or answered again."""

    PREFIX = "as:claim"
    action: Literal["keep", "change"]


@dataclass(frozen=True)
class AssessTitle(ButtonData):
    """A title still sought, switched on or off."""

    PREFIX = "as:title"
    title: TitleCode


@dataclass(frozen=True)
class AssessStep(ButtonData):
    """The self-assessment's done (titles chosen) and submit."""

    PREFIX = "as"
    action: Literal["done", "submit"]


@dataclass(frozen=True)
class EvalCampaign(ButtonData):
    """An officer's evaluation page for a campaign."""

    PREFIX = "ev:camp"
    campaign: Id


@dataclass(frozen=True)
class EvalOpen(ButtonData):
    """Set the day a campaign's evaluation opens."""

    PREFIX = "ev:open"
    campaign: Id


@dataclass(frozen=True)
class EvalTitle(ButtonData):
    """The candidates for one title."""

    PREFIX = "ev:title"
    campaign: Id
    title: TitleCode


@dataclass(frozen=True)
class EvalCandidate(ButtonData):
    """One candidate's card for one title."""

    PREFIX = "ev:cand"
    registration: Id
    title: TitleCode


@dataclass(frozen=True)
class EvalDecide(ButtonData):
    """Reached or not, on the version of the candidate's self-assessment that was shown (the title by its
    place in ``ALL_TITLES``, to stay within 64 bytes)."""

    PREFIX = "ev:dec"
    registration: Id
    title: TitleIndex
    reached: Literal["y", "n"]
    version: Version


@dataclass(frozen=True)
class EvalSkipNote(ButtonData):
    """No note on a decision."""

    PREFIX = "ev:skipnote"


for _kind in every_kind():  # a field without a rule fails at import, not at the first press
    _rules(_kind)


# --------------------------------------------------------------------------- commendations


@dataclass(frozen=True)
class CommendCampaign(ButtonData):
    """The campaign whose commendation proposals an officer makes (/propose)."""

    PREFIX = "com:camp"
    campaign: Id


@dataclass(frozen=True)
class CommendKind(ButtonData):
    """Propose a member, a collective or an initiative for a commendation in a campaign."""

    PREFIX = "com:kind"
    campaign: Id
    kind: Literal["member", "collective", "initiative"]


@dataclass(frozen=True)
class CommendCandidate(ButtonData):
    """The member, unit or initiative proposed (of the kind the open proposal dialog asks for)."""

    PREFIX = "com:who"
    subject: Id


@dataclass(frozen=True)
class CommendForm(ButtonData):
    """The form proposed and the unit it goes to (0: there is none at the form's level)."""

    PREFIX = "com:form"
    form: Key
    granting: IdOrNone


@dataclass(frozen=True)
class CommendDecide(ButtonData):
    """Approve or return a proposal, as drawn for its version."""

    PREFIX = "com:dec"
    action: Literal["approve", "return"]
    proposal: Id
    version: Version


@dataclass(frozen=True)
class CommendOpen(ButtonData):
    """A proposal's card, opened from the notice that it arrived."""

    PREFIX = "com:open"
    proposal: Id


@dataclass(frozen=True)
class CommendNext(ButtonData):
    """The next proposal waiting after this one."""

    PREFIX = "com:next"
    after: Id
