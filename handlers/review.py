"""/review (/duyet): the council's queue for an officer's subtree, oldest first, one initiative at a time;
valid or invalid (with a reason), scores on novelty, applicability and effect, a request for revision, and
recognition. Every step is refused if the initiative changed since its buttons were drawn, is written to
the initiative's history and is told to the author through the outbox.
"""

from __future__ import annotations

from bot.domain import initiatives as domain
from bot.domain.problems import Problem
from bot.domain.records import Initiative
from bot.engine.access import initiative_in_charge
from bot.engine.buttons import (
    DialogControl,
    ReviewNext,
    ReviewPoint,
    ReviewSkipNote,
    ReviewStep,
    ViewInitiative,
)
from bot.engine.context import Ctx, Flow
from bot.engine.events import Button
from handlers.campaign_views import problem_text
from handlers.common import stale_button
from handlers.initiative_views import history_lines, initiative_details, say_attachments
from handlers.notify import Localized, notify
from messages import Html, formatting, text

QUEUE_STATUSES = ("submitted", "valid")
QUEUE_LIMIT = 200
NOTE_FLOW, SCORE_FLOW = "review_note", "review_score"
NOTE_MAX = 1000
SKIPPABLE_NOTE = ("valid", "recognise", "not_recognise")
SIMILAR_SHOWN = 3  # recognised initiatives named on a card whose title is close to theirs


async def _queue(ctx: Ctx) -> list[Initiative]:
    found = await ctx.repos.initiatives.queue(ctx.who.led_paths, QUEUE_STATUSES, QUEUE_LIMIT)
    own = ctx.who.member.id if ctx.who.member else None
    return [initiative for initiative in found if initiative.author_member_id != own]


async def review_command(ctx: Ctx) -> None:
    """Show the oldest initiative waiting for the council in the officer's subtree."""
    await _show_next(ctx, after_id=None)


async def _show_next(ctx: Ctx, after_id: int | None) -> None:
    queue = await _queue(ctx)
    if after_id is not None:
        ids = [initiative.id for initiative in queue]
        queue = queue[ids.index(after_id) + 1 :] if after_id in ids else queue
    if not queue:
        ctx.say(ctx.t("review.empty"))
        return
    await _show(ctx, queue[0], waiting=len(queue))


async def _show(ctx: Ctx, initiative: Initiative, waiting: int) -> None:
    attachments = await ctx.repos.initiatives.attachments(initiative.id)
    unit = await ctx.repos.units.get(initiative.unit_id)
    head = ctx.t("review.head", waiting=formatting.number(waiting, ctx.lang), unit=unit.name if unit else "?")
    close = await domain.similar_recognised(ctx.repos, ctx.who, initiative)
    if close:
        lines = [
            ctx.t("review.similar_line", title=found.title, campaign=found.campaign)
            if found.campaign
            else ctx.t("review.similar_line_alone", title=found.title)
            for found in close[:SIMILAR_SHOWN]
        ]
        head = Html(head + "\n" + ctx.t("review.similar_recognised", titles=Html("\n".join(lines))))
    body = Html(head + "\n\n" + await initiative_details(ctx, initiative, attachments))
    history = await ctx.repos.initiatives.history(initiative.id)
    if history:
        body = Html(body + "\n\n" + await history_lines(ctx, history))

    def step(action: str) -> ReviewStep:
        return ReviewStep(action, initiative.id, initiative.version)

    if initiative.status == "submitted":
        rows = [
            [
                ctx.button("review.valid_button", step("valid")),
                ctx.button("review.invalid_button", step("invalid")),
            ]
        ]
    else:
        rows = [
            [ctx.button("review.score_button", step("score"))],
            [
                ctx.button("review.recognise_button", step("recognise")),
                ctx.button("review.not_recognise_button", step("not_recognise")),
            ],
        ]
    rows.append(
        [
            ctx.button("review.revision_button", step("revision")),
            ctx.button("review.next_button", ReviewNext(initiative.id)),
        ]
    )
    ctx.say(body, rows)
    say_attachments(ctx, initiative, attachments)


async def next_button(ctx: Ctx, pressed: ReviewNext) -> None:
    """The next initiative in the queue."""
    await _show_next(ctx, after_id=pressed.after)


async def point_button(ctx: Ctx, pressed: ReviewPoint) -> None:
    """A score pressed."""
    await _on_point(ctx, pressed.point)


async def skip_note(ctx: Ctx, pressed: ReviewSkipNote) -> None:
    """No note, where one is optional."""
    await _apply_note(ctx, "")


async def button(ctx: Ctx, pressed: ReviewStep) -> None:
    """A council action; notes and scores are asked for in a short dialog. Refused at once, saying nothing
    about the initiative, when it is not from a unit the officer covers."""
    action, version = pressed.action, pressed.version
    initiative = await initiative_in_charge(ctx.repos, ctx.who, pressed.initiative)
    if initiative is None:
        await stale_button(ctx)
        return
    refusal = domain.review_refusal(initiative, action, version)
    if refusal is not None:
        ctx.say(problem_text(ctx, refusal))
        return
    if action == "valid":
        await _apply(ctx, initiative, action, version, note="", scores=None)
    elif action == "score":
        await ctx.dialog.start(
            SCORE_FLOW, domain.CRITERIA[0], initiative_id=initiative.id, version=version, scores={}
        )
        await prompt_score(ctx)
    else:
        await ctx.dialog.start(NOTE_FLOW, "note", initiative_id=initiative.id, version=version, action=action)
        await prompt_note(ctx)


async def prompt_note(ctx: Ctx) -> None:
    """Ask for the reason or the note of the pending action."""
    action = ctx.dialog.data.get("action", "")
    rows = [[ctx.button("dialog.skip", ReviewSkipNote())]] if action in SKIPPABLE_NOTE else []
    ctx.say(
        ctx.t(f"review.ask_note_{action}"), [*rows, [ctx.button("dialog.cancel", DialogControl("cancel"))]]
    )


async def on_note(ctx: Ctx, text: str) -> None:
    """The typed reason or note."""
    if len(text) > NOTE_MAX:
        ctx.say(ctx.t("review.note_too_long", high=NOTE_MAX))
        return
    await _apply_note(ctx, text)


async def _apply_note(ctx: Ctx, note: str) -> None:
    data = ctx.dialog.data
    if not ctx.dialog.is_in(NOTE_FLOW) or (not note and data.get("action") not in SKIPPABLE_NOTE):
        await stale_button(ctx)
        return
    initiative = await ctx.repos.initiatives.get(int(data["initiative_id"]))
    await ctx.dialog.finish()
    if initiative is None:
        await stale_button(ctx)
        return
    await _apply(ctx, initiative, str(data["action"]), int(data["version"]), note=note, scores=None)


async def prompt_score(ctx: Ctx) -> None:
    """Ask for the score on the current criterion, as buttons 1..scale."""
    state = ctx.dialog.state
    assert state is not None
    scale = ctx.settings.review_scale
    points = [Button(str(n), ReviewPoint(n).pack()) for n in range(1, scale + 1)]
    rows = [points[i : i + 5] for i in range(0, len(points), 5)]
    ctx.say(
        ctx.t("review.ask_score", criterion=ctx.t(f"initiative.criterion_{state.step}"), high=scale),
        [
            *rows,
            [
                ctx.button("dialog.back", DialogControl("back")),
                ctx.button("dialog.cancel", DialogControl("cancel")),
            ],
        ],
    )


async def on_score_text(ctx: Ctx, text: str) -> None:
    """A score typed instead of pressed."""
    if text.strip().isdecimal():  # isdigit() would take "²", which int() refuses
        await _on_point(ctx, int(text.strip()))
    else:
        ctx.say(ctx.t("dialog.use_buttons"))
        await prompt_score(ctx)


async def _on_point(ctx: Ctx, point: int) -> None:
    state = ctx.dialog.state
    if state is None or state.flow != SCORE_FLOW:
        await stale_button(ctx)
        return
    if not 1 <= point <= ctx.settings.review_scale:
        ctx.say(problem_text(ctx, Problem("scores", "scores_range", {"high": ctx.settings.review_scale})))
        return
    scores = {**state.data.get("scores", {}), state.step: point}
    position = domain.CRITERIA.index(state.step)
    if position + 1 < len(domain.CRITERIA):
        await ctx.dialog.advance(domain.CRITERIA[position + 1], scores=scores)
        await prompt_score(ctx)
        return
    initiative = await ctx.repos.initiatives.get(int(state.data["initiative_id"]))
    version = int(state.data["version"])
    await ctx.dialog.finish()
    if initiative is None:
        await stale_button(ctx)
        return
    await _apply(ctx, initiative, "score", version, note="", scores=scores)


def _notice_note(action: str, note: str) -> object:
    """The note as the author's notice shows it: its own line after a decision, nothing when none given."""
    if action not in ("recognise", "not_recognise"):
        return note
    return Localized(lambda language: text(language, "initiative.notice_note", note=note)) if note else ""


async def _apply(
    ctx: Ctx, initiative: Initiative, action: str, version: int, *, note: str, scores: dict[str, int] | None
) -> None:
    result = await domain.review(
        ctx.repos,
        ctx.who,
        initiative,
        action,
        version=version,
        note=note,
        scores=scores,
        scale=ctx.settings.review_scale,
        now=ctx.now,
    )
    if isinstance(result, Problem):
        ctx.say(problem_text(ctx, result))
        return
    ctx.say(ctx.t(f"review.done_{action}", title=initiative.title))
    author = await ctx.repos.accounts.reached_through(initiative.author_member_id)
    params: dict[str, object] = {"title": initiative.title}
    if scores:
        params["scores"] = Localized(
            lambda language: ", ".join(
                f"{text(language, f'initiative.criterion_{name}')} {point}" for name, point in scores.items()
            )
        )
        params["total"] = sum(scores.values())
    await notify(
        ctx,
        author,
        "initiative_review",
        f"initiative.notice_{action}",
        [("initiative.view_button", ViewInitiative(initiative.id))],
        note=_notice_note(action, note),
        **params,
    )
    moved = await ctx.repos.initiatives.get(initiative.id)
    if moved is not None and moved.status in QUEUE_STATUSES:  # screened valid: the same one, to score it
        await _show(ctx, moved, waiting=len(await _queue(ctx)))
    else:
        await _show_next(ctx, after_id=initiative.id)


REVIEW_NOTE_FLOW = Flow(NOTE_FLOW, prompt_note, on_note)
REVIEW_SCORE_FLOW = Flow(SCORE_FLOW, prompt_score, on_score_text)
