"""Search keys for Vietnamese text: "Công đoàn Điện lực" and "cong doan dien luc" find each other."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def search_key(value: str) -> str:
    """Lower case, without diacritics (đ becomes d), single spaces."""
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(char for char in decomposed if unicodedata.category(char) != "Mn")
    return _SPACES.sub(" ", bare).strip().lower()
