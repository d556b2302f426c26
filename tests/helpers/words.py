"""The catalog's words as the Vietnamese chat shows them, for assertions: a text by its key, a title's and a
commendation form's name, and a form's line of figures in /tongket."""

from __future__ import annotations

from messages import plain, text


def said(key: str, **params: object) -> str:
    """The Vietnamese text of ``key`` with these values, as the chat shows it."""
    return plain(text("vi", key, **params))


def title_name(code: str) -> str:
    """A title's Vietnamese name."""
    return said(f"titles.{code}")


def form_name(code: str) -> str:
    """A commendation form's Vietnamese name."""
    return said(f"commendation.form_{code}")


def form_line(code: str, level: str, **counts: int) -> str:
    """A form's line in /tongket: proposed, granted (collectives, individuals, initiatives), returned,
    waiting, each 0 unless given."""
    figures = dict.fromkeys(
        ("proposed", "granted", "collectives", "individuals", "initiatives", "returned", "waiting"), 0
    )
    return said(
        "report.commend_form",
        form=form_name(code),
        level=said(f"commendation.level_{level}"),
        **(figures | counts),
    )
