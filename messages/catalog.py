"""Loads the TOML catalogs once and renders a key in a language with escaped parameters."""

from __future__ import annotations

import html
import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

DEFAULT_LANGUAGE = "vi"
LANGUAGES = ("vi", "en")
_HERE = Path(__file__).parent
_TAG = re.compile(r"<[^>]+>")


class Html(str):
    """A string that is already safe HTML (built from catalog texts), so ``text()`` does not escape it."""

    __slots__ = ()


def escape(value: object) -> str:
    """Text of any origin made safe to show inside Telegram HTML."""
    return html.escape(str(value), quote=False)


def plain(html_text: str) -> str:
    """Catalog HTML as plain text, for a terminal: tags dropped, entities decoded."""
    return html.unescape(_TAG.sub("", html_text))


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = str(value)
    return flat


@cache
def catalog(language: str) -> dict[str, str]:
    """Every text of one language by dotted key ("onboarding.welcome")."""
    with (_HERE / f"{language}.toml").open("rb") as handle:
        return _flatten(tomllib.load(handle))


def has_key(key: str) -> bool:
    """True when the default catalog has this key."""
    return key in catalog(DEFAULT_LANGUAGE)


def text(language: str | None, key: str, **params: object) -> Html:
    """The text for ``key`` in ``language`` (falling back to Vietnamese), parameters escaped and filled in."""
    lang = language if language in LANGUAGES else DEFAULT_LANGUAGE
    template = catalog(lang).get(key) or catalog(DEFAULT_LANGUAGE)[key]
    safe = {name: value if isinstance(value, Html) else escape(value) for name, value in params.items()}
    return Html(template.format(**safe))
