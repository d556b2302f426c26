"""libxlsxwriter, the C library by XlsxWriter's own author (the same file format), by ctypes: the few calls
the /export workbook makes, in XlsxWriter's shape (``NativeWorkbook.add_worksheet``, ``add_format``,
``NativeSheet.write_string``...). ``library()`` is None, said once in the log, where the shared library is
missing or of a version whose structures were not read here (1.1.4's headers, Debian bookworm's
libxlsxwriter4): the workbook is then written by XlsxWriter.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import os
import re
import shutil
import tempfile
from datetime import UTC, date, datetime, timedelta
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)

KNOWN_VERSIONS = frozenset({"1.1.4"})  # the structures below are 1.1.4's (workbook.h)
SONAME = "libxlsxwriter.so.4"
ALIGN_VERTICAL_TOP = 8  # enum lxw_format_alignments (format.h)
EPOCH = datetime(1899, 12, 31)  # Excel's day 0 in the 1900 date system
_UTC_EPOCH = EPOCH.replace(tzinfo=UTC)
_ESCAPE_LIKE = re.compile("_x[0-9a-fA-F]{4}_")  # text Excel would read as an escaped character


class _Options(ctypes.Structure):
    _fields_ = [  # lxw_workbook_options
        ("constant_memory", ctypes.c_uint8),
        ("tmpdir", ctypes.c_char_p),
        ("use_zip64", ctypes.c_uint8),
    ]


class _Properties(ctypes.Structure):
    _fields_ = [  # lxw_doc_properties: ten texts, then the time it was made
        *(
            (name, ctypes.c_char_p)
            for name in (
                "title",
                "subject",
                "author",
                "manager",
                "company",
                "category",
                "keywords",
                "comments",
                "status",
                "hyperlink_base",
            )
        ),
        ("created", ctypes.c_int64),  # time_t: 64 bits on the systems it is loaded on (checked in _load)
    ]


_P = ctypes.c_void_p
_ROW, _COL = ctypes.c_uint32, ctypes.c_uint16  # lxw_row_t, lxw_col_t
_SIGNATURES: dict[str, tuple[Any, list[Any]]] = {  # name: (restype, argtypes), from the 1.1.4 headers
    "lxw_version": (ctypes.c_char_p, []),
    "lxw_strerror": (ctypes.c_char_p, [ctypes.c_int]),
    "workbook_new_opt": (_P, [ctypes.c_char_p, ctypes.POINTER(_Options)]),
    "workbook_add_worksheet": (_P, [_P, ctypes.c_char_p]),
    "workbook_add_format": (_P, [_P]),
    "workbook_set_properties": (ctypes.c_int, [_P, ctypes.POINTER(_Properties)]),
    "workbook_close": (ctypes.c_int, [_P]),
    "lxw_workbook_free": (None, [_P]),
    "format_set_num_format": (None, [_P, ctypes.c_char_p]),
    "format_set_text_wrap": (None, [_P]),
    "format_set_align": (None, [_P, ctypes.c_uint8]),
    "format_set_bold": (None, [_P]),
    # These two are called through lib[name], without the conversion (NativeSheet): declared for the record
    # and to be looked for at load.
    "worksheet_write_string": (ctypes.c_int, [_P, _ROW, _COL, ctypes.c_char_p, _P]),
    "worksheet_write_number": (ctypes.c_int, [_P, _ROW, _COL, ctypes.c_double, _P]),
    "worksheet_set_column": (ctypes.c_int, [_P, _COL, _COL, ctypes.c_double, _P]),
    "worksheet_freeze_panes": (None, [_P, _ROW, _COL]),
    "worksheet_autofilter": (ctypes.c_int, [_P, _ROW, _COL, _ROW, _COL]),
}


class NativeError(RuntimeError):
    """libxlsxwriter refused a call; its own words say why."""


@functools.cache
def library() -> ctypes.CDLL | None:
    """libxlsxwriter with the calls used here declared, loaded once per process; None (said once in the log,
    at the first workbook) where it is missing or of a version not known here."""
    lib, why = _load()
    if lib is None:
        log.info("workbooks are written by XlsxWriter, several times slower on a large export: %s", why)
    return lib


def _load() -> tuple[ctypes.CDLL | None, str]:
    if ctypes.sizeof(ctypes.c_void_p) != 8:
        return None, "libxlsxwriter is used on 64-bit systems only"
    try:
        lib = ctypes.CDLL(SONAME)
    except OSError:
        found = ctypes.util.find_library("xlsxwriter")
        if found is None:
            return None, f"no {SONAME} (apt-get install libxlsxwriter4)"
        try:
            lib = ctypes.CDLL(found)
        except OSError as error:
            return None, f"{found} cannot be loaded ({error})"
    try:
        for name, (restype, argtypes) in _SIGNATURES.items():
            function = getattr(lib, name)
            function.restype, function.argtypes = restype, argtypes
    except AttributeError as error:
        return None, f"libxlsxwriter lacks a call used here ({error})"
    version = lib.lxw_version().decode()
    if version not in KNOWN_VERSIONS:
        return (
            None,
            f"libxlsxwriter {version} is not a version known here ({', '.join(sorted(KNOWN_VERSIONS))})",
        )
    return lib, ""


def excel_date(moment: date) -> float:
    """A naive date or time as Excel's serial number, as XlsxWriter computes it (day 1 is 1900-01-01, and
    Excel's 29 February 1900, which never was, is counted)."""
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day)
    return _serial(moment - EPOCH)


def excel_local_time(aware: datetime, zone: ZoneInfo) -> float:
    """An aware time as the serial number of its wall-clock time in ``zone``: ``excel_date`` of that local
    time, the same number, at half the cost (no naive copy of the local time is made)."""
    return _serial(aware - _UTC_EPOCH + (aware.astimezone(zone).utcoffset() or timedelta(0)))


def _serial(delta: timedelta) -> float:
    serial = delta.days + (float(delta.seconds) + float(delta.microseconds) / 1e6) / (60 * 60 * 24)
    return serial + 1 if serial > 59 else serial


def excel_text(string: str) -> str:
    """Text as Excel reads it back from a cell, escaped as XlsxWriter escapes it where libxlsxwriter 1.1.4
    does not: a literal "_x0041_" (Excel would show "A") and the non-characters U+FFFE and U+FFFF (which XML
    cannot carry)."""
    if "_x" in string:
        string = _ESCAPE_LIKE.sub(r"_x005F\g<0>", string)
    if "\ufffe" in string or "\uffff" in string:
        string = string.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    return string


class NativeSheet:
    """One worksheet of a NativeWorkbook; rows are written in order (constant memory). Its two cell calls,
    ``text_cell(row, col, text_data(words), format)`` and ``number_cell(row, col, number_data(number),
    format)``, are libxlsxwriter's own, made without ctypes' argument conversion (~0.25 µs of a ~1 µs call
    saved, a million times an export): rows and columns as Python ints (C ints, in range), the text as bytes,
    the number as a C double, the sheet and the format as pointers; each answers libxlsxwriter's error code
    (0: written) for ``failed``."""

    text_data = staticmethod(str.encode)
    number_data = ctypes.c_double

    def __init__(self, lib: ctypes.CDLL, pointer: int) -> None:
        self._lib = lib
        self._pointer = pointer
        sheet = ctypes.c_void_p(pointer)
        # lib[name] is a function of its own, without the argtypes declared on lib.name.
        self.text_cell = functools.partial(lib["worksheet_write_string"], sheet)
        self.number_cell = functools.partial(lib["worksheet_write_number"], sheet)

    @staticmethod
    def escaped(words: str) -> str:
        """Text as libxlsxwriter must be given it for Excel to show ``words`` (``excel_text``)."""
        return excel_text(words)

    def failed(self, error: int) -> NoReturn:
        """Raise libxlsxwriter's error for a cell call's code."""
        raise NativeError(_said(self._lib, error))

    def set_column(self, first_col: int, last_col: int, width: float) -> None:
        """The columns' width, in characters."""
        _checked(self._lib, self._lib.worksheet_set_column(self._pointer, first_col, last_col, width, None))

    def freeze_panes(self, row: int, col: int) -> None:
        """The rows above ``row`` and the columns left of ``col`` stay in view."""
        self._lib.worksheet_freeze_panes(self._pointer, row, col)

    def autofilter(self, first_row: int, first_col: int, last_row: int, last_col: int) -> None:
        """An autofilter over the range."""
        _checked(
            self._lib, self._lib.worksheet_autofilter(self._pointer, first_row, first_col, last_row, last_col)
        )


class NativeWorkbook:
    """A workbook in constant-memory mode, written to a temporary file and handed back as bytes by
    ``close``, or given up by ``discard``: one or the other frees it and removes its temporary files."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        self._lib = lib
        self._folder = tempfile.mkdtemp(prefix="thidua-xlsx-")
        self._path = os.path.join(self._folder, "book.xlsx")
        # Each sheet's rows go to a temporary file there as they are written.
        options = _Options(constant_memory=1, tmpdir=self._folder.encode(), use_zip64=0)
        self._pointer = lib.workbook_new_opt(self._path.encode(), ctypes.byref(options))
        if not self._pointer:
            os.rmdir(self._folder)
            raise NativeError("libxlsxwriter could not start a workbook")

    def set_created(self, created: datetime) -> None:
        """When the workbook was made (an aware time), as its properties say."""
        properties = _Properties(created=int(created.astimezone(UTC).timestamp()))
        _checked(self._lib, self._lib.workbook_set_properties(self._pointer, ctypes.byref(properties)))

    def add_worksheet(self, name: str) -> NativeSheet:
        """The next sheet, by its tab's name."""
        pointer = self._lib.workbook_add_worksheet(self._pointer, name.encode())
        if not pointer:
            raise NativeError(f"libxlsxwriter refused the sheet name {name!r}")
        return NativeSheet(self._lib, pointer)

    def add_format(self, number_format: str | None, wrap: bool, bold: bool) -> ctypes.c_void_p:
        """A cell format (its address, which the cells written with it are given): a number format, text
        wrapped and held at the top, bold."""
        pointer = self._lib.workbook_add_format(self._pointer)
        if number_format:
            self._lib.format_set_num_format(pointer, number_format.encode())
        if wrap:
            self._lib.format_set_text_wrap(pointer)
            self._lib.format_set_align(pointer, ALIGN_VERTICAL_TOP)
        if bold:
            self._lib.format_set_bold(pointer)
        return ctypes.c_void_p(pointer)

    def close(self) -> bytes:
        """Write the file and free the workbook: its bytes."""
        try:
            _checked(self._lib, self._lib.workbook_close(self._pointer))
            with open(self._path, "rb") as book:
                return book.read()
        finally:
            shutil.rmtree(self._folder, ignore_errors=True)

    def discard(self) -> None:
        """Free the workbook without writing it (its rows failed half-way)."""
        self._lib.lxw_workbook_free(self._pointer)
        shutil.rmtree(self._folder, ignore_errors=True)


def _checked(lib: ctypes.CDLL, error: int) -> None:
    if error:
        raise NativeError(_said(lib, error))


def _said(lib: ctypes.CDLL, error: int) -> str:
    words = lib.lxw_strerror(error)
    return f"libxlsxwriter: {words.decode() if words else f'error {error}'}"
