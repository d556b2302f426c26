"""A small union tree and roster for tests, loaded through the real CSV import."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.domain.roster import import_members, import_units
from storage.database import Store

UNITS_CSV = """code,name,parent_code
LDLD-CB,Liên đoàn Lao động tỉnh Cao Bằng,
LDLD-HQ,Liên đoàn Lao động huyện Hà Quảng,LDLD-CB
CDN-GD,Công đoàn ngành Giáo dục,LDLD-CB
CDCS-DL,Công đoàn cơ sở Điện lực Hà Quảng,LDLD-HQ
CDCS-YT,Công đoàn cơ sở Trung tâm Y tế huyện Hà Quảng,LDLD-HQ
CDCS-THPT,Công đoàn cơ sở Trường THPT Thành phố Cao Bằng,CDN-GD
"""

MEMBERS_CSV = """member_code,full_name,phone,unit_code,email
DV001,Hoàng Thị Mai,0912 345 678,CDCS-DL,mai@example.vn
DV002,Nông Văn Hùng,+84987654321,CDCS-YT,
DV003,Lục Thị Hoa,84911222333,CDCS-THPT,
DV004,Bế Văn Toàn,0977 111 222,CDCS-THPT,
"""

# Sandbox user ids and phones of the people above.
MAI = (1001, "Mai", "Hoàng Thị", "0912345678")
HUNG = (1002, "Hùng", "Nông Văn", "0987654321")
HOA = (1003, "Hoa", "Lục Thị", "0911222333")
STRANGER = (1009, "Nam", "Trần Văn", "0933000111")  # not on the roster

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def vietnam_today() -> date:
    """Today where the service runs (Asia/Ho_Chi_Minh): from 17:00 UTC it is already tomorrow there, which is
    the day the demo names its files by."""
    return datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()


async def load_roster(store: Store, folder: Path) -> None:
    """Import the tree and the roster above into ``store``."""
    units, members = folder / "units.csv", folder / "members.csv"
    units.write_text(UNITS_CSV, encoding="utf-8")
    members.write_text(MEMBERS_CSV, encoding="utf-8")
    await import_units(store, units, actor="test", now=NOW)
    await import_members(store, members, actor="test", now=NOW)
