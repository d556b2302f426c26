"""A member's own initiatives: their pages with status, the council's notes and history; edit and withdraw."""

from __future__ import annotations

from bot.domain import initiatives as domain
from bot.domain.problems import Problem
from bot.engine.buttons import OpenInitiative, ViewInitiative, WithdrawInitiative
from bot.engine.context import Ctx
from bot.engine.events import Button
from handlers.campaign_views import problem_text
from handlers.common import stale_button
from handlers.initiative_views import history_lines, initiative_details, say_attachments
from messages import Html

LIST_LIMIT = 15


async def initiatives_section(ctx: Ctx) -> tuple[list[Html], list[list[Button]]]:
    """Lines and buttons for /my: the member's initiatives with their status."""
    assert ctx.who.member is not None
    found = await ctx.repos.initiatives.of_member(ctx.who.member.id)
    if not found:
        return [], []
    lines, rows = [ctx.t("initiative.my_head")], []
    shown = found[:LIST_LIMIT]
    notes = await ctx.repos.initiatives.last_notes([initiative.id for initiative in shown])
    for initiative in shown:
        title = initiative.title or ctx.t("initiative.untitled")
        status = ctx.t(f"initiative.status_{initiative.status}")
        line = ctx.t("initiative.my_line", title=title, status=status)
        if initiative.id in notes:  # under its initiative, not a paragraph of its own between two of them
            line = Html(line + "\n" + ctx.t("initiative.my_note", note=notes[initiative.id]))
        lines.append(line)
        rows.append([Button("💡 " + title, ViewInitiative(initiative.id).pack())])
    return lines, rows


async def show(ctx: Ctx, pressed: ViewInitiative) -> None:
    """An initiative's page for its author: all parts, history, and what can be done."""
    initiative = await ctx.repos.initiatives.get(pressed.initiative)
    member = ctx.who.member
    if initiative is None or member is None or initiative.author_member_id != member.id:
        await stale_button(ctx)
        return
    attachments = await ctx.repos.initiatives.attachments(initiative.id)
    body = await initiative_details(ctx, initiative, attachments)
    history = await ctx.repos.initiatives.history(initiative.id)
    if history:
        body = Html(body + "\n\n" + await history_lines(ctx, history))
    rows = []
    if initiative.status in domain.AUTHOR_EDITABLE:
        rows.append([ctx.button("initiative.edit_button", OpenInitiative(initiative.id))])
    if initiative.status in domain.WITHDRAWABLE:
        rows.append(
            [ctx.button("initiative.withdraw_button", WithdrawInitiative(initiative.id, initiative.version))]
        )
    ctx.say(body, rows)
    say_attachments(ctx, initiative, attachments)


async def withdraw(ctx: Ctx, pressed: WithdrawInitiative) -> None:
    """Withdraw one's initiative (it stays stored, marked withdrawn)."""
    initiative = await ctx.repos.initiatives.get(pressed.initiative)
    member = ctx.who.member
    if initiative is None or member is None or initiative.author_member_id != member.id:
        await stale_button(ctx)
        return
    if pressed.version != initiative.version:
        ctx.say(problem_text(ctx, Problem("initiative", "changed_since", {"title": initiative.title})))
        return
    problem = await domain.withdraw(ctx.repos, initiative, ctx.who.actor, ctx.now)
    ctx.say(problem_text(ctx, problem) if problem else ctx.t("initiative.withdrawn", title=initiative.title))
