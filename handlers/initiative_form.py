"""/submit (/sangkien): a member fills an initiative application step by step. Every answer is written to
the draft at once, so the member can stop ("Để sau") and find it again later, after a restart too. When
several campaigns accept initiatives the member picks one first. A preview allows an edit of any part, warns
of shares that do not add up and of similar titles in the campaign, and submits. Also used to revise one.
"""

from __future__ import annotations

from datetime import date

from bot.domain import initiative_drafts as drafts
from bot.domain import initiatives as domain
from bot.domain.campaigns import open_for
from bot.domain.problems import Problem
from bot.domain.records import Campaign, CoAuthor, Initiative
from bot.domain.vn.parsing import ParseError, means_none, parse_date, parse_money, parse_share
from bot.domain.vn.textkeys import search_key
from bot.engine.buttons import (
    DialogControl,
    InitiativeCampaign,
    InitiativeField,
    InitiativeGoto,
    InitiativeStep,
    OpenInitiative,
    ResumeInitiative,
    SubmitDespiteSimilar,
    SubmitInitiative,
)
from bot.engine.context import Ctx, Flow
from bot.engine.events import Button
from handlers.campaign_views import problem_text
from handlers.common import link_first, stale_button
from handlers.initiative_views import initiative_details, initiative_name
from messages import Html

FLOW = "initiative"
CAMPAIGN, TITLE, FIELD, PROBLEM, BEFORE, STEPS, IMPROVEMENT = (
    "campaign",
    "title",
    "field",
    "problem",
    "before",
    "steps",
    "improvement",
)
FIRST_APPLIED, CONDITIONS, BENEFIT, VALUE, SHARE, COAUTHORS, FILES, PREVIEW = (
    "first_applied_on",
    "conditions",
    "benefit",
    "value",
    "share",
    "coauthors",
    "files",
    "preview",
)
FORM = (
    TITLE,
    FIELD,
    PROBLEM,
    BEFORE,
    STEPS,
    IMPROVEMENT,
    FIRST_APPLIED,
    CONDITIONS,
    BENEFIT,
    VALUE,
    SHARE,
    COAUTHORS,
    FILES,
    PREVIEW,
)
TEXT_STEPS = (TITLE, FIELD, PROBLEM, BEFORE, STEPS, IMPROVEMENT, CONDITIONS, BENEFIT)
OPTIONAL = (VALUE, FILES)  # co-authors have their own buttons: keep them, or none
EDITABLE_PARTS = (*FORM[: FORM.index(PREVIEW)], CAMPAIGN)  # every answer, then the campaign it counts for


def _controls(ctx: Ctx, step: str) -> list[Button]:
    row = [ctx.button("dialog.skip", InitiativeStep("skip"))] if step in OPTIONAL else []
    return [
        *row,
        ctx.button("dialog.back", DialogControl("back")),
        ctx.button("initiative.later_button", DialogControl("cancel")),
    ]


async def _open_campaigns(ctx: Ctx, initiative: Initiative | None = None) -> list[Campaign]:
    """The campaigns of the member's unit and those above it that accept initiatives today (for one already
    sent, only those open now: a draft may count for one not started yet)."""
    assert ctx.who.unit is not None
    drafting = initiative is None or initiative.status == "draft"
    return domain.accepting(await open_for(ctx.repos, ctx.who.unit), ctx.today, drafts=drafting)


async def submit_command(ctx: Ctx) -> None:
    """/submit: continue the member's draft, or open a new one."""
    if ctx.who.member is None or ctx.who.unit is None:
        await link_first(ctx)
        return
    draft = await ctx.repos.initiatives.draft_of(ctx.who.member.id)
    if draft is not None:
        ctx.say(
            ctx.t("initiative.draft_found", name=initiative_name(ctx, draft.title)),
            [
                [
                    ctx.button("initiative.continue_button", ResumeInitiative(draft.id)),
                    ctx.button("initiative.new_button", InitiativeStep("new")),
                ]
            ],
        )
        return
    await _new(ctx)


async def _new(ctx: Ctx) -> None:
    assert ctx.who.member is not None and ctx.who.unit is not None
    campaigns = await _open_campaigns(ctx)
    default = campaigns[0] if len(campaigns) == 1 else None
    initiative_id = await drafts.start_draft(ctx.repos, ctx.who.member, ctx.who.unit, default, ctx.now)
    if len(campaigns) > 1:  # which one it counts for is the member's choice, asked before anything else
        await ctx.dialog.start(FLOW, CAMPAIGN, initiative_id=initiative_id)
        ctx.say(ctx.t("initiative.intro_choose", count=len(campaigns)))
    else:
        await ctx.dialog.start(FLOW, TITLE, initiative_id=initiative_id)
        _intro(ctx, default)
    await prompt(ctx)


def _intro(ctx: Ctx, campaign: Campaign | None) -> None:
    ctx.say(
        ctx.t("initiative.intro", campaign=campaign.title if campaign else ctx.t("initiative.no_campaign"))
    )


async def _initiative(ctx: Ctx) -> Initiative | None:
    initiative_id = ctx.dialog.data.get("initiative_id")
    found = await ctx.repos.initiatives.get(initiative_id) if isinstance(initiative_id, int) else None
    member = ctx.who.member
    if found is None or member is None or found.author_member_id != member.id:
        return None
    return found if found.status in domain.AUTHOR_EDITABLE else None


async def prompt(ctx: Ctx) -> None:
    """Ask for the current step."""
    state = ctx.dialog.state
    initiative = await _initiative(ctx)
    if state is None or initiative is None:
        await ctx.dialog.finish()
        await stale_button(ctx)
        return
    step = state.step
    if step == FIELD:
        ctx.say(ctx.t("initiative.ask_field"), [*_step_rows(ctx, step, initiative), _controls(ctx, step)])
    elif step == CAMPAIGN:
        offered = await _open_campaigns(ctx, initiative)
        rows = [[Button(c.title, InitiativeCampaign(c.id).pack())] for c in offered]
        ctx.say(
            ctx.t("initiative.ask_campaign"),
            [
                *rows,
                [ctx.button("initiative.no_campaign_button", InitiativeCampaign(0))],
                _controls(ctx, step),
            ],
        )
    elif step == COAUTHORS:
        text = ctx.t("initiative.ask_coauthors")
        if initiative.coauthors:
            authors = _authors(ctx, initiative.coauthors)
            text = Html(text + "\n\n" + ctx.t("initiative.coauthors_now", authors=authors))
        ctx.say(text, [*_step_rows(ctx, step, initiative), _controls(ctx, step)])
    elif step == PREVIEW:
        await _preview(ctx, initiative)
    elif step == FILES:
        count = len(await ctx.repos.initiatives.attachments(initiative.id))
        ctx.say(
            ctx.t("initiative.ask_files", count=count, high=domain.MAX_ATTACHMENTS),
            [[ctx.button("dialog.done", InitiativeStep("skip"))], _controls(ctx, step)[1:]],
        )
    else:
        ctx.say(ctx.t(f"initiative.ask_{step}"), [_controls(ctx, step)])


async def _preview(ctx: Ctx, initiative: Initiative) -> None:
    attachments = await ctx.repos.initiatives.attachments(initiative.id)
    body = await initiative_details(ctx, initiative, attachments)
    rows = [[ctx.button("initiative.edit_button", InitiativeStep("edit"))]]
    shares = domain.check_shares(initiative.author_share, initiative.coauthors)
    if shares is not None:
        body = Html(body + "\n\n" + ctx.t("initiative.shares_warning", total=shares.params["total"]))
    if initiative.status in ("draft", "revision"):
        rows.insert(0, [ctx.button("initiative.submit_button", SubmitInitiative(initiative.version))])
        absent = domain.missing(initiative)
        if absent:
            body = Html(
                body
                + "\n\n"
                + ctx.t(
                    "initiative.still_missing",
                    parts=", ".join(ctx.t(f"initiative.part_{part}") for part in absent),
                )
            )
    else:
        body = Html(body + "\n\n" + ctx.t("initiative.saved_submitted"))
    ctx.say(
        Html(ctx.t("initiative.preview") + "\n\n" + body),
        [*rows, [ctx.button("dialog.close", DialogControl("cancel"))]],
    )


async def _next(ctx: Ctx) -> None:
    """Move on: back to the preview when one part was being edited, else to the next step."""
    state = ctx.dialog.state
    assert state is not None
    if state.data.get("editing"):
        await ctx.dialog.advance(PREVIEW)
    elif state.step == CAMPAIGN:  # chosen before the form, as the first question of a new initiative
        await ctx.dialog.advance(TITLE)
    else:
        await ctx.dialog.advance(FORM[FORM.index(state.step) + 1])
    await prompt(ctx)


async def _save(ctx: Ctx, initiative: Initiative, **values: object) -> None:
    await drafts.save_answers(ctx.repos, initiative, ctx.now, **values)


def _authors(ctx: Ctx, coauthors: tuple[CoAuthor, ...]) -> Html:
    return Html(", ".join(ctx.t("initiative.author_line", name=c.name, share=c.share) for c in coauthors))


def _step_rows(ctx: Ctx, step: str, initiative: Initiative) -> list[list[Button]]:
    """The answers a step offers as buttons: the common fields; keeping the co-authors, or none."""
    if step == FIELD:
        return [
            [ctx.button(f"initiative.field_{code}", InitiativeField(code))] for code in domain.COMMON_FIELDS
        ]
    if step == COAUTHORS:
        keep = (
            [ctx.button("initiative.coauthors_keep", InitiativeStep("keep"))] if initiative.coauthors else []
        )
        return [[*keep, ctx.button("initiative.coauthors_none", InitiativeStep("alone"))]]
    return []


def _complain(ctx: Ctx, step: str, initiative: Initiative, problem: Problem | ParseError) -> None:
    body = (
        problem_text(ctx, problem)
        if isinstance(problem, Problem)
        else ctx.t(f"parse.{problem.code}", **problem.params)
    )
    ctx.say(body, [*_step_rows(ctx, step, initiative), _controls(ctx, step)])


async def on_text(ctx: Ctx, text: str) -> None:
    """A typed answer for the current step, checked and written to the draft."""
    state = ctx.dialog.state
    initiative = await _initiative(ctx)
    if state is None or initiative is None:
        await ctx.dialog.finish()
        await stale_button(ctx)
        return
    step = state.step
    value = text.strip()
    if step in TEXT_STEPS:
        if step in (TITLE, FIELD):
            value = " ".join(value.split())
        problem = domain.check_text(step, value)
        if problem is not None:
            _complain(ctx, step, initiative, problem)
            return
        extra = {"title_key": search_key(value)} if step == TITLE else {}
        await _save(ctx, initiative, **{step: value}, **extra)
    elif step == FIRST_APPLIED:
        day = parse_date(value, ctx.today, past=True)
        problem_or_none = day if isinstance(day, ParseError) else domain.check_first_applied(day, ctx.today)
        if problem_or_none is not None:
            _complain(ctx, step, initiative, problem_or_none)
            return
        assert isinstance(day, date)
        await _save(ctx, initiative, first_applied_on=day)
    elif step == VALUE:
        amount = parse_money(value)
        if isinstance(amount, ParseError):
            _complain(ctx, step, initiative, amount)
            return
        await _save(ctx, initiative, value_dong=amount)
    elif step == SHARE:
        share = parse_share(value)
        if isinstance(share, ParseError):
            _complain(ctx, step, initiative, share)
            return
        await drafts.set_authors(ctx.repos, initiative, share, initiative.coauthors, ctx.now)
        shares = domain.check_shares(share, initiative.coauthors)
        if shares is not None and (initiative.coauthors or state.data.get("editing")):
            ctx.say(problem_text(ctx, shares))  # the co-authors' shares come next, to make it 100%
            await ctx.dialog.advance(COAUTHORS)
            await prompt(ctx)
            return
    elif step == COAUTHORS and means_none(value):
        await _alone(ctx, initiative)
        return
    elif step == COAUTHORS:
        coauthors = domain.parse_coauthors(value)
        problem = (
            coauthors
            if isinstance(coauthors, Problem)
            else domain.check_shares(initiative.author_share, coauthors)
        )
        if problem is not None:
            _complain(ctx, step, initiative, problem)
            return
        assert isinstance(coauthors, list)
        await drafts.set_authors(ctx.repos, initiative, initiative.author_share, coauthors, ctx.now)
    else:
        ctx.say(ctx.t("dialog.use_buttons"))
        await prompt(ctx)
        return
    await _next(ctx)


async def on_file(ctx: Ctx) -> None:
    """A photo or document sent while the form is open: kept as an attachment at the files step."""
    state = ctx.dialog.state
    initiative = await _initiative(ctx)
    attachment = ctx.event.attachment
    if state is None or initiative is None or attachment is None or state.step != FILES:
        ctx.say(ctx.t("initiative.files_not_now"))
        return
    sent = drafts.SentFile(
        ctx.event.channel, attachment.file_id, attachment.is_photo, attachment.file_name, attachment.size
    )
    count = await drafts.attach(ctx.repos, initiative, sent, ctx.now)
    if isinstance(count, Problem):  # too big, or too many
        ctx.say(problem_text(ctx, count))
        return
    ctx.say(
        ctx.t("initiative.file_kept", count=count, high=domain.MAX_ATTACHMENTS),
        [[ctx.button("dialog.done", InitiativeStep("skip"))]],
    )


async def open_button(ctx: Ctx, pressed: ResumeInitiative | OpenInitiative) -> None:
    """Continue one's draft where it was left, or edit one's initiative from its page (at the preview)."""
    member = ctx.who.member
    if member is None:
        await link_first(ctx)
        return
    found = await ctx.repos.initiatives.get(pressed.initiative)
    if found is None or found.author_member_id != member.id or found.status not in domain.AUTHOR_EDITABLE:
        await stale_button(ctx)
        return
    editing = isinstance(pressed, OpenInitiative)
    absent = domain.missing(found)
    first = PREVIEW if editing or not absent else next(s for s in FORM if s in absent)
    if first == TITLE and found.campaign_id is None and len(await _open_campaigns(ctx)) > 1:
        first = CAMPAIGN  # kept for later at the first question: which campaign it counts for is asked again
    await ctx.dialog.start(FLOW, first, initiative_id=found.id, editing=editing)
    await prompt(ctx)


FormButton = (
    InitiativeStep
    | InitiativeField
    | InitiativeCampaign
    | InitiativeGoto
    | SubmitInitiative
    | SubmitDespiteSimilar
)


async def button(ctx: Ctx, pressed: FormButton) -> None:
    """The form's buttons: new, field, campaign, skip, edit, the part to edit, submit."""
    if pressed == InitiativeStep("new"):
        if ctx.who.member is None or ctx.who.unit is None:
            await link_first(ctx)
        else:
            await _new(ctx)
        return
    state = ctx.dialog.state
    initiative = await _initiative(ctx)
    if state is None or state.flow != FLOW or initiative is None:
        await stale_button(ctx)
        return
    step = state.step
    match pressed:
        case InitiativeField(field=field) if step == FIELD:
            await _save(ctx, initiative, field=ctx.t(f"initiative.field_{field}"))
            await _next(ctx)
        case InitiativeCampaign(campaign=campaign_id) if step == CAMPAIGN:
            if campaign_id and campaign_id not in {c.id for c in await _open_campaigns(ctx, initiative)}:
                await stale_button(ctx)
                return
            await _save(ctx, initiative, campaign_id=campaign_id or None)
            if not state.data.get("editing"):
                _intro(ctx, next((c for c in await _open_campaigns(ctx) if c.id == campaign_id), None))
            await _next(ctx)
        case InitiativeStep(action="skip") if step in OPTIONAL:
            await _next(ctx)
        case InitiativeStep(action="keep") if step == COAUTHORS:
            problem = domain.check_shares(initiative.author_share, initiative.coauthors)
            if problem is not None:
                _complain(ctx, step, initiative, problem)
                return
            await _next(ctx)
        case InitiativeStep(action="alone") if step == COAUTHORS:
            await _alone(ctx, initiative)
        case InitiativeStep(action="edit") if step == PREVIEW:
            rows = [[ctx.button(f"initiative.part_{part}", InitiativeGoto(part))] for part in EDITABLE_PARTS]
            ctx.say(ctx.t("initiative.which_part"), rows)
        case InitiativeGoto(part=part) if step == PREVIEW and part in EDITABLE_PARTS:
            await ctx.dialog.advance(part, editing=True)
            await prompt(ctx)
        case SubmitInitiative(version=version) if step == PREVIEW:
            await _submit(ctx, initiative, version)
        case SubmitDespiteSimilar(version=version) if step == PREVIEW:
            await _submit(ctx, initiative, version, despite_similar=True)
        case _:
            await stale_button(ctx)


async def _alone(ctx: Ctx, initiative: Initiative) -> None:
    """No co-authors: any listed are removed, and the member's share is the whole."""
    await drafts.set_authors(ctx.repos, initiative, 100, [], ctx.now)
    ctx.say(ctx.t("initiative.coauthors_removed"))
    await _next(ctx)


async def _submit(ctx: Ctx, initiative: Initiative, version: int, despite_similar: bool = False) -> None:
    if version != initiative.version:
        ctx.say(problem_text(ctx, Problem("initiative", "changed_since", {"title": initiative.title})))
        await prompt(ctx)
        return
    absent = domain.missing(initiative)
    if absent:
        names = ", ".join(ctx.t(f"initiative.part_{part}") for part in absent)
        ctx.say(ctx.t("initiative.still_missing", parts=names))
        return
    shares = domain.check_shares(initiative.author_share, initiative.coauthors)
    if shares is not None:  # before the similar titles: a refusal after that question wastes it
        ctx.say(
            problem_text(ctx, shares), [[ctx.button("initiative.part_coauthors", InitiativeGoto(COAUTHORS))]]
        )
        return
    if initiative.campaign_id is not None and not despite_similar:
        candidates = await ctx.repos.initiatives.titles_in_campaign(initiative.campaign_id, initiative.id)
        close = domain.similar_titles(search_key(initiative.title), candidates)
        if close:
            ctx.say(
                ctx.t("initiative.similar", titles="\n".join(f"• «{title}»" for _, title in close[:3])),
                [
                    [
                        ctx.button("initiative.submit_anyway", SubmitDespiteSimilar(initiative.version)),
                        ctx.button("initiative.edit_button", InitiativeStep("edit")),
                    ]
                ],
            )
            return
    problem = await domain.submit(ctx.repos, initiative, ctx.who.actor, ctx.now, ctx.today)
    if problem is not None:
        ctx.say(problem_text(ctx, problem))
        await prompt(ctx)
        return
    await ctx.dialog.finish()
    ctx.say(ctx.t("initiative.submitted", title=initiative.title))


async def keep_for_later(ctx: Ctx) -> None:
    """Leaving the form ("Để sau", Close, /cancel): every answer is already stored; say so, and how to come
    back."""
    initiative = await _initiative(ctx)
    if initiative is None:
        ctx.say(ctx.t("dialog.cancelled"))
    elif initiative.status == "draft":
        ctx.say(ctx.t("initiative.kept_for_later", name=initiative_name(ctx, initiative.title)))
    else:
        ctx.say(ctx.t("initiative.changes_kept", title=initiative.title))


INITIATIVE_FLOW = Flow(
    FLOW, prompt, on_text, on_file, keep_for_later, buttons_only=frozenset({CAMPAIGN, FILES, PREVIEW})
)
