"""Officers' /stats (/thongke) with a chart, /export (/baocao) as an XLSX workbook, and /report with the
interim or final review summary, for the part of a campaign's subtree the officer covers.

The campaign is picked in the update's transaction; the figures and rows are read after it, apart
(``ctx.after_commit``; ``ctx.read_apart`` for the chart and the written report, ``ctx.build_apart``, a child
process, for the workbook), where the chart and the workbook are drawn too, so an export of a province keeps
nobody else waiting; the workbook's rows go into it from the cursor as they come, and the
written report reads only the recognised initiatives. A workbook larger than the channel takes goes as a
download link where the service has a public address, else as one workbook per unit directly below the scope.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Literal
from zoneinfo import ZoneInfo

from bot.domain.campaigns import launched_above
from bot.domain.commendations import forms
from bot.domain.insight_queries import (
    campaign_figures,
    commendation_figures,
    commended,
    export_data,
    recognised_initiatives,
    title_figures,
)
from bot.domain.insights import (
    CampaignFigures,
    CommendationRow,
    ExportData,
    FormFigures,
    InitiativeRow,
    TitleCount,
    UnitFigures,
    title_totals,
)
from bot.domain.records import Campaign, Unit
from bot.engine.access import campaign_scope
from bot.engine.buttons import ButtonData, PickInsight
from bot.engine.context import ApartRepos, BuildFailed, Ctx
from bot.engine.events import Button, FileOut
from handlers.common import stale_button
from handlers.progress import against_target
from messages import Html, escape, formatting, plain, text

TOP = 3
PICK_LIMIT = 15  # campaigns offered as buttons
TITLE_UNITS_SHOWN = 20  # units named with their titles in /tongket; the workbook has every one
CAPTION_LIMIT = 1024


Report = Literal["stats", "export", "report"]


async def campaigns_in_view(ctx: Ctx) -> list[Campaign]:
    """The launched and closed campaigns of the officer's units, and those launched above that concern them
    too."""
    running = await ctx.repos.campaigns.within(ctx.who.led_paths, ("launched", "closed"))
    return running + [c for c in await launched_above(ctx.repos, ctx.who.led_units) if c not in running]


async def pick_campaign(
    ctx: Ctx, button: Callable[[int], ButtonData], prompt: str = "insights.pick", *, drafts: bool = True
) -> tuple[Campaign, Unit] | None:
    """The campaign named in the command (or the only one in view) with the officer's scope in it; else None,
    said as the choice of those in view (each a ``button`` of its id) or as why there is none. /stats,
    /export, /report, /propose and /binhxet pick their campaign here; a draft named by its code is out of
    reach where ``drafts`` is False."""
    if ctx.event.args:
        code = ctx.event.args[0]
        found = await campaign_scope(ctx.repos, ctx.who, await ctx.repos.campaigns.by_code(code))
        # another unit's campaign is answered exactly like none at all
        if found is None or (not drafts and found[0].status == "draft"):
            ctx.say(ctx.t("problem.campaign_out_of_reach", code=code))
            return None
        return found
    running = await campaigns_in_view(ctx)
    if not running:
        ctx.say(ctx.t("insights.no_campaign"))
        return None
    if len(running) > 1:
        rows = [[Button(c.title, button(c.id).pack())] for c in running[:PICK_LIMIT]]
        ctx.say(ctx.t(prompt), rows)
        return None
    return await campaign_scope(ctx.repos, ctx.who, running[0])


# matplotlib (half a second to import, tens of MB) and XlsxWriter are loaded by the first chart or
# workbook, in the worker thread that draws it, never at start and never on the event loop.
def _draw_chart(figures: CampaignFigures, language: str) -> bytes:
    from bot.reports.charts import stats_chart

    return stats_chart(figures, language)


def _build_workbook(data: ExportData, language: str, zone: ZoneInfo, lines: list[str]) -> bytes:
    from bot.reports.export_xlsx import build_workbook

    return build_workbook(data, language, zone, lines)


def _note_workbook_writer() -> None:
    # Whether libxlsxwriter writes the workbooks is said once in the bot's own log, at the first export: the
    # children that write them have none.
    from bot.reports.xlsx_native import library

    library()


def _unit_names(units: list[UnitFigures]) -> str:
    return ", ".join(f.unit.name for f in units) or "—"


def _rated_names(language: str, units: list[UnitFigures]) -> str:
    return ", ".join(
        str(
            text(
                language,
                "insights.rated_unit",
                unit=f.unit.name,
                rate=formatting.percent(f.registered, f.roster, language),
            )
        )
        for f in units
    )


def standing_lines(language: str, figures: CampaignFigures) -> list[Html]:
    """Leading and lagging units below the scope, never the same one; or why there are none to name."""
    standing = figures.standing(TOP)
    if not figures.children:
        return [text(language, "insights.no_units_below", unit=figures.scope.unit.name)]
    if standing.compared < 2:
        return [
            text(language, "insights.too_few_units", unit=figures.scope.unit.name, count=standing.compared)
        ]
    if standing.level:
        only = next(f for f in figures.ranked() if f.roster)
        rate = formatting.percent(only.registered, only.roster, language)
        return [text(language, "insights.units_level", count=standing.compared, rate=rate)]
    return [
        text(language, "insights.top", units=_rated_names(language, standing.leading)),
        text(language, "insights.bottom", units=_rated_names(language, standing.lagging)),
    ]


def summary(language: str, figures: CampaignFigures) -> Html:
    """The lines an officer reads first: registration, initiatives against the scope's own target, who leads
    and who lags among the units directly below."""
    scope, campaign = figures.scope, figures.campaign
    number = formatting.number
    lines = [
        text(language, "insights.head", title=campaign.title, unit=scope.unit.name),
        text(
            language,
            "insights.registration",
            registered=number(scope.registered, language),
            roster=number(scope.roster, language),
            percent=formatting.percent(scope.registered, scope.roster, language),
            linked=number(scope.linked, language),
        ),
        text(
            language,
            "insights.initiatives",
            progress=against_target(language, scope.submitted, scope.target),
            valid=number(scope.valid, language),
            recognised=number(scope.recognised, language),
        ),
        *standing_lines(language, figures),
    ]
    return Html("\n".join(lines))


async def stats_command(ctx: Ctx) -> None:
    """/stats [CODE]."""
    picked = await pick_campaign(ctx, partial(PickInsight, "stats"))
    if picked is not None:
        _stats(ctx, *picked)


def _stats(ctx: Ctx, campaign: Campaign, scope: Unit) -> None:
    ctx.after_commit(partial(_send_stats, ctx, campaign, scope))


async def _figures_and_chart(
    repos: ApartRepos, campaign: Campaign, scope: Unit, now: datetime, zone: ZoneInfo, chart_in: str | None
) -> tuple[CampaignFigures, bytes | None]:
    """Read apart: the figures, and the chart drawn from them in ``chart_in``'s language where asked."""
    figures = await campaign_figures(repos, campaign, scope, now, zone)
    return figures, _draw_chart(figures, chart_in) if chart_in is not None else None


async def _send_stats(ctx: Ctx, campaign: Campaign, scope: Unit) -> None:
    chart_in = ctx.lang if ctx.channel.capabilities.delivers_files else None
    figures, png = await ctx.read_apart(
        partial(
            _figures_and_chart,
            campaign=campaign,
            scope=scope,
            now=ctx.now,
            zone=ctx.settings.zone,
            chart_in=chart_in,
        )
    )
    words = summary(ctx.lang, figures)
    if png is None:  # the figures in words are the whole answer
        ctx.say(words)
        return
    name = f"{campaign.code}-thong-ke.png"
    if len(words) <= CAPTION_LIMIT:
        ctx.say(words, file=FileOut(name, png, is_photo=True))
    else:
        ctx.say(words)
        ctx.say(ctx.t("insights.chart_caption", title=campaign.title), file=FileOut(name, png, is_photo=True))


def _without_symbols(words: str) -> str:
    """Text to paste into a written report: no emoji or pictographs, no space they leave at a line's start."""
    kept = "".join(
        char for char in words if unicodedata.category(char) != "So" and char not in "\ufe0f\u200d"
    )
    return "\n".join(line.strip() for line in kept.splitlines())


def _authors(row: InitiativeRow) -> str:
    return ", ".join([row.author_name, *(name for name, _ in row.coauthors)])


def commendation_lines(
    language: str, commendations: list[FormFigures], approved: list[CommendationRow]
) -> list[Html]:
    """The year's commendations as the articles count them: per form and level, proposed and granted (so many
    collectives, individuals, initiatives), returned and waiting; then those to commend, with achievements."""
    number = partial(formatting.number, language=language)
    lines = [text(language, "report.commend_head")]
    lines += [
        text(
            language,
            "report.commend_form",
            form=text(language, f"commendation.form_{f.form}"),
            level=text(language, f"commendation.level_{f.level}"),
            proposed=number(f.proposed),
            granted=number(f.granted),
            collectives=number(f.collectives),
            individuals=number(f.individuals),
            initiatives=number(f.initiatives),
            returned=number(f.returned),
            waiting=number(f.waiting),
        )
        for f in commendations
    ] or [text(language, "report.commend_none")]
    if approved:
        lines.append(text(language, "report.commend_list"))
        lines += [
            text(
                language,
                "report.commend_line_collective" if row.kind == "collective" else "report.commend_line",
                form=text(language, f"commendation.form_{row.form}"),
                name=commended_name(language, row),
                unit=row.unit_name,
                achievements=row.achievements,
            )
            for row in approved
        ]
    return [Html("\n".join(lines))]


def title_count(language: str, count: TitleCount) -> str:
    """A title's count as the articles say it: "187 lượt Chiến sĩ thi đua cơ sở", "12 tập thể đạt Tập thể
    lao động xuất sắc"."""
    name = text(language, f"titles.{count.title}")
    number = partial(formatting.number, language=language)
    said = []
    if count.individual:
        said.append(text(language, "report.title_individual", count=number(count.individual), title=name))
    if count.collective:
        said.append(text(language, "report.title_collective", count=number(count.collective), title=name))
    return ", ".join(plain(words) for words in said)


def title_lines(language: str, titles: list[TitleCount]) -> list[Html]:
    """The titles the evaluation found reached: in total, then per unit where more than one has any."""
    if not titles:
        return [Html("\n".join([text(language, "report.titles_head"), text(language, "report.titles_none")]))]
    lines = [text(language, "report.titles_head")]
    lines += [
        text(language, "report.title_total", counted=title_count(language, t)) for t in title_totals(titles)
    ]
    by_unit: dict[str, list[TitleCount]] = {}
    for count in titles:
        by_unit.setdefault(count.unit or "", []).append(count)
    if len(by_unit) > 1:
        lines.append(text(language, "report.titles_by_unit"))
        lines += [
            text(
                language,
                "report.title_unit",
                unit=unit,
                counted="; ".join(title_count(language, count) for count in counts),
            )
            for unit, counts in list(by_unit.items())[:TITLE_UNITS_SHOWN]
        ]
        if len(by_unit) > TITLE_UNITS_SHOWN:
            more = formatting.number(len(by_unit) - TITLE_UNITS_SHOWN, language)
            lines.append(text(language, "report.titles_more_units", count=more))
    return [Html("\n".join(lines))]


def commended_name(language: str, row: CommendationRow) -> str:
    """Who or what a proposal is for: the member, the collective, or the initiative and its author."""
    if row.initiative_title is not None:
        return plain(
            text(language, "commendation.initiative_name", title=row.initiative_title, author=row.full_name)
        )
    return row.full_name or row.unit_name


def report_lines(
    language: str,
    figures: CampaignFigures,
    recognised: Iterable[InitiativeRow],
    today: date,
    commendations: tuple[list[FormFigures], list[CommendationRow]] = ([], []),
    titles: list[TitleCount] | None = None,
) -> list[str]:
    """The interim or final review summary as plain text for a written report: counts, percentages against
    targets, who to commend among the ``recognised`` initiatives (co-authors named with the author), which
    are walked once, as they come, the ``titles`` the evaluation found reached, and the ``commendations``
    proposed and granted, with those to commend."""
    campaign = figures.campaign
    final = today > campaign.ends_on
    value, authors, top = 0, Counter[str](), None
    for row in recognised:
        value += row.value_dong or 0
        authors.update(
            f"{name} ({row.unit_name})" for name in [row.author_name, *(c for c, _ in row.coauthors)]
        )
        if top is None or (row.value_dong or 0) > (top.value_dong or 0):
            top = row
    lines = [
        text(
            language,
            "report.head_final" if final else "report.head_interim",
            title=campaign.title,
            unit=figures.scope.unit.name,
            day=formatting.day(today),
        ),
        summary(language, figures),
        text(language, "report.value", value=formatting.money(value, language)),
    ]
    if authors:
        best = ", ".join(f"{name}: {count}" for name, count in authors.most_common(TOP))
        lines.append(text(language, "report.commend_authors", authors=best))
    if top is not None:
        lines.append(
            text(
                language,
                "report.commend_value",
                title=top.title,
                author=_authors(top),
                value=formatting.money(top.value_dong or 0, language),
            )
        )
    by_initiatives = sorted((f for f in figures.children if f.recognised), key=lambda f: -f.recognised)[:TOP]
    if by_initiatives:
        lines.append(text(language, "report.commend_units", units=_unit_names(by_initiatives)))
    lines += title_lines(language, titles or [])
    lines += commendation_lines(language, *commendations)
    return [_without_symbols(plain(line)) for line in lines]


@dataclass(frozen=True, slots=True)
class _Asked:
    """What an officer's report is of, and how it reads: everything the work read apart needs."""

    campaign: Campaign
    scope: Unit
    phone_paths: list[str]
    now: datetime
    zone: ZoneInfo
    language: str
    today: date
    forms: list[str]  # the commendation forms configured, in their order

    @staticmethod
    def of(ctx: Ctx, campaign: Campaign, scope: Unit) -> _Asked:
        """The report ``ctx``'s officer asked for."""
        configured = [form.code for form in forms(ctx.settings)]
        return _Asked(
            campaign, scope, ctx.who.led_paths, ctx.now, ctx.settings.zone, ctx.lang, ctx.today, configured
        )

    async def report(self, repos: ApartRepos, scope: Unit) -> tuple[CampaignFigures, list[str]]:
        """Read apart: the figures of ``scope`` and its written report."""
        figures = await campaign_figures(repos, self.campaign, scope, self.now, self.zone)
        granted = (
            await commendation_figures(repos, self.campaign, scope, self.forms),
            await commended(repos, self.campaign, scope),
        )
        titles = await title_figures(repos, self.campaign, scope)
        lines = partial(
            report_lines, self.language, figures, today=self.today, commendations=granted, titles=titles
        )
        return figures, await recognised_initiatives(repos, self.campaign, scope, lines)

    async def lines(self, repos: ApartRepos) -> list[str]:
        """Read apart: the written report."""
        _, lines = await self.report(repos, self.scope)
        return lines

    async def workbook(self, repos: ApartRepos, scope: Unit) -> tuple[bytes, CampaignFigures]:
        """Read apart: the workbook of ``scope``, its rows written as the cursor gives them, with its
        figures."""
        figures, lines = await self.report(repos, scope)
        write = partial(_build_workbook, language=self.language, zone=self.zone, lines=lines)
        content = await export_data(
            repos, self.campaign, figures, self.phone_paths, self.now, write, forms=self.forms
        )
        return content, figures

    async def workbooks(self, repos: ApartRepos, split_over: int | None) -> _Workbooks:
        """Read apart: the scope's workbook and, when it is larger than ``split_over`` bytes, one per unit
        directly below, kept only if together they hold every member and initiative and each is within it."""
        whole, figures = await self.workbook(repos, self.scope)
        if split_over is None or len(whole) <= split_over:
            return _Workbooks(whole)
        below = [f for f in figures.children if f.roster or f.submitted]
        held = (sum(f.roster for f in below), sum(f.submitted for f in below))
        if held != (figures.scope.roster, figures.scope.submitted):  # some belong to the scope unit itself
            return _Workbooks(whole)
        parts = []
        for unit in (f.unit for f in below):
            content, _ = await self.workbook(repos, unit)
            if len(content) > split_over:
                return _Workbooks(whole)
            parts.append((unit, content))
        return _Workbooks(whole, parts)


@dataclass(frozen=True, slots=True)
class _Workbooks:
    """The scope's workbook and, where it had to be split, one per unit directly below."""

    whole: bytes
    parts: list[tuple[Unit, bytes]] | None = None


def _report(ctx: Ctx, campaign: Campaign, scope: Unit) -> None:
    ctx.after_commit(partial(_send_report, ctx, _Asked.of(ctx, campaign, scope)))


async def _send_report(ctx: Ctx, asked: _Asked) -> None:
    ctx.say(Html(escape("\n\n".join(await ctx.read_apart(asked.lines)))))


async def report_command(ctx: Ctx) -> None:
    """/report [CODE]."""
    picked = await pick_campaign(ctx, partial(PickInsight, "report"))
    if picked is not None:
        _report(ctx, *picked)


def _export(ctx: Ctx, campaign: Campaign, scope: Unit) -> None:
    ctx.after_commit(partial(_send_export, ctx, _Asked.of(ctx, campaign, scope)))


async def _send_export(ctx: Ctx, asked: _Asked) -> None:
    campaign, capabilities = asked.campaign, ctx.channel.capabilities
    if not capabilities.delivers_files:  # no workbook here: say where to get it, give the report
        ctx.say(ctx.t("insights.export_no_files", code=campaign.code))
        await _send_report(ctx, asked)
        return
    # A file the channel cannot take whole goes as a link where there is one, else split (a channel without
    # files, Zalo, sends every file as a link and has no limit).
    limit = capabilities.upload_limit if capabilities.files_out else None
    # Built in a child process: the workbook of a province is seconds of one core (docs/performance.md).
    _note_workbook_writer()
    try:
        books = await ctx.build_apart(partial(asked.workbooks, split_over=None if ctx.can_link else limit))
    except BuildFailed:  # logged where it failed; the officer may simply ask again
        ctx.say(ctx.t("insights.export_failed", code=campaign.code))
        return
    name = f"{campaign.code}-{asked.today.isoformat()}.xlsx"
    caption = ctx.t("insights.export_caption", title=campaign.title, unit=asked.scope.name)
    if limit is None or len(books.whole) <= limit:
        ctx.say(caption, file=FileOut(name, books.whole))
        return
    sizes = {
        "size": formatting.file_size(len(books.whole), ctx.lang),
        "limit": formatting.file_size(limit, ctx.lang),
    }
    link = await ctx.link_for(FileOut(name, books.whole))
    if link is not None:
        download = ctx.t("insights.download", minutes=ctx.link_minutes, link=link)
        ctx.say(Html("\n".join([caption, ctx.t("insights.export_as_link", **sizes), download])))
    elif books.parts:
        ctx.say(Html("\n".join([caption, ctx.t("insights.export_split", count=len(books.parts), **sizes)])))
        for number, (unit, content) in enumerate(books.parts, start=1):
            ctx.say(
                ctx.t("insights.export_part", number=number, count=len(books.parts), unit=unit.name),
                file=FileOut(f"{campaign.code}-{unit.code}-{asked.today.isoformat()}.xlsx", content),
            )
    else:
        ctx.say(ctx.t("insights.export_too_large", code=campaign.code, **sizes))


async def export_command(ctx: Ctx) -> None:
    """/export [CODE]."""
    picked = await pick_campaign(ctx, partial(PickInsight, "export"))
    if picked is not None:
        _export(ctx, *picked)


async def button(ctx: Ctx, pressed: PickInsight) -> None:
    """A campaign picked for /stats, /export or /report."""
    scoped = await campaign_scope(ctx.repos, ctx.who, await ctx.repos.campaigns.get(pressed.campaign))
    if scoped is None:
        await stale_button(ctx)
        return
    action = {"stats": _stats, "export": _export, "report": _report}[pressed.report]
    action(ctx, *scoped)
