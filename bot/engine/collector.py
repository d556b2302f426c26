"""Python's garbage collector, tuned while the service runs (``bot.app.Runtime``, from start to stop).

What start-up built (the modules, the catalogs, the routes, the libraries' objects) lives as long as the
process, yet every full collection walked it again: ~150,000 objects, ~90 ms, every few hundred updates,
which with the young generations' collections (every 700 allocations) took ~15% of an update's CPU. While
the service runs, what start-up built is frozen out of every collection (``gc.freeze``), and the youngest
generation is collected every 10,000 allocations. Cycles of garbage are still collected, only less often:
memory grows by the few MB such cycles take between two collections. ``restore`` puts everything back, for
a process that goes on without the service (the tests, the benchmarks).
"""

from __future__ import annotations

import gc

SERVICE_THRESHOLDS = (10_000, 20, 20)  # allocations before a young collection, then young ones per older


class ServiceCollector:
    """Tunes the collector for the service, and restores it as it was."""

    def __init__(self) -> None:
        self._before: tuple[int, int, int] | None = None

    def tune(self) -> None:
        """Freeze what exists now out of every collection and collect less often (once, until restored)."""
        if self._before is not None:
            return
        self._before = gc.get_threshold()
        gc.freeze()
        gc.set_threshold(*SERVICE_THRESHOLDS)

    def restore(self) -> None:
        """The thresholds as they were, and what was frozen collected again."""
        if self._before is None:
            return
        gc.set_threshold(*self._before)
        gc.unfreeze()
        self._before = None
