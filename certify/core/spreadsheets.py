"""Tables as CSV and XLSX files, safe to open in spreadsheet software: values that a spreadsheet
would run as a formula are neutralised, and CSV carries a byte-order mark so that the Chinese text
is read as UTF-8.

``columns`` is a sequence of ``(key, title)``; each row is a dict read by key. In a worksheet,
numbers stay numbers.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

from openpyxl import Workbook

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


def to_xlsx(rows: Iterable[dict], columns: Sequence[tuple[str, str]], title: str | None = None,
            sheet_name: str = "list") -> bytes:
    """One worksheet: the title (when given) in the first row, then the column titles, then the rows."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_name
    if title is not None:
        sheet.append([neutralise(title)])
    sheet.append([str(column_title) for _, column_title in columns])
    for row in rows:
        sheet.append([_cell(row.get(key)) for key, _ in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
