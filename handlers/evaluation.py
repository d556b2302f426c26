"""/evaluate (/binhxet): the base union's evaluation of titles. An officer over a campaign's unit sets the day
its evaluation opens (reminders go out before it); from that day an officer sees, per title, the candidates
of the units they cover with their self-assessment and recognised initiatives, and marks each reached or not
with the meeting's vote (agreed / present) and a note. Every refusal (a cap, a missing initiative, a vote
above those present, a unit out of reach, a card changed since it was drawn) changes nothing; the candidate
is told the outcome.
"""

from __future__ import annotations

from bot.domain import evaluation as domain
from bot.domain.problems import Problem
from bot.domain.records import Campaign, Registration
from bot.domain.vn.parsing import ParseError, parse_date
from bot.engine.access import campaign_in_charge, campaign_scope
from bot.engine.buttons import (
    ALL_TITLES,
    DialogControl,
    EvalCampaign,
    EvalCandidate,
    EvalDecide,
    EvalOpen,
    EvalSkipNote,
    EvalTitle,
)
from bot.engine.context import Ctx, Flow
from bot.engine.events import Button
from handlers.campaign_views import pledge_result_lines, problem_text
from handlers.common import back_and_cancel, stale_button
from handlers.insights import pick_campaign
from handlers.notify import Localized, fellow_officers, notify
from messages import Html, formatting, text

OPEN_FLOW, VOTE_FLOW = "eval_open", "eval_vote"
DATE, VOTES, NOTE = "date", "votes", "note"
CANDIDATE_BUTTONS = 30


def _worded(ctx: Ctx, problem: Problem) -> Html:
    """A problem whose title codes are shown by their names."""
    params = {
        name: ctx.t(f"titles.{value}") if isinstance(value, str) and value in ALL_TITLES else value
        for name, value in problem.params.items()
    }
    return problem_text(ctx, Problem(problem.subject, problem.code, params))


async def evaluate_command(ctx: Ctx) -> None:
    """/binhxet [CODE]: a campaign's evaluation page (the only one, the one named, or a choice)."""
    picked = await pick_campaign(ctx, EvalCampaign, "evaluate.pick", drafts=False)
    if picked is not None:
        await _page(ctx, picked[0])


async def _in_scope(ctx: Ctx, campaign_id: int) -> Campaign | None:
    found = await campaign_scope(ctx.repos, ctx.who, await ctx.repos.campaigns.get(campaign_id))
    return found[0] if found is not None and found[0].status != "draft" else None


async def campaign_button(ctx: Ctx, pressed: EvalCampaign) -> None:
    """A campaign picked from /binhxet's list."""
    campaign = await _in_scope(ctx, pressed.campaign)
    if campaign is None:
        await stale_button(ctx)
        return
    await _page(ctx, campaign)


async def _page(ctx: Ctx, campaign: Campaign) -> None:
    """When the evaluation opens, or the titles with their candidates once it is open."""
    opens = campaign.evaluation_opens_on
    if opens is None:
        owner = await campaign_in_charge(ctx.repos, ctx.who, campaign)
        if owner is None or campaign.status != "launched":
            ctx.say(ctx.t("evaluate.not_set", title=campaign.title))
            return
        ctx.say(
            ctx.t("evaluate.not_set_owner", title=campaign.title),
            [[ctx.button("evaluate.open_button", EvalOpen(campaign.id))]],
        )
        return
    if ctx.today < opens:
        ctx.say(ctx.t("evaluate.opens_on", title=campaign.title, date=formatting.day(opens, ctx.lang)))
        return
    lines, rows = [ctx.t("evaluate.head", title=campaign.title)], []
    titles = (*campaign.individual_titles, *campaign.collective_titles)
    for title, found in (await domain.candidates_by_title(ctx.repos, campaign, ctx.who, titles)).items():
        decided = [c for c in found if c.result is not None]
        reached = [c for c in decided if c.result is not None and c.result.reached]
        lines.append(
            ctx.t(
                "evaluate.title_line",
                title=ctx.t(f"titles.{title}"),
                candidates=len(found),
                decided=len(decided),
                reached=len(reached),
            )
        )
        if found:
            rows.append([Button(ctx.t(f"titles.{title}"), EvalTitle(campaign.id, title).pack())])
    caps = [cap for cap in ctx.settings.caps if cap.title in campaign.individual_titles]
    lines += [
        ctx.t(
            "evaluate.cap_line",
            title=ctx.t(f"titles.{cap.title}"),
            percent=cap.percent,
            of_title=ctx.t(f"titles.{cap.of_title}"),
        )
        for cap in caps
    ]
    ctx.say(Html("\n".join(lines)), rows)


async def open_button(ctx: Ctx, pressed: EvalOpen) -> None:
    """Set the evaluation's day: asked as a date."""
    found = await campaign_in_charge(ctx.repos, ctx.who, await ctx.repos.campaigns.get(pressed.campaign))
    if found is None:
        await stale_button(ctx)
        return
    await ctx.dialog.start(OPEN_FLOW, DATE, campaign_id=found[0].id)
    await prompt_date(ctx)


async def prompt_date(ctx: Ctx) -> None:
    """Ask for the day the evaluation opens."""
    ctx.say(ctx.t("evaluate.ask_date"), [[ctx.button("dialog.cancel", DialogControl("cancel"))]])


async def on_date(ctx: Ctx, typed: str) -> None:
    """The typed day: the evaluation opens then, and its reminders are planned."""
    day = parse_date(typed, ctx.today)
    if isinstance(day, ParseError):
        ctx.say(ctx.t(f"parse.{day.code}", **day.params))
        return
    found = await campaign_in_charge(
        ctx.repos, ctx.who, await ctx.repos.campaigns.get(ctx.dialog.data["campaign_id"])
    )
    await ctx.dialog.finish()
    if found is None:
        await stale_button(ctx)
        return
    campaign = found[0]
    problem = await domain.open_evaluation(
        ctx.repos, ctx.who, campaign, day, ctx.settings.zone, ctx.now, ctx.today
    )
    if problem is not None:
        ctx.say(problem_text(ctx, problem))
        return
    ctx.say(ctx.t("evaluate.opened", title=campaign.title, date=formatting.day(day, ctx.lang)))


async def title_button(ctx: Ctx, pressed: EvalTitle) -> None:
    """The candidates for one title."""
    campaign = await _in_scope(ctx, pressed.campaign)
    if campaign is None:
        await stale_button(ctx)
        return
    await _candidates(ctx, campaign, pressed.title)


def _name(candidate: domain.Candidate) -> str:
    return candidate.entrant.member_name or candidate.entrant.unit_name


def _label(candidate: domain.Candidate) -> str:
    """A member by name and unit; a collective by its unit alone."""
    entrant = candidate.entrant
    return f"{entrant.member_name} ({entrant.unit_name})" if entrant.member_name else entrant.unit_name


async def _candidates(ctx: Ctx, campaign: Campaign, title: str) -> None:
    problem = domain.check_open(campaign, ctx.today)
    if problem is not None:
        ctx.say(problem_text(ctx, problem))
        return
    found = await domain.candidates(ctx.repos, campaign, ctx.who, title)
    lines = [ctx.t("evaluate.candidates_head", title=ctx.t(f"titles.{title}"), campaign=campaign.title)]
    rows: list[list[Button]] = []
    for candidate in found:
        result = candidate.result
        if result is None:
            outcome = ctx.t("evaluate.pending")
            if len(rows) < CANDIDATE_BUTTONS:
                payload = EvalCandidate(candidate.entrant.registration.id, title)
                rows.append([Button(_label(candidate), payload.pack())])
        else:
            outcome = ctx.t(
                "evaluate.outcome_reached" if result.reached else "evaluate.outcome_missed",
                agreed=result.votes_agreed,
                present=result.votes_present,
            )
        lines.append(ctx.t("evaluate.candidate_line", candidate=_label(candidate), outcome=outcome))
    if not found:
        lines.append(ctx.t("evaluate.no_candidates"))
    ctx.say(Html("\n".join(lines)), rows)


async def _registration_in_reach(ctx: Ctx, registration_id: int) -> tuple[Registration, Campaign] | None:
    registration = await ctx.repos.registrations.get(registration_id)
    campaign = await ctx.repos.campaigns.get(registration.campaign_id) if registration is not None else None
    return (registration, campaign) if registration is not None and campaign is not None else None


async def candidate_button(ctx: Ctx, pressed: EvalCandidate) -> None:
    """One candidate's card, with the decision's buttons."""
    found = await _registration_in_reach(ctx, pressed.registration)
    if found is None:
        await stale_button(ctx)
        return
    registration, campaign = found
    unit = await domain.holder_unit(ctx.repos, registration)
    if unit is None or not ctx.who.covers(unit):
        ctx.say(
            _worded(ctx, Problem("unit", "evaluation_out_of_scope", {"unit": unit.name if unit else "?"}))
        )
        return
    await _card(ctx, registration, campaign, pressed.title)


async def _card(ctx: Ctx, registration: Registration, campaign: Campaign, title: str) -> None:
    candidates = await domain.candidates(ctx.repos, campaign, ctx.who, title)
    candidate = next((c for c in candidates if c.entrant.registration.id == registration.id), None)
    if candidate is None:
        await stale_button(ctx)
        return
    collective = candidate.entrant.member_name is None  # named by its unit once, not as a person
    lines = [
        ctx.t(
            "evaluate.card_head_collective" if collective else "evaluate.card_head",
            name=_name(candidate),
            unit=candidate.entrant.unit_name,
            title=ctx.t(f"titles.{title}"),
        )
    ]
    assessment = candidate.assessment
    if assessment is None or assessment.status != "submitted":
        lines.append(ctx.t("evaluate.no_assessment"))
    else:
        lines.append(ctx.t("evaluate.assessment_head"))
        lines += pledge_result_lines(ctx.lang, registration, assessment.results)
    if title == "emulation_fighter":
        if candidate.recognised:
            lines.append(
                ctx.t("evaluate.initiatives", titles="; ".join(i.title for i in candidate.recognised))
            )
        else:
            lines.append(ctx.t("evaluate.no_initiative"))
    rows: list[list[Button]] = []
    if candidate.result is None:
        version = assessment.version if assessment is not None else 0
        index = ALL_TITLES.index(title)
        rows.append(
            [
                ctx.button("evaluate.reached_button", EvalDecide(registration.id, index, "y", version)),
                ctx.button("evaluate.missed_button", EvalDecide(registration.id, index, "n", version)),
            ]
        )
    rows.append([ctx.button("evaluate.back_button", EvalTitle(campaign.id, title))])
    ctx.say(Html("\n".join(lines)), rows)


async def decide_button(ctx: Ctx, pressed: EvalDecide) -> None:
    """Reached or not: checked at once (nothing is asked for a decision that cannot be made), then the
    meeting's vote and a note are asked for."""
    found = await _registration_in_reach(ctx, pressed.registration)
    if found is None:
        await stale_button(ctx)
        return
    registration, campaign = found
    title = ALL_TITLES[pressed.title]
    reached = pressed.reached == "y"
    decision = domain.TitleDecision(campaign, registration, title, reached, pressed.version)
    refusal = await domain.decision_refusal(ctx.repos, ctx.who, decision, ctx.settings.caps, ctx.today)
    if refusal is not None:
        ctx.say(_worded(ctx, refusal))
        if refusal.code == "candidate_changed":
            await _card(ctx, registration, campaign, title)
        return
    await ctx.dialog.start(
        VOTE_FLOW,
        VOTES,
        registration_id=registration.id,
        title=title,
        reached=reached,
        version=pressed.version,
    )
    await prompt_vote(ctx)


async def prompt_vote(ctx: Ctx) -> None:
    """Ask for the meeting's vote, then for the note."""
    state = ctx.dialog.state
    assert state is not None
    if state.step == VOTES:
        ctx.say(ctx.t("evaluate.ask_votes"), [back_and_cancel(ctx)])
    else:
        ctx.say(
            ctx.t("evaluate.ask_note"), [[ctx.button("dialog.skip", EvalSkipNote())], back_and_cancel(ctx)]
        )


async def on_vote_text(ctx: Ctx, typed: str) -> None:
    """The typed vote ("18/20"), or the typed note."""
    state = ctx.dialog.state
    assert state is not None
    if state.step == VOTES:
        vote = domain.parse_vote(typed)
        if isinstance(vote, Problem):
            ctx.say(problem_text(ctx, vote), [back_and_cancel(ctx)])
            return
        await ctx.dialog.advance(NOTE, agreed=vote.agreed, present=vote.present)
        await prompt_vote(ctx)
        return
    if len(typed) > domain.NOTE_MAX:
        ctx.say(problem_text(ctx, Problem("note", "note_too_long", {"high": domain.NOTE_MAX})))
        return
    await _apply(ctx, typed.strip())


async def skip_note(ctx: Ctx, pressed: EvalSkipNote) -> None:
    """No note."""
    state = ctx.dialog.state
    if state is None or state.flow != VOTE_FLOW or state.step != NOTE:
        await stale_button(ctx)
        return
    await _apply(ctx, "")


async def _apply(ctx: Ctx, note: str) -> None:
    data = ctx.dialog.data
    await ctx.dialog.finish()
    found = await _registration_in_reach(ctx, int(data["registration_id"]))
    if found is None:
        await stale_button(ctx)
        return
    registration, campaign = found
    title, reached = str(data["title"]), bool(data["reached"])
    vote = domain.Vote(int(data["agreed"]), int(data["present"]))
    problem = await domain.decide(
        ctx.repos,
        ctx.who,
        domain.TitleDecision(campaign, registration, title, reached, int(data["version"])),
        vote=vote,
        note=note,
        caps=ctx.settings.caps,
        now=ctx.now,
        today=ctx.today,
    )
    if problem is not None:
        ctx.say(_worded(ctx, problem))
        return
    ctx.say(
        ctx.t("evaluate.done_reached" if reached else "evaluate.done_missed", title=ctx.t(f"titles.{title}"))
    )
    await _tell(ctx, registration, campaign, title, reached, vote, note)
    await _candidates(ctx, campaign, title)


async def _tell(
    ctx: Ctx,
    registration: Registration,
    campaign: Campaign,
    title: str,
    reached: bool,
    vote: domain.Vote,
    note: str,
) -> None:
    """The member (or the collective unit's officers) told the outcome, each in their own language."""
    key = "reached_notice" if reached else "missed_notice"
    unit = ""
    if registration.member_id is not None:
        recipients = await ctx.repos.accounts.reached_through(registration.member_id)
    else:
        found = await ctx.repos.units.get(registration.unit_id) if registration.unit_id is not None else None
        assert found is not None
        recipients = await fellow_officers(ctx, found.id)
        key, unit = f"collective_{key}", found.name
    await notify(
        ctx,
        recipients,
        "evaluation",
        f"evaluate.{key}",
        unit=unit,
        title=Localized(lambda language: text(language, f"titles.{title}")),
        campaign=campaign.title,
        agreed=vote.agreed,
        present=vote.present,
        note=Localized(lambda language: text(language, "evaluate.note_notice", note=note)) if note else "",
    )


EVAL_OPEN_FLOW = Flow(OPEN_FLOW, prompt_date, on_date)
EVAL_VOTE_FLOW = Flow(VOTE_FLOW, prompt_vote, on_vote_text)
