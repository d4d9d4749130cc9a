"""Open data: an announced batch as CSV, XLSX and JSON, safe to open in spreadsheet software
(values that a spreadsheet would run as a formula are neutralised)."""

import csv
import io
import json

from openpyxl import Workbook

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

COLUMNS = (
    ("organisation", "单位名称 Organisation"),
    ("credit_code", "统一社会信用代码 Credit code"),
    ("city", "市（州） City"),
    ("kind", "类别 Kind"),
    ("subject", "名称 Subject"),
    ("certificate_number", "证书编号 Certificate number"),
    ("valid_until", "有效期至 Valid until"),
)


def neutralise(value) -> str:
    """A cell value that spreadsheet software shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def to_csv(rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([title for _, title in COLUMNS])
    for row in rows:
        writer.writerow([neutralise(row.get(key)) for key, _ in COLUMNS])
    # A byte-order mark so that spreadsheet software reads the Chinese text as UTF-8.
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(rows: list[dict], title: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "list"
    sheet.append([neutralise(title)])
    sheet.append([column_title for _, column_title in COLUMNS])
    for row in rows:
        sheet.append([neutralise(row.get(key)) for key, _ in COLUMNS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def to_json(rows: list[dict], batch: dict) -> bytes:
    return json.dumps({"batch": batch, "entries": rows}, ensure_ascii=False, indent=1).encode("utf-8")
