"""The emulation titles (danh hiệu thi đua) a campaign may offer, by code (their names are in messages/), and
the caps a union applies to some of them at the evaluation (THIDUA_TITLE_CAPS).
"""

from __future__ import annotations

from dataclasses import dataclass

INDIVIDUAL_TITLES = (
    "advanced_worker",  # Lao động tiên tiến
    "emulation_fighter",  # Chiến sĩ thi đua cơ sở: needs an initiative behind it
    "good_worker",  # Lao động giỏi
    "creative_worker",  # Lao động sáng tạo
    "outstanding_member",  # Đoàn viên công đoàn xuất sắc
)
COLLECTIVE_TITLES = (
    "excellent_collective",  # Tập thể lao động xuất sắc
    "advanced_collective",  # Tập thể lao động tiên tiến
    "strong_union",  # Công đoàn cơ sở vững mạnh
)
NEEDS_INITIATIVE = "emulation_fighter"
# A title reached only by a member who reached another in the same campaign: a Chiến sĩ thi đua cơ sở is
# chosen among those reaching Lao động tiên tiến (the same count its cap is a share of).
PREREQUISITES = {"emulation_fighter": "advanced_worker"}


@dataclass(frozen=True, slots=True)
class TitleCap:
    """A union's cap on a title: at most ``percent`` % of the members of a unit who reach ``of_title``
    (Chiến sĩ thi đua cơ sở: at most 15 % of those reaching Lao động tiên tiến)."""

    title: str
    percent: int
    of_title: str

    def allowed(self, reached_base: int) -> int:
        """How many may reach the title when ``reached_base`` reached ``of_title``."""
        return reached_base * self.percent // 100


DEFAULT_CAPS = "emulation_fighter:15:advanced_worker"


def parse_caps(text: str) -> tuple[TitleCap, ...]:
    """Caps written ``title:percent:of_title``, comma-separated (THIDUA_TITLE_CAPS); ValueError naming the
    first bad one."""
    caps = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        title, _, rest = item.partition(":")
        percent, _, of_title = rest.partition(":")
        known = INDIVIDUAL_TITLES + COLLECTIVE_TITLES
        if title not in known or of_title not in known or not percent.isdecimal() or int(percent) > 100:
            raise ValueError(f"{item!r} is not title:percent:of_title, e.g. {DEFAULT_CAPS}")
        caps.append(TitleCap(title, int(percent), of_title))
    return tuple(caps)
