"""Initiatives (sáng kiến): drafts kept step by step, the checks before submission, the council's review as
a state machine with history, similar-title warnings, and co-authors' shares. Problems are values.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from datetime import date, datetime

from bot.domain.onboarding import normalize_name
from bot.domain.problems import Problem
from bot.domain.vn.parsing import ParseError, parse_share
from bot.domain.vn.textkeys import search_key
from bot.engine.access import Identity
from storage.database import Repos
from storage.records import Campaign, CoAuthor, Initiative, TitleOf

COMMON_FIELDS = ("technical", "management", "operational", "tech_advance")
CRITERIA = ("novelty", "applicability", "effect")
TEXT_FIELDS = ("title", "field", "problem", "before", "steps", "improvement", "conditions", "benefit")
TITLE_LENGTH = (5, 255)
FIELD_MAX = 255
TEXT_MAX = 3000
MAX_COAUTHORS = 10
MAX_ATTACHMENTS = 10
MAX_FILE_BYTES = 20 * 1024 * 1024  # what a Telegram bot may download
SIMILARITY = 0.85  # SequenceMatcher ratio of diacritics-free titles above which we warn

# Who may move an initiative from which states, to which.
AUTHOR_EDITABLE = ("draft", "submitted", "revision")
REVIEW_ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "valid": (("submitted",), "valid"),
    "invalid": (("submitted",), "invalid"),
    "revision": (("submitted", "valid"), "revision"),
    "score": (("valid",), "valid"),
    "recognise": (("valid",), "recognised"),
    "not_recognise": (("valid",), "not_recognised"),
}
NOTE_REQUIRED = ("invalid", "revision")
WITHDRAWABLE = ("draft", "submitted", "revision", "valid")
_COAUTHOR_LINE = re.compile(r"^(?P<name>.+?)\s*[;,:|–-]?\s*(?P<share>\d{1,3})\s*%?$")


def check_text(name: str, value: str) -> Problem | None:
    """A field's text within its limits: titles 5–255 characters, a field of application 255, others 3,000."""
    if name == "title":
        low, high = TITLE_LENGTH
    else:
        low, high = 1, FIELD_MAX if name == "field" else TEXT_MAX
    if low <= len(value) <= high:
        return None
    return Problem(name, "text_length", {"low": low, "high": high})


def check_first_applied(day: date, today: date) -> Problem | None:
    """The first (trial) application cannot lie in the future."""
    return Problem("first_applied_on", "first_applied_future", {"day": day}) if day > today else None


def parse_coauthors(text: str) -> list[CoAuthor] | Problem:
    """Co-authors typed one per line as "Full name; 30" (the share in percent), each name written as the
    roster writes names ("nguyễn văn an" becomes "Nguyễn Văn An")."""
    coauthors = []
    for number, line in enumerate((line.strip(" •-\t") for line in text.splitlines()), 1):
        if not line:
            continue
        match = _COAUTHOR_LINE.match(line)
        share = parse_share(match["share"]) if match else None
        if match is None or isinstance(share, ParseError) or share is None or len(match["name"]) < 4:
            return Problem("coauthors", "coauthor_format", {"line": number})
        coauthors.append(CoAuthor(normalize_name(match["name"]), share))  # as the roster writes names
    if len(coauthors) > MAX_COAUTHORS:
        return Problem("coauthors", "coauthors_too_many", {"high": MAX_COAUTHORS})
    return coauthors


def check_shares(author_share: int, coauthors: list[CoAuthor] | tuple[CoAuthor, ...]) -> Problem | None:
    """Every author's share, the submitter's included, must add up to 100%."""
    total = author_share + sum(coauthor.share for coauthor in coauthors)
    return None if total == 100 else Problem("coauthors", "shares_sum", {"total": total})


def accepting(campaigns: list[Campaign], today: date, *, drafts: bool = True) -> list[Campaign]:
    """The campaigns an initiative can count for today: those that set an initiative target or deadline,
    until that deadline (or, without one, until the campaign ends). A draft may count for one that has not
    started yet, to be sent once it opens; an initiative already sent (``drafts`` False) only for one open
    now."""
    return [
        campaign
        for campaign in campaigns
        if (campaign.initiative_target or campaign.initiative_deadline)
        and today <= (campaign.initiative_deadline or campaign.ends_on)
        and (drafts or campaign.starts_on <= today)
    ]


def closed_to(campaign: Campaign, today: date) -> Problem | None:
    """Why an initiative cannot be sent to ``campaign`` today: its initiative deadline (or end) has passed,
    or it has not started yet (said with the day it opens); None while it takes initiatives."""
    if not accepting([campaign], today):
        deadline = campaign.initiative_deadline or campaign.ends_on
        return Problem("campaign", "initiatives_closed", {"title": campaign.title, "deadline": deadline})
    if today < campaign.starts_on:
        return Problem(
            "campaign", "initiatives_not_open", {"title": campaign.title, "start": campaign.starts_on}
        )
    return None


def missing(initiative: Initiative) -> list[str]:
    """The parts an application still lacks before it can be submitted, in form order."""
    absent = [name for name in TEXT_FIELDS if not getattr(initiative, name)]
    if initiative.first_applied_on is None:
        absent.insert(TEXT_FIELDS.index("conditions"), "first_applied_on")
    return absent


def score_figures(scores: dict[str, int]) -> str:
    """The council's scores in criterion order, the way they are said: "8/7/9"."""
    return "/".join(str(scores[name]) for name in CRITERIA if name in scores)


def is_similar(title_key: str, other_key: str) -> bool:
    """Two diacritics-free titles very close to each other (the cheap upper bounds are tried first)."""
    matcher = difflib.SequenceMatcher(None, title_key, other_key)
    return (
        matcher.real_quick_ratio() >= SIMILARITY
        and matcher.quick_ratio() >= SIMILARITY
        and matcher.ratio() >= SIMILARITY
    )


def similar_key_lengths(title_key: str) -> tuple[int, int]:
    """The lengths a key can have and still be similar to ``title_key``: a ratio is at most twice the
    shorter length over the sum of both."""
    length, slack = len(title_key), (2 - SIMILARITY) / SIMILARITY
    return math.floor(length / slack), math.ceil(length * slack)  # rounded outwards: never one too few


def similar_titles(title_key: str, candidates: list[tuple[int, str, str]]) -> list[tuple[int, str]]:
    """(id, title) of the candidates whose diacritics-free title is very close to ``title_key``."""
    return [(candidate_id, title) for candidate_id, title, key in candidates if is_similar(title_key, key)]


async def similar_recognised(repos: Repos, who: Identity, initiative: Initiative) -> list[TitleOf]:
    """Recognised initiatives, in the reviewer's subtrees and any campaign, whose title is very close to
    this one's: the council should know before recognising the same idea twice."""
    key = search_key(initiative.title)
    lengths = similar_key_lengths(key)
    candidates = await repos.initiatives.recognised_titles(who.led_paths, initiative.id, lengths)
    return [found for found in candidates if is_similar(key, found.title_key)]


async def submit(
    repos: Repos, initiative: Initiative, actor: str, now: datetime, today: date
) -> Problem | None:
    """Send a complete draft (or a revised initiative) to the council. A draft counting for a campaign goes
    only while that campaign takes initiatives, from its start to its deadline; a revision the council asked
    for goes whenever it is ready."""
    absent = missing(initiative)
    if absent:
        return Problem("initiative", "incomplete", {"parts": ", ".join(absent)})
    campaign = await repos.campaigns.get(initiative.campaign_id) if initiative.campaign_id else None
    for problem in (
        closed_to(campaign, today) if initiative.status == "draft" and campaign is not None else None,
        check_first_applied(initiative.first_applied_on, today) if initiative.first_applied_on else None,
        check_shares(initiative.author_share, initiative.coauthors),
    ):
        if problem is not None:
            return problem
    if not await repos.initiatives.move(
        initiative.id,
        version=initiative.version,
        from_statuses=("draft", "revision"),
        to_status="submitted",
        actor=actor,
        note="",
        now=now,
    ):
        return Problem("initiative", "changed_since", {"title": initiative.title})
    return None


async def withdraw(repos: Repos, initiative: Initiative, actor: str, now: datetime) -> Problem | None:
    """The author takes the initiative back; it stays stored, marked withdrawn."""
    if initiative.status not in WITHDRAWABLE or not await repos.initiatives.move(
        initiative.id,
        version=initiative.version,
        from_statuses=WITHDRAWABLE,
        to_status="withdrawn",
        actor=actor,
        note="",
        now=now,
    ):
        return Problem("initiative", "changed_since", {"title": initiative.title})
    return None


def review_refusal(initiative: Initiative, action: str, version: int) -> Problem | None:
    """Why the council cannot take ``action`` now, known from the initiative alone: checked when the button is
    pressed, before a note is asked for, and again when the step is applied."""
    from_statuses, _ = REVIEW_ACTIONS[action]
    if initiative.version != version or initiative.status not in from_statuses:
        return Problem("initiative", "changed_since", {"title": initiative.title})
    if action == "recognise" and set(initiative.scores) != set(CRITERIA):
        return Problem("scores", "scores_first")
    return None


@dataclass(frozen=True, slots=True)
class Reviewed:
    """A review step that went through: the new status."""

    status: str


async def review(
    repos: Repos,
    who: Identity,
    initiative: Initiative,
    action: str,
    *,
    version: int,
    note: str = "",
    scores: dict[str, int] | None = None,
    scale: int,
    now: datetime,
) -> Reviewed | Problem:
    """One council action on an initiative of the reviewer's subtree, refused if it changed meanwhile."""
    unit = await repos.units.get(initiative.unit_id)
    assert unit is not None
    if not who.covers(unit):
        return Problem("initiative", "review_out_of_scope", {"title": initiative.title})
    if who.member is not None and who.member.id == initiative.author_member_id:
        return Problem("initiative", "review_own", {"title": initiative.title})
    from_statuses, to_status = REVIEW_ACTIONS[action]
    refusal = review_refusal(initiative, action, version)
    if refusal is not None:
        return refusal
    if action in NOTE_REQUIRED and not note.strip():
        return Problem("note", "note_required")
    if action == "score" and (
        scores is None or set(scores) != set(CRITERIA) or not all(1 <= v <= scale for v in scores.values())
    ):
        return Problem("scores", "scores_range", {"high": scale})
    if action == "revision":
        scores = {}  # the revised text is scored afresh
    if not await repos.initiatives.move(
        initiative.id,
        version=version,
        from_statuses=from_statuses,
        to_status=to_status,
        actor=who.actor,
        note=note.strip(),
        now=now,
        scores=scores,
        event="scored" if action == "score" else "moved",
    ):
        return Problem("initiative", "changed_since", {"title": initiative.title})
    return Reviewed(to_status)
