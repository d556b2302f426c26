"""Problems are values: what a user's input got wrong, as a subject, a code and the code's parameters.

The domain returns them and never words them; handlers and the CLI turn each into a catalog text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with the input: what it concerns, a code for the message, and its parameters."""

    subject: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)
