"""How campaigns look in the chat: summaries, title names, problems worded, and the launch announcement."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from bot.domain.campaigns import days_left
from bot.domain.problems import Problem
from bot.domain.records import Campaign, PledgeResult, Registration, Unit
from bot.engine.buttons import ButtonData, ViewCampaign
from bot.engine.context import Ctx
from bot.engine.events import Button, Outgoing
from handlers.common import back_and_cancel
from messages import Html, formatting, text


def title_names(language: str, codes: tuple[str, ...] | list[str]) -> str:
    """Titles by their Vietnamese (or English) names, comma separated; "—" for none."""
    return ", ".join(text(language, f"titles.{code}") for code in codes) or "—"


def registration_lines(language: str, registration: Registration) -> list[Html]:
    """What someone registered: the titles, each pledged target, and the initiative behind a candidacy."""
    lines = [text(language, "register.summary_titles", titles=title_names(language, registration.titles))]
    lines += [
        text(language, "register.summary_pledge", content=p.content, unit=p.unit, figure=p.figure)
        for p in registration.pledges
    ]
    if not registration.pledges:
        lines.append(text(language, "register.summary_no_pledges"))
    if registration.initiative_title:
        lines.append(text(language, "register.summary_initiative", initiative=registration.initiative_title))
    return lines


def pledge_result_lines(
    language: str, registration: Registration, results: Sequence[PledgeResult | None]
) -> list[Html]:
    """A self-assessment's answered pledges: each reached or not, the figure achieved and the one planned."""
    return [
        text(
            language,
            "assess.result_reached" if result.reached else "assess.result_missed",
            content=pledge.content,
            unit=pledge.unit,
            planned=pledge.figure,
            figure=result.figure,
        )
        for pledge, result in zip(registration.pledges, results, strict=False)
        if result is not None
    ]


def title_switches(
    ctx: Ctx, offered: Sequence[str], switch: Callable[[str], ButtonData], done: ButtonData
) -> list[list[Button]]:
    """The titles offered, each a switch (✅ chosen in the draft, ⬜ not), then Done, Back and Cancel."""
    chosen = set(ctx.dialog.data.get("titles", []))
    rows = [
        [Button(("✅ " if code in chosen else "⬜ ") + ctx.t(f"titles.{code}"), switch(code).pack())]
        for code in offered
    ]
    return [*rows, [ctx.button("dialog.done", done)], back_and_cancel(ctx)]


async def switch_title(ctx: Ctx, title: str) -> None:
    """A title switched on or off in the dialog's draft."""
    chosen = list(ctx.dialog.data.get("titles", []))
    chosen = [c for c in chosen if c != title] if title in chosen else [*chosen, title]
    await ctx.dialog.update(titles=chosen)


def _shown(language: str, value: object) -> object:
    if isinstance(value, date):
        return formatting.day(value, language)
    if isinstance(value, int) and not isinstance(value, bool):  # "10.000.000", as every figure is shown
        return formatting.number(value, language)
    return value


def problem_text(ctx: Ctx, problem: Problem) -> Html:
    """A problem worded for the person, dates and numbers shown the Vietnamese way."""
    return word_problem(ctx.lang, problem)


def word_problem(language: str, problem: Problem) -> Html:
    """A problem worded in ``language`` (also for the CLI, which has no chat context)."""
    return text(
        language, f"problem.{problem.code}", **{k: _shown(language, v) for k, v in problem.params.items()}
    )


def campaign_details(language: str, campaign: Campaign, unit: Unit, today: date) -> Html:
    """The full description of a campaign: what, who, when, which titles, how many initiatives."""
    day = formatting.day
    lines = [
        text(
            language,
            "campaigns.details_head",
            title=campaign.title,
            code=campaign.code,
            kind=text(language, f"campaigns.kind_{campaign.kind}"),
            unit=unit.name,
        ),
        text(language, "campaigns.details_dates", start=day(campaign.starts_on), end=day(campaign.ends_on)),
        text(
            language,
            "campaigns.details_deadline",
            deadline=day(campaign.registration_deadline),
            left=days_left_text(language, campaign.registration_deadline, today),
        ),
    ]
    if campaign.initiative_deadline is not None:
        lines.append(
            text(
                language, "campaigns.details_initiative_deadline", deadline=day(campaign.initiative_deadline)
            )
        )
    if campaign.initiative_target is not None:
        lines.append(
            text(
                language,
                "campaigns.details_target",
                target=formatting.number(campaign.initiative_target, language),
            )
        )
    if campaign.individual_titles:
        lines.append(
            text(
                language,
                "campaigns.details_individual",
                titles=title_names(language, campaign.individual_titles),
            )
        )
    if campaign.collective_titles:
        lines.append(
            text(
                language,
                "campaigns.details_collective",
                titles=title_names(language, campaign.collective_titles),
            )
        )
    if campaign.description:
        lines.append(
            Html("\n" + text(language, "campaigns.details_description", description=campaign.description))
        )
    return Html("\n".join(lines))


def days_left_text(language: str, deadline: date, today: date) -> Html:
    """How far off a deadline is, in words: so many days left, the last day, or passed."""
    left = days_left(deadline, today)
    if left > 0:
        return text(language, "campaigns.days_left", days=left)
    return text(language, "campaigns.last_day" if left == 0 else "campaigns.past_deadline")


def announcement(
    campaign: Campaign, unit: Unit, languages: tuple[str, ...], today: date
) -> dict[str, dict[str, Any]]:
    """The launch announcement in every language, as outbox JSON, with a button to see and register."""
    messages = {}
    for language in languages:
        body = Html(
            text(language, "campaigns.announcement_head", unit=unit.name)
            + "\n\n"
            + campaign_details(language, campaign, unit, today)
        )
        button = Button(text(language, "campaigns.view_button"), ViewCampaign(campaign.id).pack())
        messages[language] = Outgoing(body, ((button,),)).to_json()
    return messages
