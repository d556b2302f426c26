"""Loads the TOML catalogs once and renders a key in a language with escaped parameters.

A text may have plural forms (English only; Vietnamese has none): a table ``{one = "...", other = "..."}``,
chosen by the ``count`` parameter, or by the parameter that ``by = "name"`` names.
"""

from __future__ import annotations

import html
import re
import tomllib
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, NamedTuple

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


class Plural(NamedTuple):
    """The plural forms of one text: ``one`` when the ``by`` parameter is 1, else ``other``."""

    one: str
    other: str
    by: str


def _is_plural(value: object) -> bool:
    return isinstance(value, dict) and "other" in value and set(value) <= {"one", "other", "by"}


class _Loaded(NamedTuple):
    texts: dict[str, str]
    plurals: dict[str, Plural]


def _flatten(table: dict[str, Any], loaded: _Loaded, prefix: str = "") -> None:
    for key, value in table.items():
        name = f"{prefix}{key}"
        if _is_plural(value):
            other = str(value["other"])
            loaded.texts[name] = other
            loaded.plurals[name] = Plural(str(value.get("one", other)), other, str(value.get("by", "count")))
        elif isinstance(value, dict):
            _flatten(value, loaded, name + ".")
        else:
            loaded.texts[name] = str(value)


@cache
def _load(language: str) -> _Loaded:
    with (_HERE / f"{language}.toml").open("rb") as handle:
        loaded = _Loaded({}, {})
        _flatten(tomllib.load(handle), loaded)
        return loaded


def catalog(language: str) -> dict[str, str]:
    """Every text of one language by dotted key ("onboarding.welcome"); a plural by its ``other`` form."""
    return _load(language).texts


def plurals(language: str) -> dict[str, Plural]:
    """The texts of one language that have plural forms, by key."""
    return _load(language).plurals


def has_key(key: str) -> bool:
    """True when the default catalog has this key."""
    return key in catalog(DEFAULT_LANGUAGE)


def text(language: str | None, key: str, **params: object) -> Html:
    """The text for ``key`` in ``language`` (falling back to Vietnamese), parameters escaped and filled in."""
    if not params:  # a heading, a button's label: the same every time, put together once
        return _bare(language, key)
    return _filled(language, key, params)


@lru_cache(maxsize=4096)
def _bare(language: str | None, key: str) -> Html:
    return _filled(language, key, {})


def _filled(language: str | None, key: str, params: dict[str, object]) -> Html:
    lang = language if language in LANGUAGES else DEFAULT_LANGUAGE
    template = catalog(lang).get(key) or catalog(DEFAULT_LANGUAGE)[key]
    forms = plurals(lang).get(key)
    if forms is not None:  # the count may come already formatted ("1", "2.000"): 1 is "1" either way
        template = forms.one if str(params.get(forms.by)) == "1" else forms.other
    safe = {name: value if isinstance(value, Html) else escape(value) for name, value in params.items()}
    return Html(template.format(**safe))
