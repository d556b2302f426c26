"""``python -m bot`` is the same as the ``thidua`` command."""

from bot.cli import main

raise SystemExit(main())
