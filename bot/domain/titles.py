"""The emulation titles (danh hiệu thi đua) a campaign may offer, by code; their names are in messages/."""

from __future__ import annotations

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
