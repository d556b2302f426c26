"""bot.domain.vn.phones: a stored number written as phonenumbers writes it, for every leading digits and
length (the export lays out tens of thousands of stored numbers without parsing each)."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from bot.domain.vn.phones import normalize_phone, written_phone


def _by_phonenumbers(raw: str) -> str | None:
    """What the export showed before the layouts: a parse, the validity check, the national format."""
    try:
        parsed = phonenumbers.parse(raw, "VN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


def test_every_stored_number_is_written_as_phonenumbers_writes_it() -> None:
    """Two numbers for each first four digits and each length a Vietnamese number can have: the first
    leaves its layout, the second is laid out from it (or from a number before it, in the same run)."""
    draw = random.Random(13)
    differ = []
    for leading in range(1000, 10_000):
        for length in (7, 8, 9, 10):
            for _ in range(2):
                rest = "".join(draw.choices("0123456789", k=length - 4))
                stored = f"+84{leading}{rest}"
                if written_phone(stored) != _by_phonenumbers(stored):
                    differ.append(stored)
    assert differ == []


@pytest.mark.parametrize(
    ("raw", "written"),
    [
        ("+84912345678", "0912 345 678"),
        ("0912345678", "0912 345 678"),
        ("0912 345 678", "0912 345 678"),
        ("84912345678", "0912 345 678"),
        ("+842438253666", "024 3825 3666"),
        ("+842363822222", "0236 3822 222"),
        ("+8418001234", "1800 1234"),
        ("+84123", None),
        ("+840912345678", "0912 345 678"),
        ("không có", None),
    ],
)
def test_a_number_in_any_usual_form_is_written_as_people_write_it(raw: str, written: str | None) -> None:
    """Whatever form a number was stored in, it reads as "0912 345 678"; one that is no number reads None."""
    assert written_phone(raw) == written
    normalized = normalize_phone(raw)
    assert written_phone(normalized) == written if normalized else written is None
