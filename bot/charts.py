"""The /stats chart: one PNG with a campaign's registration rate per unit, its initiatives per unit and the
submissions per day. ``stats_chart(figures, language)`` renders it with matplotlib's object API (no pyplot,
no global state), so it is safe to call from a worker thread.
"""

from __future__ import annotations

import io
import textwrap
from datetime import date

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, MultipleLocator

from bot.insights import CampaignFigures, UnitFigures
from messages import formatting, plain, text

MAX_UNITS = 15  # more than this and the chart shows the best and the worst
BEST_SHOWN = 8
SIZE_INCHES = (12.0, 9.0)
DPI = 100  # 1200×900 px
MIN_ROWS = 6  # room for this many units even when there are fewer
LABEL_WIDTH = 30  # characters per line of a unit's name
GOOD_RATE, FAIR_RATE = 0.8, 0.5
GREEN, AMBER, RED = "#2e7d32", "#f9a825", "#c62828"
BLUE, GREY = "#1565c0", "#9e9e9e"
DAILY_TICKS = 14  # up to this many days, a tick for each day


def stats_chart(figures: CampaignFigures, language: str) -> bytes:
    """The campaign's chart as PNG bytes, about 1200×900 px, every word in ``language``."""
    figure = Figure(figsize=SIZE_INCHES, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)  # attaches itself: the figure renders with Agg, without pyplot
    campaign = figures.campaign
    title = _t(
        language,
        "chart.title",
        title=campaign.title,
        unit=figures.scope.unit.name,
        start=formatting.day(campaign.starts_on),
        end=formatting.day(campaign.ends_on),
    )
    figure.suptitle(_wrapped(title, 95, 2), fontsize=13, fontweight="bold")
    grid = figure.add_gridspec(2, 2, height_ratios=(2.4, 1.0))
    rates = figure.add_subplot(grid[0, 0])
    initiatives = figure.add_subplot(grid[0, 1], sharey=rates)
    daily = figure.add_subplot(grid[1, :])
    rows = _shown_units(figures, language)
    _registration_panel(rates, rows, language)
    _initiatives_panel(initiatives, rows, figures, language)
    _daily_panel(daily, figures.daily_submissions, language)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _t(language: str, key: str, **params: object) -> str:
    return plain(text(language, key, **params))


def _shown_units(figures: CampaignFigures, language: str) -> list[tuple[str, UnitFigures | None]]:
    """Each row's label and figures, best first; ``None`` marks the gap between the best and the worst."""
    ranked = figures.ranked() or [figures.scope]
    if len(ranked) > MAX_UNITS:
        worst = MAX_UNITS - BEST_SHOWN
        gap = _t(language, "chart.others", count=formatting.number(len(ranked) - MAX_UNITS, language))
        shown: list[tuple[str, UnitFigures | None]] = [(_label(f.unit.name), f) for f in ranked[:BEST_SHOWN]]
        return [*shown, (gap, None), *((_label(f.unit.name), f) for f in ranked[-worst:])]
    return [(_label(f.unit.name), f) for f in ranked]


def _label(name: str) -> str:
    """A unit's name on at most two lines, shortened with an ellipsis."""
    return _wrapped(name, LABEL_WIDTH, 2)


def _wrapped(words: str, width: int, most: int) -> str:
    """``words`` on at most ``most`` lines of ``width`` characters, the last one shortened if need be."""
    lines = textwrap.wrap(words, width) or [""]
    if len(lines) > most:
        rest = textwrap.shorten(" ".join(lines[most - 1 :]), width, placeholder=" …")
        lines = [*lines[: most - 1], rest]
    return "\n".join(lines)


def _whole_numbers(axis_owner: Axes, language: str, *, horizontal: bool) -> None:
    """Integer ticks written the way the reader writes numbers (1.709 in Vietnamese)."""
    axis = axis_owner.xaxis if horizontal else axis_owner.yaxis
    axis.set_major_locator(MaxNLocator(integer=True))
    axis.set_major_formatter(FuncFormatter(lambda value, _: formatting.number(round(value), language)))


def _registration_panel(ax: Axes, rows: list[tuple[str, UnitFigures | None]], language: str) -> None:
    positions = list(range(len(rows) - 1, -1, -1))
    values = [100 * f.registration_rate if f else 0.0 for _, f in rows]
    colours = [_rate_colour(f.registration_rate) if f else GREY for _, f in rows]
    ax.barh(positions, values, height=0.7, color=colours)
    for y, (_, f) in zip(positions, rows, strict=True):
        if f is not None:
            share = formatting.percent(f.registered, f.roster, language)
            counts = f"{formatting.number(f.registered, language)}/{formatting.number(f.roster, language)}"
            ax.text(100 * f.registration_rate + 1, y, f"{share} ({counts})", va="center", fontsize=7.5)
    ax.set_yticks(positions, [label for label, _ in rows], fontsize=7.5)
    # With only a few units, the bars stay slim at the top rather than filling the panel.
    ax.set_ylim(len(rows) - 0.5 - max(len(rows), MIN_ROWS), len(rows) - 0.5)
    top = max([100.0, *values])
    ax.set_xlim(0, top * 1.3)
    ax.set_xticks(range(0, round(top) + 1, 20))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.0f}%"))
    ax.set_title(_t(language, "chart.registration"), fontsize=11)
    ax.set_xlabel(_t(language, "chart.registration_axis"), fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    ax.tick_params(axis="x", labelsize=8)


def _rate_colour(rate: float) -> str:
    return GREEN if rate >= GOOD_RATE else AMBER if rate >= FAIR_RATE else RED


def _initiatives_panel(
    ax: Axes, rows: list[tuple[str, UnitFigures | None]], figures: CampaignFigures, language: str
) -> None:
    positions = list(range(len(rows) - 1, -1, -1))
    height = 0.27
    series = (
        ("chart.submitted", BLUE, height, [f.submitted if f else 0 for _, f in rows]),
        ("chart.valid", AMBER, 0.0, [f.valid if f else 0 for _, f in rows]),
        ("chart.recognised", GREEN, -height, [f.recognised if f else 0 for _, f in rows]),
    )
    for key, colour, offset, values in series:
        ax.barh([y + offset for y in positions], values, height=height, color=colour, label=_t(language, key))
    ax.tick_params(axis="y", labelleft=False)
    ax.tick_params(axis="x", labelsize=8)
    _whole_numbers(ax, language, horizontal=True)
    if not any(value for *_, values in series for value in values):
        ax.set_xlim(0, 1)
    ax.legend(loc="lower right", fontsize=8)
    scope, target = figures.scope, figures.scope.target  # the scope's own target, never the province's
    if target:
        progress = (
            f"{formatting.number(scope.submitted, language)}/{formatting.number(target, language)}"
            f" ({formatting.percent(scope.submitted, target, language)})"
        )
        whole = _t(language, "chart.initiatives_target", unit=scope.unit.name, progress=progress)
    else:
        whole = _t(
            language,
            "chart.initiatives_total",
            unit=scope.unit.name,
            submitted=formatting.number(scope.submitted, language),
        )
    heading = _wrapped(whole, 55, 2)
    ax.set_title(f"{_t(language, 'chart.initiatives')}\n{heading}", fontsize=11)
    ax.set_xlabel(_t(language, "chart.initiatives_axis"), fontsize=9)
    ax.grid(axis="x", alpha=0.3)


def _daily_panel(ax: Axes, daily: list[tuple[date, int]], language: str) -> None:
    ax.set_title(_t(language, "chart.daily"), fontsize=11)
    if not daily:
        ax.text(0.5, 0.5, _t(language, "chart.no_data"), ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    days = [day.toordinal() for day, _ in daily]
    counts = [count for _, count in daily]
    ax.plot(days, counts, color=BLUE, linewidth=1.6, marker="o" if len(daily) <= 45 else None, markersize=3)
    ax.fill_between(days, counts, color=BLUE, alpha=0.12)
    # Days as ordinals, labelled dd/mm: integer ticks always fall on whole days.
    ax.xaxis.set_major_locator(
        MultipleLocator(1) if len(daily) <= DAILY_TICKS else MaxNLocator(12, integer=True)
    )
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: _day_tick(value, long=len(daily) > 366)))
    if len(daily) == 1:
        ax.set_xlim(days[0] - 0.5, days[0] + 0.5)
    ax.set_ylim(bottom=0, top=max(1, *counts) * 1.15)
    _whole_numbers(ax, language, horizontal=False)
    ax.set_ylabel(_t(language, "chart.daily_axis"), fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)


def _day_tick(ordinal: float, *, long: bool) -> str:
    if ordinal < 1:
        return ""
    day = date.fromordinal(round(ordinal))
    return day.strftime("%m/%Y" if long else "%d/%m")
