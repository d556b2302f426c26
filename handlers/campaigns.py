"""Campaign lists and pages: /campaigns for members (with their own status) and officers (with counts),
a campaign's page with its buttons, /launch, closing, and /broadcasts with delivery progress.
"""

from __future__ import annotations

from bot import campaigns as domain
from bot.events import Button
from bot.insights import covered_scopes
from bot.reminders import plan_campaign_reminders
from handlers.campaign_views import announcement, campaign_details, days_left_text, problem_text, title_names
from handlers.common import stale_button
from handlers.context import Ctx
from handlers.progress import progress_text
from messages import LANGUAGES, Html, formatting
from storage.records import Campaign, Registration, Unit

LIST_LIMIT = 15


async def _load(ctx: Ctx, raw_id: str) -> tuple[Campaign, Unit] | None:
    campaign = await ctx.repos.campaigns.get(int(raw_id)) if raw_id.isdigit() else None
    if campaign is None:
        return None
    unit = await ctx.repos.units.get(campaign.unit_id)
    assert unit is not None
    return campaign, unit


async def list_campaigns(ctx: Ctx) -> None:
    """The campaigns that concern the member, then (for officers) those they run, with counts."""
    said = False
    if ctx.who.member is not None and ctx.who.unit is not None:
        said = await _member_list(ctx, ctx.who.unit)
    if ctx.who.is_officer:
        said = await _officer_list(ctx) or said
    if not said:
        ctx.say(ctx.t("campaigns.none"))


async def _member_list(ctx: Ctx, unit: Unit) -> bool:
    assert ctx.who.member is not None
    found = await domain.open_for(ctx.repos, unit)
    if not found:
        return False
    lines, rows = [ctx.t("campaigns.member_head")], []
    for campaign in found[:LIST_LIMIT]:
        registration = await ctx.repos.registrations.of_member(campaign.id, ctx.who.member.id)
        status = registration.status if registration else "none"
        lines.append(
            ctx.t(
                "campaigns.member_line",
                title=campaign.title,
                code=campaign.code,
                deadline=formatting.day(campaign.registration_deadline),
                left=days_left_text(ctx.lang, campaign.registration_deadline, ctx.today),
                status=ctx.t(f"campaigns.status_{status}"),
            )
        )
        rows.append([Button(campaign.title, f"camp:view:{campaign.id}")])
    ctx.say("\n\n".join(lines), rows)
    return True


async def _officer_list(ctx: Ctx) -> bool:
    found = await ctx.repos.campaigns.within(ctx.who.led_paths, ("draft", "launched"))
    if not found:
        return False
    lines, rows = [ctx.t("campaigns.officer_head")], []
    for campaign in found[:LIST_LIMIT]:
        lines.append(await _officer_line(ctx, campaign))
        rows.append([Button(campaign.title, f"camp:view:{campaign.id}")])
    ctx.say("\n\n".join(lines), rows)
    return True


async def _officer_line(ctx: Ctx, campaign: Campaign) -> Html:
    if campaign.status == "draft":
        return ctx.t("campaigns.officer_draft", title=campaign.title, code=campaign.code)
    registered = linked = roster = 0
    owner = await ctx.repos.units.get(campaign.unit_id)
    assert owner is not None
    for scope in covered_scopes(owner, ctx.who.led_units):  # only what the officer covers
        registered += await ctx.repos.registrations.count_members_within(campaign.id, scope.path)
        linked += await ctx.repos.members.count_linked_within(scope.path)
        roster += await ctx.repos.members.count_within(scope.path)
    number = formatting.number
    return ctx.t(
        "campaigns.officer_launched",
        title=campaign.title,
        code=campaign.code,
        registered=number(registered, ctx.lang),
        linked=number(linked, ctx.lang),
        roster=number(roster, ctx.lang),
        percent=formatting.percent(registered, roster),
    )


async def show(ctx: Ctx) -> None:
    """A campaign's page: everything about it, and what this person can do with it."""
    args = ctx.payload_args
    loaded = await _load(ctx, args[1]) if len(args) == 2 and args[0] == "view" else None
    if loaded is None:
        await stale_button(ctx)
        return
    campaign, unit = loaded
    leads = ctx.who.covers(unit)
    concerns_member = ctx.who.unit is not None and unit.covers(ctx.who.unit)
    if (
        campaign.status == "closed"
        or (campaign.status == "draft" and not leads)
        or not (leads or concerns_member)
    ):
        ctx.say(
            ctx.t(
                "problem.campaign_closed" if campaign.status == "closed" else "problem.not_yours",
                title=campaign.title,
            )
        )
        return
    body = campaign_details(ctx.lang, campaign, unit, ctx.today)
    progress = await progress_text(ctx, campaign, unit) if campaign.status != "draft" else None
    if progress is not None:
        body = Html(body + "\n\n" + progress)
    rows: list[list[Button]] = []
    if campaign.status == "launched" and concerns_member and ctx.who.member is not None:
        registration = await ctx.repos.registrations.of_member(campaign.id, ctx.who.member.id)
        if registration is not None and registration.status == "active":
            body = Html(body + "\n\n" + ctx.t("campaigns.you_registered"))
            rows.append(
                [
                    ctx.button("register.change_button", f"reg:start:{campaign.id}"),
                    ctx.button("register.withdraw_button", f"reg:withdraw:{campaign.id}"),
                ]
            )
        else:
            rows.append([ctx.button("register.register_button", f"reg:start:{campaign.id}")])
    if leads and campaign.status == "draft":
        rows.append([ctx.button("launch.button", f"launch:show:{campaign.id}")])
    if leads and campaign.status == "launched":
        collectives = await ctx.repos.registrations.collective_within(campaign.id, ctx.who.led_paths)
        if collectives:
            body = Html(body + "\n\n" + await _collective_lines(ctx, collectives))
        if campaign.collective_titles:
            rows.append([ctx.button("collective.button", f"coll:start:{campaign.id}")])
        rows.append([ctx.button("campaigns.close_button", f"camp:close:{campaign.id}")])
    ctx.say(body, rows)


async def _collective_lines(ctx: Ctx, collectives: list[Registration]) -> Html:
    lines = [ctx.t("campaigns.collective_head")]
    for registration in collectives:
        unit = await ctx.repos.units.get(registration.unit_id or 0)
        lines.append(
            ctx.t(
                "campaigns.collective_line",
                unit=unit.name if unit else "?",
                titles=title_names(ctx.lang, registration.titles),
            )
        )
    return Html("\n".join(lines))


async def launch(ctx: Ctx) -> None:
    """/launch CODE shows the preview to confirm; /launch alone lists the drafts to pick from."""
    if ctx.event.args:
        campaign = await ctx.repos.campaigns.by_code(ctx.event.args[0])
        if campaign is None:
            ctx.say(ctx.t("problem.code_unknown", code=ctx.event.args[0]))
            return
        await _launch_preview(ctx, campaign)
        return
    drafts = await ctx.repos.campaigns.within(ctx.who.led_paths, ("draft",))
    if not drafts:
        ctx.say(ctx.t("launch.no_drafts"))
        return
    ctx.say(ctx.t("launch.pick"), [[Button(c.title, f"launch:show:{c.id}")] for c in drafts[:LIST_LIMIT]])


async def _launch_preview(ctx: Ctx, campaign: Campaign) -> None:
    unit = await ctx.repos.units.get(campaign.unit_id)
    assert unit is not None
    if not ctx.who.covers(unit):
        ctx.say(ctx.t("problem.unit_out_of_scope", unit=unit.name))
        return
    if campaign.status != "draft":
        ctx.say(ctx.t("problem.not_draft", code=campaign.code))
        return
    audience = await ctx.repos.members.count_linked_within(unit.path)
    ctx.say(
        Html(
            ctx.t("launch.confirm", count=formatting.number(audience, ctx.lang))
            + "\n\n"
            + campaign_details(ctx.lang, campaign, unit, ctx.today)
        ),
        [
            [
                ctx.button("launch.go_button", f"launch:go:{campaign.id}"),
                ctx.button("dialog.cancel", "launch:no"),
            ]
        ],
    )


async def launch_button(ctx: Ctx) -> None:
    """Show the confirmation, or launch after it."""
    args = ctx.payload_args
    if args == ["no"]:
        ctx.say(ctx.t("dialog.cancelled"), replace=True)
        return
    loaded = await _load(ctx, args[1]) if len(args) == 2 else None
    if loaded is None:
        await stale_button(ctx)
        return
    campaign, unit = loaded
    if args[0] == "show":
        await _launch_preview(ctx, campaign)
        return
    if args[0] != "go":
        await stale_button(ctx)
        return
    result = await domain.launch(
        ctx.repos,
        ctx.who,
        campaign,
        announcement(campaign, unit, LANGUAGES, ctx.today),
        default_language=ctx.settings.language,
        now=ctx.now,
        today=ctx.today,
    )
    if isinstance(result, domain.Problem):
        ctx.say(problem_text(ctx, result))
        return
    await plan_campaign_reminders(ctx.repos, campaign, ctx.who.account.id, ctx.settings.zone, ctx.now)
    ctx.say(
        ctx.t("launch.done", title=campaign.title, count=formatting.number(result.queued, ctx.lang)),
        replace=True,
    )


async def close_button(ctx: Ctx) -> None:
    """Ask to confirm closing, then close."""
    args = ctx.payload_args
    loaded = await _load(ctx, args[1]) if len(args) >= 2 else None
    if loaded is None:
        await stale_button(ctx)
        return
    campaign, _ = loaded
    if args[0] == "close":
        ctx.say(
            ctx.t("campaigns.close_confirm", title=campaign.title),
            [
                [
                    ctx.button("campaigns.close_yes", f"camp:closeyes:{campaign.id}"),
                    ctx.button("dialog.cancel", "launch:no"),
                ]
            ],
        )
        return
    problem = await domain.close(ctx.repos, ctx.who, campaign, ctx.now)
    ctx.say(
        problem_text(ctx, problem) if problem else ctx.t("campaigns.closed", title=campaign.title),
        replace=problem is None,
    )


async def campaign_button(ctx: Ctx) -> None:
    """Route "camp:view:ID", "camp:close:ID" and "camp:closeyes:ID"."""
    action = next(iter(ctx.payload_args), "")
    if action == "view":
        await show(ctx)
    elif action in ("close", "closeyes") and ctx.who.is_officer:
        await close_button(ctx)
    elif action in ("close", "closeyes"):
        ctx.say(ctx.t("fallback.officers_only"))
    else:
        await stale_button(ctx)


async def list_broadcasts(ctx: Ctx) -> None:
    """The officer's recent broadcasts and how far each has gone."""
    progress = await ctx.repos.broadcasts.progress(
        await ctx.repos.broadcasts.recent_of(ctx.who.account.id, 5)
    )
    if not progress:
        ctx.say(ctx.t("broadcasts.none"))
        return
    number = formatting.number
    lines = [ctx.t("broadcasts.head")]
    for item in progress:
        state = ctx.t("broadcasts.finished" if item.finished_at else "broadcasts.running")
        lines.append(
            ctx.t(
                "broadcasts.line",
                title=item.title,
                state=state,
                at=formatting.moment(item.created_at, ctx.lang, ctx.settings.zone),
                sent=number(item.sent, ctx.lang),
                total=number(item.total, ctx.lang),
                uncertain=number(item.uncertain, ctx.lang),
                unreachable=number(item.unreachable, ctx.lang),
                failed=number(item.failed, ctx.lang),
                pending=number(item.pending, ctx.lang),
            )
        )
    ctx.say("\n\n".join(lines))
