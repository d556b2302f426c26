"""The sheet of personal link codes an officer prints and hands out: one row per member (member code, name,
unit, link code, last valid day), then how to use a code. ``build_codes_sheet(issued, language, zone)``
returns the XLSX file's bytes; every word comes from the catalogs.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from bot.domain.linking import IssuedCode
from messages import plain, text

WIDTHS = (16, 32, 40, 14, 12)  # characters: member code, name, unit, link code, expiry
DAY = "dd/mm/yyyy"


def build_codes_sheet(issued: Sequence[IssuedCode], language: str, zone: ZoneInfo) -> bytes:
    """The workbook of ``issued`` codes, headed and worded in ``language``, days in ``zone``."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(plain(text(language, "codes.sheet")))
    for index, width in enumerate(WIDTHS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    keys = ("member_code", "name", "unit", "code", "expires")
    header = []
    for key in keys:
        cell = WriteOnlyCell(sheet, plain(text(language, f"codes.{key}")))
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for item in issued:
        expires = WriteOnlyCell(sheet, item.expires_at.astimezone(zone).date())
        expires.number_format = DAY
        code = WriteOnlyCell(sheet, item.code)
        code.font = Font(bold=True, name="Courier New")
        sheet.append([item.member.code, item.member.full_name, item.unit_name, code, expires])
    sheet.append([])
    sheet.append([plain(text(language, "codes.how"))])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
