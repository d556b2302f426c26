"""Vietnamese phone numbers in any usual form (0912 345 678, +84912345678, 84912345678) to E.164."""

from __future__ import annotations

import re

import phonenumbers

_SEPARATORS = re.compile(r"[\s.\-()]")


def normalize_phone(raw: str) -> str | None:
    """The number in E.164 ("+84912345678"), or None when it is not a valid phone number."""
    parsed = _parsed(raw)
    return None if parsed is None else phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def written_phone(raw: str) -> str | None:
    """The number in any usual form as people in Vietnam write it ("0912 345 678"), or None when it is not a
    valid phone number: ``display_phone(normalize_phone(raw))`` in one parse."""
    parsed = _parsed(raw)
    return (
        None
        if parsed is None
        else phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    )


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
