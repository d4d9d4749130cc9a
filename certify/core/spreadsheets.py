"""Tables as CSV and XLSX files, safe to open in spreadsheet software: values that a spreadsheet
would run as a formula are neutralised, and CSV carries a byte-order mark so that the Chinese text
is read as UTF-8.

``columns`` is a sequence of ``(key, title)``; each row is a dict read by key. In a worksheet,
numbers stay numbers.
"""

import csv
import io
import unicodedata
from collections.abc import Iterable, Sequence
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def neutralise(value) -> str:
    """A cell value that spreadsheet software shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _cell(value):
    """Numbers stay numbers in a worksheet; everything else is neutralised text."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    return neutralise(value)


def to_csv(rows: Iterable[dict], columns: Sequence[tuple[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([str(title) for _, title in columns])
    for row in rows:
        writer.writerow([neutralise(row.get(key)) for key, _ in columns])
    return buffer.getvalue().encode("utf-8-sig")


# The first column of every worksheet: each row's number.
NUMBER_COLUMN = "序号 No."
# Column widths, in characters: a Chinese character takes two; no column narrower or wider than these.
MIN_WIDTH, MAX_WIDTH = 6, 60


def to_xlsx(rows: Iterable[dict], columns: Sequence[tuple[str, str]], title: str | None = None,
            sheet_name: str = "名单") -> bytes:
    """One worksheet named ``sheet_name``: the title (when given) in the first row, then the column
    titles (frozen in view), then the rows, each numbered; columns as wide as what they hold."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_name
    if title is not None:
        sheet.append([neutralise(title)])
    header = [NUMBER_COLUMN] + [str(column_title) for _, column_title in columns]
    sheet.append(header)
    sheet.freeze_panes = f"A{sheet.max_row + 1}"
    widths = [_width(text) for text in header]
    for number, row in enumerate(rows, start=1):
        values = [number] + [_cell(row.get(key)) for key, _ in columns]
        sheet.append(values)
        widths = [max(width, _width(value)) for width, value in zip(widths, values, strict=True)]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width, MIN_WIDTH), MAX_WIDTH) + 2
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _width(value) -> int:
    """How many character widths ``value`` takes on screen (East Asian wide characters take two)."""
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
