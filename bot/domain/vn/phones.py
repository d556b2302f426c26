"""Vietnamese phone numbers in any usual form (0912 345 678, +84912345678, 84912345678) to E.164, and back to
the way people write them."""

from __future__ import annotations

import re

import phonenumbers

_SEPARATORS = re.compile(r"[\s.\-()]")
_COUNTRY = "+84"
# How many leading digits of a national number (with its length) decide whether it is valid and how it is
# written: Vietnam's metadata tells them apart by at most 4 (1800..., 121x..., 2xx area codes; a test holds
# every prefix against phonenumbers). _WRITTEN keeps, per (length, leading digits), the layout with one
# "{}" per digit ("0{}{}{} {}{}{} {}{}{}"), or None for numbers that are not valid: at most 40,000 entries.
_LEADING = 4
_WRITTEN: dict[tuple[int, str], str | None] = {}


def normalize_phone(raw: str) -> str | None:
    """The number in E.164 ("+84912345678"), or None when it is not a valid phone number."""
    parsed = _parsed(raw)
    return None if parsed is None else phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def written_phone(raw: str) -> str | None:
    """The number in any usual form as people in Vietnam write it ("0912 345 678"), or None when it is not a
    valid phone number: ``display_phone(normalize_phone(raw))``. A stored E.164 number is laid out as the
    first number of its length and leading digits was, without a parse (an export writes thousands)."""
    national = raw[len(_COUNTRY) :]
    if not (raw.startswith(_COUNTRY) and national.isdigit() and national.isascii() and national[:1] != "0"):
        return _written(raw)
    key = (len(national), national[:_LEADING])
    if key in _WRITTEN:
        layout = _WRITTEN[key]
        return None if layout is None else layout.format(*national)
    written = _written(raw)
    layout = _layout(written, national)
    if written is None or layout is not None:  # a layout that could not be read is not kept
        _WRITTEN[key] = layout
    return written


def _written(raw: str) -> str | None:
    parsed = _parsed(raw)
    return (
        None
        if parsed is None
        else phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    )


def _layout(written: str | None, national: str) -> str | None:
    """``written`` with each digit of ``national`` in it as "{}" (None if it has not all of them, in order):
    read from the end, where the national number's digits are, so the national prefix in front ("0") stays
    as it is."""
    if written is None:
        return None
    pieces: list[str] = []
    left = len(national)
    for char in reversed(written):
        if left and char == national[left - 1]:
            pieces.append("{}")
            left -= 1
        else:
            pieces.append(char.replace("{", "{{").replace("}", "}}"))
    return None if left else "".join(reversed(pieces))


def _parsed(raw: str) -> phonenumbers.PhoneNumber | None:
    digits = _SEPARATORS.sub("", raw.strip())
    if digits.startswith("84") and len(digits) in (11, 12):
        digits = "+" + digits  # written without the plus, as Telegram contacts often are
    elif digits.startswith("0084"):
        digits = "+" + digits[2:]
    try:
        parsed = phonenumbers.parse(digits, "VN")
    except phonenumbers.NumberParseException:
        return None
    return parsed if phonenumbers.is_valid_number(parsed) else None


def display_phone(e164: str) -> str:
    """A stored number the way people in Vietnam write it: "0912 345 678"."""
    parsed = phonenumbers.parse(e164, "VN")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
