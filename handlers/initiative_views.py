"""How an initiative reads in the chat: every part of the application, its co-authors, scores and history."""

from __future__ import annotations

from bot.domain.initiatives import CRITERIA, score_figures
from bot.domain.records import Attachment, HistoryEntry, Initiative
from bot.engine.context import Ctx
from bot.engine.events import FileOut
from messages import Html, formatting


def initiative_name(ctx: Ctx, title: str | None) -> Html:
    """An initiative named in a sentence: «its name», or the words for a draft with none yet, the same in
    every message."""
    return ctx.t("initiative.named", title=title) if title else ctx.t("initiative.untitled")


def say_attachments(ctx: Ctx, initiative: Initiative, attachments: list[Attachment]) -> None:
    """Send an initiative's attached files again, one message each, captioned with its title; say how many
    more there are where they cannot be sent: the channel sends no files, or holds no such file id."""
    files_out = ctx.channel.capabilities.files_out
    sent = [attachment for attachment in attachments if files_out and attachment.channel == ctx.channel.name]
    if len(sent) < len(attachments):
        left = len(attachments) - len(sent)
        ctx.say(ctx.t("initiative.attachments_not_shown", title=initiative.title, count=left))
    for attachment in sent:
        ctx.say(
            ctx.t("initiative.attachment_caption", title=initiative.title),
            file=FileOut(
                attachment.file_name or "file",
                is_photo=attachment.kind == "photo",
                file_id=attachment.file_id,
            ),
        )


async def initiative_details(ctx: Ctx, initiative: Initiative, attachments: list[Attachment]) -> Html:
    """The whole application as the author and the council read it."""
    member = await ctx.repos.members.get(initiative.author_member_id)
    campaign = await ctx.repos.campaigns.get(initiative.campaign_id) if initiative.campaign_id else None
    empty = ctx.t("initiative.empty")
    authors = [
        ctx.t(
            "initiative.author_line", name=member.full_name if member else "?", share=initiative.author_share
        )
    ]
    authors += [ctx.t("initiative.author_line", name=c.name, share=c.share) for c in initiative.coauthors]
    lines = [
        ctx.t(
            "initiative.details_head",
            title=initiative.title or ctx.t("initiative.untitled"),
            status=ctx.t(f"initiative.status_{initiative.status}"),
        ),
        ctx.t(
            "initiative.details_campaign",
            campaign=campaign.title if campaign else ctx.t("initiative.no_campaign"),
        ),
        ctx.t("initiative.details_authors", authors=Html(", ".join(authors))),
        ctx.t("initiative.details_field", field=initiative.field or empty),
        ctx.t("initiative.details_problem", problem=initiative.problem or empty),
        ctx.t("initiative.details_before", before=initiative.before or empty),
        ctx.t("initiative.details_steps", steps=initiative.steps or empty),
        ctx.t("initiative.details_improvement", improvement=initiative.improvement or empty),
        ctx.t(
            "initiative.details_first_applied",
            day=formatting.day(initiative.first_applied_on) if initiative.first_applied_on else empty,
        ),
        ctx.t("initiative.details_conditions", conditions=initiative.conditions or empty),
        ctx.t(
            "initiative.details_benefit",
            benefit=initiative.benefit or empty,
            value=formatting.money(initiative.value_dong, ctx.lang)
            if initiative.value_dong is not None
            else empty,
        ),
    ]
    if attachments:
        lines.append(ctx.t("initiative.details_files", count=len(attachments)))
    if initiative.scores:
        lines.append(scores_line(ctx, initiative.scores))
    return Html("\n".join(lines))


def scores_line(ctx: Ctx, scores: dict[str, int]) -> Html:
    """The council's scores, criterion by criterion, with the total."""
    parts = ", ".join(
        f"{ctx.t(f'initiative.criterion_{name}')} {scores[name]}" for name in CRITERIA if name in scores
    )
    return ctx.t("initiative.details_scores", scores=parts, total=sum(scores.values()))


async def _actor_name(ctx: Ctx, actor: str) -> str:
    """Who took a step: the member or account behind a chat actor (``channel:user_id``); a step written by
    the command line or a seed (``cli``, ``demo``) is said to be recorded outside the chat."""
    channel, _, user_id = actor.partition(":")
    account = await ctx.repos.accounts.get(channel, user_id) if user_id else None
    if account is None:
        return ctx.t("initiative.actor_outside_chat") if not user_id else actor
    member = await ctx.repos.members.get(account.member_id) if account.member_id else None
    return member.full_name if member else account.display_name


def _event(ctx: Ctx, entry: HistoryEntry) -> Html:
    """What happened: the status it moved to, or the scores the council gave."""
    if entry.event != "scored":
        return ctx.t(f"initiative.status_{entry.to_status}")
    if not entry.scores:  # scored before scores were kept in the history
        return ctx.t("initiative.history_scored_unknown")
    return ctx.t(
        "initiative.history_scored", scores=score_figures(entry.scores), total=sum(entry.scores.values())
    )


async def history_lines(ctx: Ctx, history: list[HistoryEntry]) -> Html:
    """Who did what to the initiative and when (moved it, scored it), and what they noted."""
    lines = [ctx.t("initiative.history_head")]
    for entry in history:
        note = ctx.t("initiative.history_note", note=entry.note) if entry.note else ""
        lines.append(
            ctx.t(
                "initiative.history_line",
                at=formatting.moment(entry.at, ctx.lang, ctx.settings.zone),
                who=await _actor_name(ctx, entry.actor),
                to=_event(ctx, entry),
                note=note,
            )
        )
    return Html("\n".join(lines))
