"""The text catalogs (vi, en) and the formatting of dates, numbers and money for display.

Every user-facing sentence lives in ``vi.toml`` and ``en.toml``; code asks for it by key with ``text()``.
Texts are Telegram-style HTML: parameters are escaped unless wrapped in ``Html``. This package imports
nothing else of the project.
"""

from messages.catalog import DEFAULT_LANGUAGE, LANGUAGES, Html, escape, has_key, plain, text

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "Html", "escape", "has_key", "plain", "text"]
