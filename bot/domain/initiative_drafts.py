"""An initiative's application while its author fills it: the draft, its answers, its co-authors and its
attached files. Limits are checked here and returned as Problem values; the form (handlers/initiative_form.py)
asks the questions and words the answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.initiatives import MAX_ATTACHMENTS, MAX_FILE_BYTES
from bot.domain.problems import Problem
from storage.database import Repos
from storage.records import Campaign, CoAuthor, Initiative, Member, Unit

MEGABYTE = 1024 * 1024


@dataclass(frozen=True, slots=True)
class SentFile:
    """A file the author sent, as the channel keeps it."""

    channel: str
    file_id: str
    is_photo: bool
    file_name: str | None
    size: int | None


async def start_draft(
    repos: Repos, author: Member, unit: Unit, campaign: Campaign | None, now: datetime
) -> int:
    """A new empty application by ``author`` of ``unit``, counting for ``campaign`` when already known."""
    return await repos.initiatives.create_draft(
        author_member_id=author.id,
        unit_id=unit.id,
        campaign_id=campaign.id if campaign else None,
        now=now,
    )


async def save_answers(repos: Repos, initiative: Initiative, now: datetime, **answers: object) -> None:
    """Keep the answers to the form's plain fields (title, problem, value...), checked by the caller."""
    await repos.initiatives.update_fields(initiative.id, dict(answers), now)


async def set_authors(
    repos: Repos, initiative: Initiative, author_share: int, coauthors: Sequence[CoAuthor], now: datetime
) -> None:
    """The author's share and the co-authors in the order given (none: the author worked alone)."""
    await repos.initiatives.set_coauthors(initiative.id, author_share, list(coauthors), now)


async def attach(repos: Repos, initiative: Initiative, sent: SentFile, now: datetime) -> int | Problem:
    """Attach one file; the number attached now, or why it cannot be (too big, too many)."""
    if sent.size is not None and sent.size > MAX_FILE_BYTES:
        return Problem("attachment", "file_too_big", {"high": MAX_FILE_BYTES // MEGABYTE})
    attached = len(await repos.initiatives.attachments(initiative.id))
    if attached >= MAX_ATTACHMENTS:
        return Problem("attachment", "files_too_many", {"high": MAX_ATTACHMENTS})
    await repos.initiatives.add_attachment(
        initiative.id,
        channel=sent.channel,
        file_id=sent.file_id,
        kind="photo" if sent.is_photo else "document",
        file_name=sent.file_name,
        size=sent.size,
        now=now,
    )
    return attached + 1
