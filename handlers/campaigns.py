"""Campaign lists and pages: /campaigns for members (with their own status) and officers (with counts),
a campaign's page with its buttons, /launch, closing, and /broadcasts with delivery progress.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from bot.domain import campaigns as domain
from bot.domain.insights import covered_scopes
from bot.domain.problems import Problem
from bot.domain.records import Campaign, Registration, Unit
from bot.domain.registrations import check_open
from bot.engine.access import campaign_in_charge
from bot.engine.buttons import (
    CloseCampaign,
    CollectiveStart,
    ConfirmClose,
    Dismiss,
    LaunchGo,
    LaunchPreview,
    Register,
    UnitTargets,
    ViewCampaign,
    WithdrawRegistration,
)
from bot.engine.context import Ctx
from bot.engine.events import Button
from handlers.campaign_views import (
    announcement,
    campaign_details,
    days_left_text,
    problem_text,
    registration_lines,
    title_names,
)
from handlers.common import stale_button
from handlers.progress import progress_text
from messages import LANGUAGES, Html, formatting, text

LIST_LIMIT = 15


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
    listed = found[:LIST_LIMIT]
    mine = await ctx.repos.registrations.of_member_in([c.id for c in listed], ctx.who.member.id)
    lines, rows, today = [ctx.t("campaigns.member_head")], [], ctx.today
    for campaign in listed:
        registration = mine.get(campaign.id)
        status = registration.status if registration else "none"
        deadline = campaign.registration_deadline
        lines.append(_member_line(ctx.lang, campaign.title, campaign.code, deadline, today, status))
        rows.append(_campaign_row(campaign.title, campaign.id))
    ctx.say("\n\n".join(lines), rows)
    return True


@lru_cache(maxsize=4096)
def _campaign_row(title: str, campaign_id: int) -> tuple[Button]:
    # A campaign's button, the same in every list that shows it: made once.
    return (Button(title, ViewCampaign(campaign_id).pack()),)


@lru_cache(maxsize=4096)
def _member_line(language: str, title: str, code: str, deadline: date, today: date, status: str) -> Html:
    # The same for every member who sees this campaign with this status today: put together once.
    return text(
        language,
        "campaigns.member_line",
        title=title,
        code=code,
        deadline=formatting.day(deadline),
        left=days_left_text(language, deadline, today),
        status=text(language, f"campaigns.status_{status}"),
    )


async def _officer_list(ctx: Ctx) -> bool:
    """The campaigns of the officer's subtrees, then those a unit above launched for a unit they lead (their
    members see and register for those, so the officer follows them too), each with the counts of the
    part the officer covers."""
    own = await ctx.repos.campaigns.within(ctx.who.led_paths, ("draft", "launched"))
    known = {campaign.id for campaign in own}
    above = [c for c in await domain.launched_above(ctx.repos, ctx.who.led_units) if c.id not in known]
    found = (own + above)[:LIST_LIMIT]
    if not found:
        return False
    counts = await _officer_counts(ctx, [campaign for campaign in found if campaign.status != "draft"])
    owners = {unit.id: unit for unit in await ctx.repos.units.many([c.unit_id for c in above])}
    lines, rows = [ctx.t("campaigns.officer_head")], []
    for campaign in found:
        line = _officer_line(ctx, campaign, counts.get(campaign.id, (0, 0, 0)))
        owner = owners.get(campaign.unit_id)
        if campaign.id not in known and owner is not None:
            line = Html(line + "\n" + ctx.t("campaigns.launched_above", unit=owner.name))
        lines.append(line)
        rows.append(_campaign_row(campaign.title, campaign.id))
    ctx.say("\n\n".join(lines), rows)
    return True


async def _officer_counts(ctx: Ctx, launched: list[Campaign]) -> dict[int, tuple[int, int, int]]:
    """(roster, linked, registered) of each launched campaign over the parts of it the officer covers, read
    per part the officer leads, for all the campaigns at once."""
    owners = {unit.id: unit for unit in await ctx.repos.units.many([c.unit_id for c in launched])}
    scopes = {c.id: covered_scopes(owners[c.unit_id], ctx.who.led_units) for c in launched}
    by_path: dict[str, list[int]] = {}
    for campaign_id, covered in scopes.items():
        for scope in covered:
            by_path.setdefault(scope.path, []).append(campaign_id)
    totals: dict[int, tuple[int, int, int]] = {}
    for path, campaign_ids in by_path.items():
        for campaign_id, counted in (await ctx.repos.stats.member_counts_of(campaign_ids, path)).items():
            before = totals.get(campaign_id, (0, 0, 0))
            totals[campaign_id] = (before[0] + counted[0], before[1] + counted[1], before[2] + counted[2])
    return totals


def _officer_line(ctx: Ctx, campaign: Campaign, counts: tuple[int, int, int]) -> Html:
    if campaign.status == "draft":
        return ctx.t("campaigns.officer_draft", title=campaign.title, code=campaign.code)
    roster, linked, registered = counts
    number = formatting.number
    return ctx.t(
        "campaigns.officer_launched",
        title=campaign.title,
        code=campaign.code,
        registered=number(registered, ctx.lang),
        linked=number(linked, ctx.lang),
        roster=number(roster, ctx.lang),
        percent=formatting.percent(registered, roster, ctx.lang),
    )


async def show(ctx: Ctx, pressed: ViewCampaign) -> None:
    """A campaign's page: everything about it, and what this person can do with it."""
    campaign = await ctx.repos.campaigns.get(pressed.campaign)
    unit = await ctx.repos.units.get(campaign.unit_id) if campaign is not None else None
    leads = unit is not None and ctx.who.covers(unit)
    concerns_member = unit is not None and ctx.who.unit is not None and unit.covers(ctx.who.unit)
    # An officer of a unit inside the campaign's subtree (a base union in a district's campaign) covers part.
    covers_part = unit is not None and bool(covered_scopes(unit, ctx.who.led_units))
    if (
        campaign is None
        or unit is None
        or not (leads or concerns_member or covers_part)
        or (campaign.status == "draft" and not leads)
    ):
        await stale_button(ctx)  # another unit's campaign looks exactly like none at all
        return
    if campaign.status == "closed":
        ctx.say(ctx.t("problem.campaign_closed", title=campaign.title))
        return
    body = campaign_details(ctx.lang, campaign, unit, ctx.today)
    if covers_part and campaign.status == "launched":
        body = Html(body + "\n\n" + await _registration_counts(ctx, campaign))
    progress = await progress_text(ctx, campaign, unit) if campaign.status != "draft" else None
    if progress is not None:
        body = Html(body + "\n\n" + progress)
    rows: list[list[Button]] = []
    # Past the deadline the buttons that register, change or withdraw would only be refused: none is shown.
    registering = check_open(campaign, ctx.today) is None
    if campaign.status == "launched" and concerns_member and ctx.who.member is not None:
        registration = await ctx.repos.registrations.of_member(campaign.id, ctx.who.member.id)
        if registration is not None and registration.status == "active":
            mine = [ctx.t("campaigns.you_registered"), *registration_lines(ctx.lang, registration)]
            body = Html(body + "\n\n" + "\n".join(mine))
            if registering:
                rows.append(
                    [
                        ctx.button("register.change_button", Register(campaign.id)),
                        ctx.button("register.withdraw_button", WithdrawRegistration(campaign.id)),
                    ]
                )
        elif registering:
            rows.append([ctx.button("register.register_button", Register(campaign.id))])
    if leads and campaign.status == "draft":
        rows.append([ctx.button("launch.button", LaunchPreview(campaign.id))])
    if leads and await ctx.repos.units.children(unit.id):
        rows.append([ctx.button("targets.button", UnitTargets(campaign.id))])
    # A base union's officer registers its collective in a campaign a unit above launched: any officer of a
    # part of the subtree, as the collective form itself allows.
    if campaign.status == "launched" and covers_part:
        collectives = await ctx.repos.registrations.collective_within(campaign.id, ctx.who.led_paths)
        if collectives:
            body = Html(body + "\n\n" + await _collective_lines(ctx, collectives))
        if campaign.collective_titles and registering:
            rows.append([ctx.button("collective.button", CollectiveStart(campaign.id))])
    if leads and campaign.status == "launched":
        rows.append([ctx.button("campaigns.close_button", CloseCampaign(campaign.id))])
    ctx.say(body, rows)


async def _registration_counts(ctx: Ctx, campaign: Campaign) -> Html:
    """Registered / roster and linked over the parts of the campaign the officer covers, as /stats says it."""
    roster, linked, registered = (await _officer_counts(ctx, [campaign])).get(campaign.id, (0, 0, 0))
    number = formatting.number
    return ctx.t(
        "insights.registration",
        registered=number(registered, ctx.lang),
        roster=number(roster, ctx.lang),
        percent=formatting.percent(registered, roster, ctx.lang),
        linked=number(linked, ctx.lang),
    )


async def _collective_lines(ctx: Ctx, collectives: list[Registration]) -> Html:
    lines = [ctx.t("campaigns.collective_head")]
    units = {
        unit.id: unit for unit in await ctx.repos.units.many([r.unit_id for r in collectives if r.unit_id])
    }
    for registration in collectives:
        unit = units.get(registration.unit_id or 0)
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
        code = ctx.event.args[0]
        found = await campaign_in_charge(ctx.repos, ctx.who, await ctx.repos.campaigns.by_code(code))
        if found is None:
            ctx.say(ctx.t("problem.campaign_out_of_reach", code=code))
            return
        await _launch_preview(ctx, *found)
        return
    drafts = await ctx.repos.campaigns.within(ctx.who.led_paths, ("draft",))
    if not drafts:
        ctx.say(ctx.t("launch.no_drafts"))
        return
    ctx.say(
        ctx.t("launch.pick"), [[Button(c.title, LaunchPreview(c.id).pack())] for c in drafts[:LIST_LIMIT]]
    )


async def _launch_preview(ctx: Ctx, campaign: Campaign, unit: Unit) -> None:
    if campaign.status != "draft":
        ctx.say(ctx.t("problem.not_draft", code=campaign.code))
        return
    problem = domain.launch_problem(campaign, ctx.today)
    if problem is not None:  # said before the confirmation, not after it
        ctx.say(problem_text(ctx, problem))
        return
    audience = await ctx.repos.members.count_linked_within(unit.path)
    warnings = [problem_text(ctx, warning) for warning in domain.date_warnings(campaign.starts_on, ctx.today)]
    ctx.say(
        Html(
            "\n\n".join(
                [
                    ctx.t("launch.confirm", count=formatting.number(audience, ctx.lang)),
                    campaign_details(ctx.lang, campaign, unit, ctx.today),
                    *warnings,
                ]
            )
        ),
        [
            [
                ctx.button("launch.go_button", LaunchGo(campaign.id)),
                ctx.button("dialog.cancel", Dismiss()),
            ]
        ],
    )


async def launch_preview(ctx: Ctx, pressed: LaunchPreview) -> None:
    """A draft picked to launch: its preview and the confirmation."""
    found = await campaign_in_charge(ctx.repos, ctx.who, await ctx.repos.campaigns.get(pressed.campaign))
    if found is None:
        await stale_button(ctx)
        return
    await _launch_preview(ctx, *found)


async def dismiss(ctx: Ctx, pressed: Dismiss) -> None:
    """Cancel on a launch or close confirmation."""
    ctx.say(ctx.t("dialog.cancelled"), replace=True)


async def launch_go(ctx: Ctx, pressed: LaunchGo) -> None:
    """Launch after the confirmation."""
    found = await campaign_in_charge(ctx.repos, ctx.who, await ctx.repos.campaigns.get(pressed.campaign))
    if found is None:
        await stale_button(ctx)
        return
    campaign, unit = found
    result = await domain.launch(
        ctx.repos,
        ctx.who,
        campaign,
        announcement(campaign, unit, LANGUAGES, ctx.today),
        default_language=ctx.settings.language,
        now=ctx.now,
        today=ctx.today,
        zone=ctx.settings.zone,
    )
    if isinstance(result, Problem):
        ctx.say(problem_text(ctx, result))
        return
    ctx.say(
        ctx.t("launch.done", title=campaign.title, count=formatting.number(result.queued, ctx.lang)),
        replace=True,
    )


async def close(ctx: Ctx, pressed: CloseCampaign) -> None:
    """Ask to confirm closing."""
    found = await campaign_in_charge(ctx.repos, ctx.who, await ctx.repos.campaigns.get(pressed.campaign))
    if found is None:
        await stale_button(ctx)
        return
    campaign, _ = found
    ctx.say(
        ctx.t("campaigns.close_confirm", title=campaign.title),
        [
            [
                ctx.button("campaigns.close_yes", ConfirmClose(campaign.id)),
                ctx.button("dialog.cancel", Dismiss()),
            ]
        ],
    )


async def confirm_close(ctx: Ctx, pressed: ConfirmClose) -> None:
    """Close after the confirmation."""
    found = await campaign_in_charge(ctx.repos, ctx.who, await ctx.repos.campaigns.get(pressed.campaign))
    if found is None:
        await stale_button(ctx)
        return
    campaign, _ = found
    problem = await domain.close(ctx.repos, ctx.who, campaign, ctx.now)
    ctx.say(
        problem_text(ctx, problem) if problem else ctx.t("campaigns.closed", title=campaign.title),
        replace=problem is None,
    )


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
