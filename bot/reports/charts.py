"""The /stats chart, drawn for a phone screen: one tall PNG, readable when shown 400 px wide, with three
panels stacked: the registration rate of each unit below the scope, its initiatives, and the submissions so
far against the target. Bars are horizontal and labelled with the units' (shortened) names, sorted best first,
each with its value at the bar's end; a panel without data says so instead of drawing an empty axis.

``chart_data(figures)`` takes what bot.domain.insights computes into a plain ``ChartData``; ``chart_figure``
draws it with matplotlib's object API (no pyplot, no global state, so it is safe in a worker thread) and
``stats_chart`` returns the PNG.
"""

from __future__ import annotations

import io
import re
import textwrap
from dataclasses import dataclass
from datetime import date
from itertools import accumulate

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator

from bot.domain.insights import CampaignFigures, UnitFigures
from messages import formatting, plain, text

WIDTH_INCHES, DPI = 5.0, 160  # 800 px wide; every font size below is chosen to read at half that
ROW_INCHES = 0.34  # one unit's bar with a two-line name
PANEL_INCHES = 0.75  # a bar panel's title and margins
LINE_PANEL_INCHES = 2.4
TITLE_INCHES = 0.75
EMPTY_PANEL_INCHES = 0.7
TARGET_IN_VIEW = 0.2  # below this share of the target, the target is named above the panel, not drawn
MAX_ROWS = 12  # more units than this: the best and the worst, with a line saying how many are left out
BEST_SHOWN = 7
LABEL_WIDTH = 22  # characters per line of a unit's name
TITLE_WIDTH = 50  # characters per line of the bold title: 60 ran past both edges of the 800 px
FONT, SMALL, TITLE_FONT = 8.5, 7.5, 10.0
GOOD_RATE, FAIR_RATE = 0.8, 0.5
GREEN, AMBER, RED = "#2e7d32", "#f9a825", "#c62828"
BLUE, LIGHT_BLUE, GREY = "#1565c0", "#90caf9", "#757575"
PLACE = re.compile(r"\b(?:huyện|quận|thị xã|thành phố|tỉnh)\s+(?P<place>.+)$")


@dataclass(frozen=True, slots=True)
class ChartUnit:
    """One unit's bar figures."""

    name: str
    roster: int
    registered: int
    submitted: int
    valid: int
    recognised: int


@dataclass(frozen=True, slots=True)
class ChartData:
    """Everything the chart shows, as plain values: the scope's own totals, the units directly below it,
    the submissions per day and the target of the scope viewed (``None`` when it has none)."""

    title: str
    scope: ChartUnit
    units: list[ChartUnit]
    starts_on: date
    ends_on: date
    daily_submissions: list[tuple[date, int]]
    target: int | None


def chart_data(figures: CampaignFigures) -> ChartData:
    """The chart's input from a campaign's figures, seen from their scope."""
    campaign = figures.campaign
    return ChartData(
        title=campaign.title,
        scope=_unit(figures.scope),
        units=[_unit(child) for child in figures.children],
        starts_on=campaign.starts_on,
        ends_on=campaign.ends_on,
        daily_submissions=figures.daily_submissions,
        target=figures.scope.target,  # the scope's own target, never the province's
    )


def _unit(figures: UnitFigures) -> ChartUnit:
    return ChartUnit(
        figures.unit.name,
        figures.roster,
        figures.registered,
        figures.submitted,
        figures.valid,
        figures.recognised,
    )


def stats_chart(figures: CampaignFigures, language: str) -> bytes:
    """The campaign's chart as PNG bytes, 800 px wide, every word in ``language``."""
    figure = chart_figure(chart_data(figures), language)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def chart_figure(data: ChartData, language: str) -> Figure:
    """The chart as a matplotlib figure (tests read its axes): registrations, initiatives, progress."""
    units = data.units or [data.scope]
    by_rate = sorted(units, key=lambda u: (-_rate(u), -u.submitted, u.name))
    by_submitted = sorted(units, key=lambda u: (-u.submitted, -u.valid, u.name))
    any_registered = any(u.registered for u in units)
    any_submitted = any(u.submitted for u in units)
    rows = min(len(units), MAX_ROWS)
    heights = [
        PANEL_INCHES + ROW_INCHES * rows if any_registered else EMPTY_PANEL_INCHES,
        PANEL_INCHES + ROW_INCHES * rows if any_submitted else EMPTY_PANEL_INCHES,
        LINE_PANEL_INCHES if data.daily_submissions else EMPTY_PANEL_INCHES,
    ]
    figure = Figure(figsize=(WIDTH_INCHES, TITLE_INCHES + sum(heights)), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)  # attaches itself: the figure renders with Agg, without pyplot
    place = _place(data.scope.name)
    title = _t(
        language,
        "chart.title",
        title=data.title,
        unit=data.scope.name,
        start=formatting.day(data.starts_on),
        end=formatting.day(data.ends_on),
    )
    figure.suptitle(_wrapped(title, TITLE_WIDTH, 3), fontsize=TITLE_FONT, fontweight="bold")
    registration, initiatives, progress = figure.subplots(3, 1, height_ratios=heights)
    _registration_panel(registration, _shown(by_rate, language), data.scope, place, language)
    _initiatives_panel(initiatives, _shown(by_submitted, language), any_submitted, place, language)
    _progress_panel(progress, data, language)
    return figure


def _t(language: str, key: str, **params: object) -> str:
    return plain(text(language, key, **params))


def _rate(unit: ChartUnit) -> float:
    return unit.registered / unit.roster if unit.roster else 0.0


def _shown(ranked: list[ChartUnit], language: str) -> list[ChartUnit | str]:
    """The units to draw, best first; with too many, the best and the worst around a line naming the rest."""
    if len(ranked) <= MAX_ROWS:
        return list(ranked)
    worst = MAX_ROWS - BEST_SHOWN - 1
    gap = _t(language, "chart.others", count=formatting.number(len(ranked) - BEST_SHOWN - worst, language))
    return [*ranked[:BEST_SHOWN], gap, *ranked[-worst:]]


def _place(scope_name: str) -> str:
    """The place a scope is named after ("Hà Quảng" in "Liên đoàn Lao động huyện Hà Quảng"), or ""."""
    found = PLACE.search(scope_name)
    return found["place"] if found else ""


def short_name(name: str, place: str = "") -> str:
    """A unit's name for a bar's label: the union's abbreviations, without the place the whole chart is
    about, on at most two lines."""
    short = formatting.abbreviated_unit(name)  # the union's abbreviations keep a label on two lines
    if place:
        trimmed = re.sub(rf"(?:\s+(?:huyện|quận|thị xã|thành phố|tỉnh))?\s+{re.escape(place)}$", "", short)
        short = trimmed if len(trimmed.split()) >= 2 else short
    return _wrapped(short, LABEL_WIDTH, 2)


def _wrapped(words: str, width: int, most: int) -> str:
    """``words`` on at most ``most`` lines of ``width`` characters, the last one shortened if need be."""
    lines = textwrap.wrap(words, width) or [""]
    if len(lines) > most:
        rest = textwrap.shorten(" ".join(lines[most - 1 :]), width, placeholder=" …")
        lines = [*lines[: most - 1], rest]
    return "\n".join(lines)


def _bar_axes(ax: Axes, labels: list[str], title: str) -> list[int]:
    """Rows top to bottom with the units' names; no x axis, since each bar carries its value."""
    positions = list(range(len(labels) - 1, -1, -1))
    ax.set_yticks(positions, labels, fontsize=FONT)
    ax.set_ylim(-0.6, len(labels) - 0.4)
    ax.set_xticks([])
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.set_title(title, fontsize=TITLE_FONT, loc="left")
    return positions


def _say_empty(ax: Axes, title: str, message: str) -> None:
    """A panel with nothing to draw: its title and one line saying why."""
    ax.set_axis_off()
    ax.set_title(title, fontsize=TITLE_FONT, loc="left")
    ax.text(0.5, 0.35, message, ha="center", va="center", fontsize=FONT, color=GREY, transform=ax.transAxes)


def _registration_panel(
    ax: Axes, rows: list[ChartUnit | str], scope: ChartUnit, place: str, language: str
) -> None:
    total = _t(
        language,
        "chart.registration_total",
        registered=formatting.number(scope.registered, language),
        roster=formatting.number(scope.roster, language),
        percent=formatting.percent(scope.registered, scope.roster, language),
    )
    title = f"{_t(language, 'chart.registration')}\n{total}"
    if not any(isinstance(row, ChartUnit) and row.registered for row in rows):
        _say_empty(ax, title, _t(language, "chart.no_registrations"))
        return
    labels = [short_name(row.name, place) if isinstance(row, ChartUnit) else row for row in rows]
    positions = _bar_axes(ax, labels, title)
    values = [100 * _rate(row) if isinstance(row, ChartUnit) else 0.0 for row in rows]
    colours = [_rate_colour(_rate(row)) if isinstance(row, ChartUnit) else GREY for row in rows]
    ax.barh(positions, values, height=0.65, color=colours)
    top = max(values)
    ax.set_xlim(0, top * 1.55)  # room for "54% (108/200)" at the end of the longest bar
    for y, value, row in zip(positions, values, rows, strict=True):
        if isinstance(row, ChartUnit):
            counts = (
                f"{formatting.number(row.registered, language)}/{formatting.number(row.roster, language)}"
            )
            share = formatting.percent(row.registered, row.roster, language)
            ax.text(value + top * 0.02, y, f"{share} ({counts})", va="center", fontsize=SMALL)


def _rate_colour(rate: float) -> str:
    return GREEN if rate >= GOOD_RATE else AMBER if rate >= FAIR_RATE else RED


def _initiatives_panel(
    ax: Axes, rows: list[ChartUnit | str], any_submitted: bool, place: str, language: str
) -> None:
    title = _t(language, "chart.initiatives")
    if not any_submitted:
        _say_empty(ax, title, _t(language, "chart.no_initiatives"))
        return
    labels = [short_name(row.name, place) if isinstance(row, ChartUnit) else row for row in rows]
    positions = _bar_axes(ax, labels, title)
    units = [row if isinstance(row, ChartUnit) else None for row in rows]
    # Recognised ones are among the valid ones, which are among the submitted: the bars nest.
    for key, colour, height, values in (
        ("chart.submitted", LIGHT_BLUE, 0.65, [u.submitted if u else 0 for u in units]),
        ("chart.valid", AMBER, 0.4, [u.valid if u else 0 for u in units]),
        ("chart.recognised", GREEN, 0.18, [u.recognised if u else 0 for u in units]),
    ):
        ax.barh(positions, values, height=height, color=colour, label=_t(language, key))
    top = max(u.submitted if u else 0 for u in units)
    ax.set_xlim(0, top * 1.3)
    for y, unit in zip(positions, units, strict=True):
        if unit is not None:
            shown = formatting.number(unit.submitted, language)
            ax.text(unit.submitted + top * 0.02, y, shown, va="center", fontsize=SMALL)
    # Above the bars, under the title: wherever inside, it could cover a bar's value.
    ax.set_title(title, fontsize=TITLE_FONT, loc="left", pad=16)
    ax.legend(
        ncols=3,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        fontsize=SMALL,
        frameon=False,
        borderaxespad=0.1,
        handlelength=1.2,
        columnspacing=1.0,
    )


def _progress_panel(ax: Axes, data: ChartData, language: str) -> None:
    """Submissions added up day by day, against the scope's target when it has one."""
    title = _t(language, "chart.cumulative")
    if not data.daily_submissions:
        _say_empty(ax, title, _t(language, "chart.no_data"))
        return
    days = [day.toordinal() for day, _ in data.daily_submissions]
    totals = list(accumulate(count for _, count in data.daily_submissions))
    ax.set_title(title, fontsize=TITLE_FONT, loc="left")
    ax.plot(days, totals, color=BLUE, linewidth=2.0)
    ax.plot(days[-1:], totals[-1:], color=BLUE, marker="o", markersize=4)
    ax.fill_between(days, totals, color=BLUE, alpha=0.12)
    last = totals[-1]
    ceiling = max(1, last) * 1.3
    if data.target:
        target = formatting.number(data.target, language)
        if last >= data.target * TARGET_IN_VIEW:
            ceiling = max(ceiling, data.target * 1.15)
            ax.axhline(data.target, color=RED, linestyle="--", linewidth=1.4)
            line = _t(language, "chart.target_line", target=target)
            ax.text(days[0], data.target, line, va="bottom", ha="left", fontsize=SMALL, color=RED)
        else:  # drawn to scale, the line would flatten the submissions against the bottom
            above = _t(language, "chart.target_above", target=target)
            ax.text(0.01, 0.98, above, va="top", ha="left", fontsize=SMALL, color=RED, transform=ax.transAxes)
        share = formatting.percent(last, data.target, language)
        reached = f"{formatting.number(last, language)}/{target} ({share})"
    else:
        reached = formatting.number(last, language)
    ax.set_ylim(0, ceiling)
    ax.annotate(
        reached,
        (days[-1], last),
        xytext=(0, 4),
        textcoords="offset points",
        ha="right",
        va="bottom",
        fontsize=FONT,
        fontweight="bold",
        color=BLUE,
    )
    if len(days) == 1:
        ax.set_xlim(days[0] - 0.5, days[0] + 0.5)
    else:
        ax.set_xlim(days[0], days[-1])
    # One day has one tick (the locator would label the fractions of it, each with the same date).
    ax.xaxis.set_major_locator(FixedLocator(days) if len(days) == 1 else MaxNLocator(5, integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: _day_tick(value, long=len(days) > 366)))
    ax.yaxis.set_major_locator(MaxNLocator(5, integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: formatting.number(round(value), language)))
    ax.tick_params(labelsize=SMALL)
    ax.grid(alpha=0.3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _day_tick(ordinal: float, *, long: bool) -> str:
    if ordinal < 1:
        return ""
    day = date.fromordinal(round(ordinal))
    return day.strftime("%m/%Y" if long else "%d/%m")
