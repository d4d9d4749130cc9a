"""The import workbook: the template a city fills in, reading a filled-in one, and the workbook of
rows returned with what to correct.

The columns are known by their titles, in any language the site speaks (a template downloaded in
English reads as well as one in Chinese), so that columns may be moved and others added: a column
this import does not know — the message column of a returned workbook, a city's own remarks — is
left aside. Cells are read as text, as people typed them; a code typed into a cell formatted as a
number comes back as its digits.
"""

import io
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from xml.etree.ElementTree import ParseError

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

from certify.applications.kinds import all_kinds, kind_label
from certify.core.spreadsheets import neutralise
from certify.exceptions import ServiceError
from certify.i18n import current_language
from certify.organisations.reference import cities, industry_classes

# More rows than any city's list; a larger file is refused before anything is checked.
MAX_ROWS = 5000
# Rows of the template prepared as text (codes keep their leading zeros and all 18 characters).
TEMPLATE_ROWS = 2000
# How many rows from the top may hold the column titles (headings above them are left aside).
HEADER_SEARCH_ROWS = 10


@dataclass(frozen=True)
class Column:
    """A column of the template: its key, its title (as people read it) and whether a row needs it."""

    key: str
    title: object
    required: bool = True
    width: int = 20


COLUMNS = (
    Column("organisation_name", _l("Organisation name"), width=30),
    Column("credit_code", _l("Unified social credit code"), width=22),
    Column("division", _l("City or prefecture (division code)"), width=20),
    Column("industry", _l("Industry class (GB/T 4754-2017)"), width=24),
    Column("kind", _l("Kind of recognition"), width=22),
    Column("subject", _l("Site or product"), width=30),
    Column("contact_name", _l("Contact person"), width=12),
    Column("contact_email", _l("Contact e-mail"), width=26),
    Column("contact_phone", _l("Contact telephone"), required=False, width=16),
)
COLUMN_KEYS = tuple(column.key for column in COLUMNS)
MESSAGE_TITLE = _l("What to correct")

_WRONG_FILL = PatternFill("solid", start_color="FFC7CE", end_color="FFC7CE")
_HEADER_FILL = PatternFill("solid", start_color="DDEBF7", end_color="DDEBF7")
_BOLD = Font(bold=True)

UNREADABLE = _l("The file could not be read as an Excel workbook (.xlsx). Save it from Excel or WPS "
                "as “Excel workbook (*.xlsx)” and upload it again.")


@dataclass
class SheetRow:
    """A row of the uploaded sheet: its number as the spreadsheet shows it, and its cells as text
    by column key (empty for a column the sheet lacks)."""

    number: int
    values: dict[str, str]


@dataclass
class ReturnedRow:
    """A row given back: its cells, the messages of each cell at fault, and messages about the
    row as a whole."""

    number: int
    values: dict[str, str]
    cells: dict[str, list[str]] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)

    def text(self) -> str:
        """Every message of the row, in one line."""
        return "；".join(list(self.messages) + [m for key in COLUMN_KEYS for m in self.cells.get(key, ())])


# ---- the template ---------------------------------------------------------------------------------


def template_workbook() -> bytes:
    """The template in the reader's language: the sheet to fill in (columns titled, formatted as
    text, with drop-down lists of kinds, cities and industry classes), the instructions, and the
    code lists the drop-downs offer."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Candidates")
    instructions = workbook.create_sheet(_("Instructions"))
    lists = workbook.create_sheet(_("Code lists"))
    _write_columns(sheet)
    _write_lists(sheet, lists)
    _write_instructions(instructions)
    return _saved(workbook)


def _write_columns(sheet, *extra_titles: str) -> None:
    """The title row (kept in view) and the template's columns, as wide as they need and
    formatted as text, so that codes keep their leading zeros and all their characters."""
    sheet.append([str(column.title) for column in COLUMNS] + list(extra_titles))
    for cell in sheet[1]:
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    sheet.freeze_panes = "A2"
    for index, column in enumerate(COLUMNS, start=1):
        dimension = sheet.column_dimensions[get_column_letter(index)]
        dimension.width = column.width
        dimension.number_format = "@"


def _write_lists(sheet, lists) -> None:
    """The code lists on a sheet of their own, and the data sheet's drop-downs pointing at them
    (a list typed into the validation itself may hold 255 characters only)."""
    language = current_language()
    columns = (
        ("kind", _("Kind of recognition"), [kind_label(kind.key) for kind in all_kinds()]),
        ("division", _("City or prefecture"), [f"{city.code} {city.name(language)}" for city in cities()]),
        ("industry", _("Industry class"), [entry.label for entry in industry_classes()]),
    )
    for index, (key, title, entries) in enumerate(columns, start=1):
        letter = get_column_letter(index)
        lists.cell(row=1, column=index, value=title).font = _BOLD
        for row, entry in enumerate(entries, start=2):
            lists.cell(row=row, column=index, value=entry)
        lists.column_dimensions[letter].width = 30
        validation = DataValidation(
            type="list", formula1=f"{quote_sheetname(lists.title)}!${letter}$2:${letter}${len(entries) + 1}",
            allow_blank=True, errorStyle="warning", showErrorMessage=True,
            error=_("Choose from the list, or type the code."))
        target = get_column_letter(COLUMN_KEYS.index(key) + 1)
        validation.add(f"{target}2:{target}{TEMPLATE_ROWS + 1}")
        sheet.add_data_validation(validation)


def _write_instructions(sheet) -> None:
    lines = [
        _("How to fill in this template"),
        _("One row per organisation and subject: a site for a green factory, a product (and its models) for a "
          "green design product, the park for a green industrial park, the group for a green supply chain. "
          "An organisation with several subjects takes several rows with the same credit code."),
        _("Keep the titles of the first row; columns may be moved, and columns of your own are left aside."),
        _("Every column is required except the contact telephone. The industry class is not needed for a "
          "green industrial park."),
        _("Unified social credit code: the 18 characters of the business licence (GB 32100-2015); the last "
          "one is a check character, so a mistyped code is found."),
        _("City or prefecture: the six-digit administrative division code (GB/T 2260), e.g. 510100, or pick it "
          "from the list."),
        _("Industry class: a four-digit class of GB/T 4754-2017, e.g. 3120 炼钢, or pick it from the list."),
        _("Kind of recognition: pick it from the list."),
        _("Contact: the person who will fill in the application. They receive an e-mail with a link to set "
          "their password, and find the draft application waiting."),
        _("An organisation already registered (same credit code) is kept as it is; a row whose organisation, "
          "kind and subject are already in the system is not imported twice, so the same file may be "
          "uploaded again."),
        _("Rows with mistakes are returned in a workbook with the cells at fault marked and a column saying "
          "what to correct: correct them there and upload that workbook."),
    ]
    for line in lines:
        sheet.append([line])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.column_dimensions["A"].width = 120
    for row in sheet.iter_rows(min_row=2):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")


def _saved(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ---- reading a filled-in workbook -------------------------------------------------------------------


def _title_key(text) -> str:
    """A column title as compared: width, spaces, required marks and case aside."""
    text = unicodedata.normalize("NFKC", str(text or ""))
    return "".join(char for char in text if not char.isspace() and char != "*").casefold()


def _titles() -> dict[str, str]:
    """Every title a column may have (in each language of the site, or its key) → its key."""
    titles = {}
    for language in current_app.config["LANGUAGES"]:
        with force_locale(language):
            titles.update({_title_key(str(column.title)): column.key for column in COLUMNS})
    titles.update({_title_key(column.key): column.key for column in COLUMNS})
    return titles


def cell_text(value) -> str:
    """A cell as the text typed: whole numbers without a decimal point, dates as ISO dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def read_rows(fileobj) -> list[SheetRow]:
    """The rows of the workbook's first sheet below its title row (rows with nothing in them
    left out). Raises ``ServiceError`` for a file that is no readable workbook, a sheet without
    the template's columns, or more rows than ``MAX_ROWS``."""
    try:
        workbook = load_workbook(fileobj, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError,
            IndexError, ParseError) as exc:
        raise ServiceError(UNREADABLE, field="workbook") from exc
    try:
        return _sheet_rows(workbook.worksheets[0])
    except (KeyError, ValueError, TypeError, IndexError, ParseError) as exc:
        raise ServiceError(UNREADABLE, field="workbook") from exc
    finally:
        workbook.close()


def _sheet_rows(sheet) -> list[SheetRow]:
    """The rows below the title row: the first row, among the first few, holding every required
    column's title (a summary sheet often has a heading above its titles)."""
    positions = None
    tried: list[dict[str, int]] = []
    rows = []
    for number, line in enumerate(sheet.iter_rows(values_only=True), start=1):
        texts = [cell_text(value) for value in line]
        if not any(texts):
            continue
        if positions is None:
            found = _column_positions(texts)
            if _missing(found):
                tried.append(found)
                if len(tried) == HEADER_SEARCH_ROWS:
                    break
            else:
                positions = found
            continue
        if len(rows) == MAX_ROWS:
            raise ServiceError(_l("The workbook has more than %(count)d rows; split it into smaller files.",
                                  count=MAX_ROWS), field="workbook")
        values = {key: texts[index] if index < len(texts) else "" for key, index in positions.items()}
        if any(values.values()):
            rows.append(SheetRow(number, {key: values.get(key, "") for key in COLUMN_KEYS}))
    if positions is None and not tried:
        raise ServiceError(_l("The workbook's first sheet is empty. Fill in the template and upload it."),
                           field="workbook")
    if positions is None:
        missing = _missing(max(tried, key=len))
        raise ServiceError(_l("The first sheet must have a row of the template's column titles; these are "
                              "missing: %(columns)s. Download the template and copy the rows into it.",
                              columns="、".join(missing)), field="workbook")
    return rows


def _column_positions(titles: list[str]) -> dict[str, int]:
    """Where each known column is, by the titles of a row."""
    known = _titles()
    positions = {}
    for index, title in enumerate(titles):
        key = known.get(_title_key(title))
        if key is not None and key not in positions:
            positions[key] = index
    return positions


def _missing(positions: dict[str, int]) -> list[str]:
    """The titles of the required columns not in ``positions``."""
    return [str(column.title) for column in COLUMNS if column.required and column.key not in positions]


# ---- the rows returned ------------------------------------------------------------------------------


def returned_workbook(rows: list[ReturnedRow]) -> bytes:
    """The rows given back, in the template's columns and a last column saying what to correct;
    each cell at fault filled in red, with its message as a comment. Corrected, the workbook is
    uploaded as it is."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Rows to correct")
    _write_columns(sheet, str(MESSAGE_TITLE))
    sheet.column_dimensions[get_column_letter(len(COLUMNS) + 1)].width = 60
    for row_number, row in enumerate(rows, start=2):
        for index, key in enumerate(COLUMN_KEYS, start=1):
            cell = sheet.cell(row=row_number, column=index, value=neutralise(row.values.get(key, "")))
            cell.number_format = "@"
            if row.cells.get(key):
                cell.fill = _WRONG_FILL
                cell.comment = Comment("\n".join(row.cells[key]), "certify", width=300, height=100)
        sheet.cell(row=row_number, column=len(COLUMNS) + 1, value=neutralise(row.text()))
    return _saved(workbook)
