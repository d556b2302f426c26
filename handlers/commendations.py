"""Commendation proposals (đề nghị khen thưởng) in chat.

/propose (/denghi) [CODE]: an officer of a base union proposes a registered member, a registered collective or
a recognised initiative of the campaign for a form; each form is offered with the unit above that grants it,
and the achievements are typed last. /commendations (/khenthuong): an officer of a granting unit sees the
proposals sent to its subtree, oldest first, and approves one or returns it with a note. The granting unit's
officers are told when a proposal arrives (with a button to its card), the proposer and the member proposed
when it is decided, all through the outbox. A button drawn for an older version of a proposal is refused.
"""

from __future__ import annotations

from bot.domain import commendations as domain
from bot.domain.problems import Problem
from bot.domain.records import Campaign, CommendationRow, HistoryEntry
from bot.engine.access import campaign_scope, proposal_in_charge
from bot.engine.buttons import (
    CommendCampaign,
    CommendCandidate,
    CommendDecide,
    CommendForm,
    CommendKind,
    CommendNext,
    CommendOpen,
    DialogControl,
)
from bot.engine.context import Ctx, Flow
from bot.engine.events import Button
from handlers.campaign_views import problem_text
from handlers.common import stale_button
from handlers.insights import commended_name, pick_campaign
from handlers.notify import Localized, fellow_officers, notify
from messages import Html, formatting, plain, text

PROPOSE_FLOW, NOTE_FLOW = "commend", "commend_note"
WHO, FORM, ACHIEVEMENTS = "who", "form", "achievements"
LISTED = 30  # candidates offered as buttons; a member may also be named by code
SENT_SHOWN = 10  # proposals already sent, listed under /propose's head
QUEUE_LIMIT = 200


def _problem(ctx: Ctx, problem: Problem) -> Html:
    """A problem worded for the officer, a form and a level named as the catalog names them."""
    params = dict(problem.params)
    if "form" in params:
        params["form"] = ctx.t(f"commendation.form_{params['form']}")
    if "level" in params:
        params["level"] = ctx.t(f"commendation.level_{params['level']}")
    return problem_text(ctx, Problem(problem.subject, problem.code, params))


def _for_kind(key: str, kind: str) -> str:
    """A collective is a unit: its own wording names it once, without "(its unit)" after it."""
    return f"{key}_collective" if kind == "collective" else key


def _candidate_name(language: str, candidate: domain.Candidate) -> str:
    if candidate.initiative is not None:
        author = candidate.member.full_name if candidate.member else "?"
        return str(
            text(language, "commendation.initiative_name", title=candidate.initiative.title, author=author)
        )
    return candidate.member.full_name if candidate.member else candidate.unit.name


# --------------------------------------------------------------------------- proposing


async def propose_command(ctx: Ctx) -> None:
    """/propose [CODE]: the campaign named, or the only one in view, or a choice of them."""
    picked = await pick_campaign(ctx, CommendCampaign)
    if picked is not None:
        await _show_kinds(ctx, picked[0])


async def campaign_button(ctx: Ctx, pressed: CommendCampaign) -> None:
    """A campaign picked for /propose."""
    found = await campaign_scope(ctx.repos, ctx.who, await ctx.repos.campaigns.get(pressed.campaign))
    if found is None:
        await stale_button(ctx)
        return
    await _show_kinds(ctx, found[0])


async def _show_kinds(ctx: Ctx, campaign: Campaign) -> None:
    if campaign.status not in domain.PROPOSING:  # a draft named by its code: said before anything is typed
        ctx.say(_problem(ctx, Problem("commendation", "campaign_not_running", {"title": campaign.title})))
        return
    lines = [ctx.t("commendation.head", title=campaign.title)]
    sent = await ctx.repos.commendations.of_candidates(campaign.id, ctx.who.led_paths, SENT_SHOWN)
    if sent:
        lines.append(ctx.t("commendation.sent_head"))
        lines += [
            ctx.t(
                "commendation.sent_line",
                name=commended_name(ctx.lang, row),
                form=ctx.t(f"commendation.form_{row.form}"),
                status=ctx.t(f"commendation.status_{row.status}"),
            )
            for row in sent
        ]
    ctx.say(
        Html("\n".join(lines)),
        [[ctx.button(f"commendation.kind_{kind}", CommendKind(campaign.id, kind)) for kind in domain.KINDS]],
    )


async def kind_button(ctx: Ctx, pressed: CommendKind) -> None:
    """Member, collective or initiative: the proposal dialog opens at the choice of the candidate."""
    found = await campaign_scope(ctx.repos, ctx.who, await ctx.repos.campaigns.get(pressed.campaign))
    if found is None:
        await stale_button(ctx)
        return
    await ctx.dialog.start(PROPOSE_FLOW, WHO, campaign_id=pressed.campaign, kind=pressed.kind)
    await prompt(ctx)


async def _candidates(ctx: Ctx, campaign_id: int, kind: str) -> list[Button]:
    paths = ctx.who.led_paths
    if kind == "member":
        found = await ctx.repos.registrations.members_within(campaign_id, paths, LISTED)
        return [
            Button(f"{name} — {unit}", CommendCandidate(member_id).pack()) for member_id, name, unit in found
        ]
    if kind == "collective":
        registered = await ctx.repos.registrations.collective_within(campaign_id, paths)
        units = await ctx.repos.units.many([r.unit_id for r in registered[:LISTED] if r.unit_id is not None])
        return [Button(unit.name, CommendCandidate(unit.id).pack()) for unit in units]
    recognised = await ctx.repos.initiatives.queue(paths, ("recognised",), LISTED, campaign_id=campaign_id)
    return [Button(initiative.title, CommendCandidate(initiative.id).pack()) for initiative in recognised]


async def prompt(ctx: Ctx) -> None:
    """Ask for the current step: the candidate, the form, or the achievements."""
    state = ctx.dialog.state
    assert state is not None
    data = state.data
    cancel = [ctx.button("dialog.cancel", DialogControl("cancel"))]
    if state.step == WHO:
        kind = str(data["kind"])
        found = await _candidates(ctx, int(data["campaign_id"]), kind)
        key = f"commendation.pick_{kind}" if found else f"commendation.none_{kind}"
        ctx.say(ctx.t(key), [*([button] for button in found), cancel])
        return
    checked = await _candidate(ctx)
    if isinstance(checked, Problem):
        await ctx.dialog.finish()
        ctx.say(_problem(ctx, checked))
        return
    candidate = checked[1]
    back = [ctx.button("dialog.back", DialogControl("back")), *cancel]
    name = _candidate_name(ctx.lang, candidate)
    if state.step == FORM:
        rows = []
        for form in domain.forms(ctx.settings):
            granting = await domain.granting_unit(ctx.repos, candidate.unit, form.level)
            label = (
                ctx.t(
                    "commendation.form_button",
                    form=ctx.t(f"commendation.form_{form.code}"),
                    unit=granting.name,
                )
                if granting is not None
                else ctx.t(
                    "commendation.form_button_none",
                    form=ctx.t(f"commendation.form_{form.code}"),
                    level=ctx.t(f"commendation.level_{form.level}"),
                )
            )
            rows.append([Button(label, CommendForm(form.code, granting.id if granting else 0).pack())])
        ctx.say(
            ctx.t(_for_kind("commendation.pick_form", candidate.kind), name=name, unit=candidate.unit.name),
            [*rows, back],
        )
        return
    granting = await ctx.repos.units.get(int(data["granting"]))
    low, high = domain.ACHIEVEMENTS_LENGTH
    ctx.say(
        ctx.t(
            "commendation.ask_achievements",
            name=name,
            unit=granting.name if granting else "?",
            form=ctx.t(f"commendation.form_{data['form']}"),
            low=low,
            high=formatting.number(high, ctx.lang),
        ),
        [back],
    )


async def _candidate(ctx: Ctx) -> tuple[Campaign, domain.Candidate] | Problem:
    """The open dialog's campaign and candidate, the candidate checked again against the officer's units."""
    data = ctx.dialog.data
    campaign = await ctx.repos.campaigns.get(int(data["campaign_id"]))
    if campaign is None:
        return Problem("commendation", "candidate_out_of_scope")
    found = await domain.candidate(ctx.repos, ctx.who, campaign, str(data["kind"]), int(data["subject"]))
    return found if isinstance(found, Problem) else (campaign, found)


async def _still_candidate(ctx: Ctx) -> tuple[Campaign, domain.Candidate] | None:
    """``_candidate`` for a step past the candidate's; where it no longer stands, the dialog ends and the
    button or text is answered as stale."""
    found = await _candidate(ctx)
    if isinstance(found, Problem):
        await ctx.dialog.finish()
        await stale_button(ctx)
        return None
    return found


async def candidate_button(ctx: Ctx, pressed: CommendCandidate) -> None:
    """A candidate pressed."""
    if not ctx.dialog.is_in(PROPOSE_FLOW) or ctx.dialog.state is None or ctx.dialog.state.step != WHO:
        await stale_button(ctx)
        return
    await _take_candidate(ctx, pressed.subject)


async def _take_candidate(ctx: Ctx, subject: int) -> None:
    data = ctx.dialog.data
    campaign = await ctx.repos.campaigns.get(int(data["campaign_id"]))
    if campaign is None:
        await stale_button(ctx)
        return
    found = await domain.candidate(ctx.repos, ctx.who, campaign, str(data["kind"]), subject)
    if isinstance(found, Problem):
        ctx.say(_problem(ctx, found))
        return
    await ctx.dialog.advance(FORM, subject=subject)
    await prompt(ctx)


async def form_button(ctx: Ctx, pressed: CommendForm) -> None:
    """A form pressed, with the unit it would go to: refused at once, the dialog staying at this step, where
    no unit grants it above the candidate, the unit is not of the form's level, or the candidate already has
    a proposal for it waiting or approved."""
    state = ctx.dialog.state
    if state is None or state.flow != PROPOSE_FLOW or state.step != FORM:
        await stale_button(ctx)
        return
    found = await _still_candidate(ctx)
    if found is None:
        return
    campaign, candidate = found
    refusal = await domain.form_refusal(
        ctx.repos, ctx.settings, campaign, candidate, pressed.form, pressed.granting
    )
    if refusal is not None:
        ctx.say(_problem(ctx, refusal))
        return
    await ctx.dialog.advance(ACHIEVEMENTS, form=pressed.form, granting=pressed.granting)
    await prompt(ctx)


async def on_text(ctx: Ctx, typed: str) -> None:
    """A member's code typed at the candidate step, or the achievements."""
    state = ctx.dialog.state
    assert state is not None
    if state.step == WHO and state.data.get("kind") == "member":
        member = await ctx.repos.members.by_code(typed.strip().upper())
        if member is None:
            ctx.say(ctx.t("commendation.member_unknown", code=typed.strip()))
            return
        await _take_candidate(ctx, member.id)
        return
    if state.step != ACHIEVEMENTS:
        ctx.say(ctx.t("dialog.use_buttons"))
        await prompt(ctx)
        return
    found = await _still_candidate(ctx)
    if found is None:
        return
    campaign, candidate = found
    form, granting_id = str(state.data["form"]), int(state.data["granting"])
    result = await domain.propose(
        ctx.repos,
        ctx.who,
        ctx.settings,
        campaign,
        candidate,
        form_code=form,
        granting_unit_id=granting_id,
        achievements=typed,
        now=ctx.now,
    )
    if isinstance(result, Problem):
        ctx.say(_problem(ctx, result))
        return
    await ctx.dialog.finish()
    granting = await ctx.repos.units.get(granting_id)
    granting_name = granting.name if granting else "?"
    officers = await fellow_officers(ctx, granting_id)
    done = ctx.t(
        "commendation.proposed",
        form=ctx.t(f"commendation.form_{form}"),
        name=_candidate_name(ctx.lang, candidate),
        unit=granting_name,
    )
    # Nobody at the granting unit to tell, the proposer not one of them either: they hear where it waits.
    if not officers and not (granting is not None and ctx.who.covers(granting)):
        done = Html("\n".join((done, ctx.t("commendation.proposed_to_nobody", unit=granting_name))))
    ctx.say(done)
    await notify(
        ctx,
        officers,
        "commendation",
        _for_kind("commendation.arrived_notice", candidate.kind),
        [("commendation.open_button", CommendOpen(result))],
        form=Localized(lambda language: text(language, f"commendation.form_{form}")),
        name=Localized(lambda language: _candidate_name(language, candidate)),
        unit=candidate.unit.name,
        granting=granting_name,
        campaign=campaign.title,
    )


# --------------------------------------------------------------------------- deciding


async def commendations_command(ctx: Ctx) -> None:
    """/commendations: the oldest proposal sent to a unit the officer leads, else waiting in a unit below."""
    await _show_next(ctx, after_id=None)


async def _queue(ctx: Ctx) -> list[int]:
    own = [unit.id for unit in ctx.who.led_units]
    return [p.id for p in await ctx.repos.commendations.queue(ctx.who.led_paths, own, QUEUE_LIMIT)]


async def _show_next(ctx: Ctx, after_id: int | None) -> None:
    queue = await _queue(ctx)
    if after_id is not None and after_id in queue:
        queue = queue[queue.index(after_id) + 1 :]
    if not queue:
        ctx.say(ctx.t("commendation.queue_empty"))
        return
    await _show(ctx, queue[0], waiting=len(queue))


def _history(ctx: Ctx, history: list[HistoryEntry]) -> list[Html]:
    lines = [ctx.t("commendation.history_head")]
    for entry in history:
        at = formatting.moment(entry.at, ctx.lang, ctx.settings.zone)
        status = ctx.t(f"commendation.status_{entry.to_status}")
        key = "commendation.history_note" if entry.note else "commendation.history_line"
        lines.append(ctx.t(key, at=at, status=status, note=entry.note))
    return lines


def _card_name(language: str, row: CommendationRow) -> str:
    """What a card names after its kind: an initiative as «title» by its author, the kind having said
    "initiative" already; a member or a collective as everywhere."""
    if row.initiative_title is None:
        return commended_name(language, row)
    return plain(
        text(language, "commendation.initiative_card_name", title=row.initiative_title, author=row.full_name)
    )


async def _show(ctx: Ctx, proposal_id: int, waiting: int) -> None:
    proposal = await ctx.repos.commendations.get(proposal_id)
    row = await ctx.repos.commendations.described(proposal_id)
    if proposal is None or row is None:
        await stale_button(ctx)
        return
    campaign = await ctx.repos.campaigns.get(proposal.campaign_id)
    lines = [
        ctx.t(
            "commendation.queue_head",
            waiting=formatting.number(waiting, ctx.lang),
            unit=row.granting_unit_name,
        ),
        ctx.t(
            _for_kind("commendation.card", row.kind),
            form=ctx.t(f"commendation.form_{row.form}"),
            level=ctx.t(f"commendation.level_{row.level}"),
            kind=ctx.t(f"commendation.kind_{row.kind}"),
            name=_card_name(ctx.lang, row),
            unit=row.unit_name,
            campaign=campaign.title if campaign else "?",
            year=proposal.year,
            achievements=row.achievements,
        ),
        *_history(ctx, await ctx.repos.commendations.history(proposal_id)),
    ]

    def decide(action: str) -> CommendDecide:
        return CommendDecide(action, proposal.id, proposal.version)  # type: ignore[arg-type]

    ctx.say(
        Html("\n".join(lines)),
        [
            [
                ctx.button("commendation.approve_button", decide("approve")),
                ctx.button("commendation.return_button", decide("return")),
            ],
            [ctx.button("commendation.next_button", CommendNext(proposal.id))],
        ],
    )


async def open_button(ctx: Ctx, pressed: CommendOpen) -> None:
    """A proposal's card from the notice of its arrival; one decided since is said to be, then the next."""
    if await proposal_in_charge(ctx.repos, ctx.who, pressed.proposal) is None:
        await stale_button(ctx)
        return
    queue = await _queue(ctx)
    if pressed.proposal not in queue:
        ctx.say(_problem(ctx, Problem("commendation", "proposal_changed")))
        await _show_next(ctx, after_id=None)
        return
    await _show(ctx, pressed.proposal, waiting=len(queue))


async def next_button(ctx: Ctx, pressed: CommendNext) -> None:
    """The next proposal waiting."""
    await _show_next(ctx, after_id=pressed.after)


async def decide_button(ctx: Ctx, pressed: CommendDecide) -> None:
    """Approve at once; ask why before returning. Refused, changing nothing, outside the officer's subtree and
    when the proposal changed since the button was drawn."""
    proposal = await ctx.repos.commendations.get(pressed.proposal)
    if proposal is None:
        await stale_button(ctx)
        return
    if await proposal_in_charge(ctx.repos, ctx.who, proposal.id) is None:
        ctx.say(_problem(ctx, Problem("commendation", "decide_out_of_scope")))
        return
    refusal = domain.decision_refusal(proposal, pressed.version)
    if refusal is not None:
        ctx.say(_problem(ctx, refusal))
        return
    if pressed.action == "approve":
        await _apply(ctx, proposal.id, "approve", pressed.version, note="")
        return
    await ctx.dialog.start(NOTE_FLOW, "note", proposal_id=proposal.id, version=pressed.version)
    await prompt_note(ctx)


async def prompt_note(ctx: Ctx) -> None:
    """Ask why the proposal is returned."""
    ctx.say(ctx.t("commendation.ask_note_return"), [[ctx.button("dialog.cancel", DialogControl("cancel"))]])


async def on_note(ctx: Ctx, typed: str) -> None:
    """The reason for returning the proposal; none, or one too long, is said and asked for again."""
    if not typed.strip():
        ctx.say(_problem(ctx, Problem("note", "note_required")))
        await prompt_note(ctx)
        return
    if len(typed) > domain.NOTE_MAX:
        ctx.say(ctx.t("commendation.note_too_long", high=domain.NOTE_MAX))
        return
    data = ctx.dialog.data
    await ctx.dialog.finish()
    await _apply(ctx, int(data["proposal_id"]), "return", int(data["version"]), note=typed)


async def _apply(ctx: Ctx, proposal_id: int, action: str, version: int, *, note: str) -> None:
    proposal = await ctx.repos.commendations.get(proposal_id)
    row = await ctx.repos.commendations.described(proposal_id)
    if proposal is None or row is None:
        await stale_button(ctx)
        return
    result = await domain.decide(
        ctx.repos, ctx.who, proposal, action, version=version, note=note, now=ctx.now
    )
    if isinstance(result, Problem):
        ctx.say(_problem(ctx, result))
        return
    form = Localized(lambda language: text(language, f"commendation.form_{row.form}"))
    name = Localized(lambda language: commended_name(language, row))
    ctx.say(ctx.t(f"commendation.done_{action}", form=form(ctx.lang), name=name(ctx.lang)))
    campaign = await ctx.repos.campaigns.get(proposal.campaign_id)
    params: dict[str, object] = {
        "form": form,
        "name": name,
        "unit": row.granting_unit_name,
        "campaign": campaign.title if campaign else "?",
        "note": note.strip(),
    }
    proposer = (
        await ctx.repos.accounts.by_id(proposal.proposer_account_id) if proposal.proposer_account_id else None
    )
    member = await ctx.repos.accounts.reached_through(proposal.member_id) if proposal.member_id else []
    if proposer is not None and proposer.id not in {account.id for account in member}:
        await notify(ctx, [proposer], "commendation", f"commendation.{result}_notice", (), **params)
    if member:
        await notify(ctx, member, "commendation", f"commendation.member_{result}_notice", (), **params)
    await _show_next(ctx, after_id=proposal_id)


PROPOSE = Flow(PROPOSE_FLOW, prompt, on_text, buttons_only=frozenset({FORM}))
RETURN_NOTE = Flow(NOTE_FLOW, prompt_note, on_note)
