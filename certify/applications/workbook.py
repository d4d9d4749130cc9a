"""The self-assessment workbook: an application's sections as an Excel workbook, filled offline
(enterprises fill the same self-assessment in spreadsheets for the national platform, their city
and their bank) and uploaded back into the draft.

Writing (``build_workbook``): a first sheet saying how to fill it in, then one sheet per section
of the application (the pages the forms show, in the same order), each row an answer: clause,
indicator, unit, what may be answered, the answer, a note. Met / not met and answer options are
chosen from a list; numbers are numbers. The sheets are protected with only the answer and note
cells open, and the workbook's structure is locked. Every row carries, in hidden columns, which
answer it is (by position in the pinned rule set, never by title) and a fingerprint of the
answer and note as downloaded; a hidden sheet names the application and the exact rule-set
version (its sha256).

Reading (``read_workbook``): the cells changed since the download are read with the forms'
own parser (``rulesets.forms.parse_page``), so a workbook refuses exactly what a section page
refuses, with the same messages. The rules a person reads on the first sheet:

- an empty cell leaves the answer in the system as it is (an answer is cleared on its page);
- a cell left as downloaded sends nothing;
- a cell changed in the workbook whose answer was also changed in the system after the download
  is refused, so that neither change is lost silently.

A workbook with any refused cell is refused whole: nothing is saved, and the same workbook comes
back with each refused cell filled red and its reason in a comment (``build_workbook`` with the
cells as uploaded and the errors).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from werkzeug.datastructures import MultiDict

from certify.applications.models import Application
from certify.i18n import current_language, datetime_text, plain, translated
from certify.rulesets.applied import pages, rule_set_of
from certify.rulesets.forms import (
    NO,
    YES,
    ParsedAnswers,
    answer_field,
    describe_range,
    input_field,
    input_keys,
    not_applicable_field,
    parse_page,
    reason_field,
    remark_field,
)
from certify.scoring import Indicator
from certify.timeutil import utcnow
from certify.uploads import UploadRefused, check_upload, clean_filename, megabytes

# The layout's version, written to the hidden sheet: a later layout can still read this one.
FORMAT = "1"
# Far more than a filled workbook of the largest rule file (about 30 kB): a larger file is no
# workbook of ours.
MAX_WORKBOOK_BYTES = 5 * 1024 * 1024
# The hidden sheets: what the workbook is for, and the lists answers are chosen from.
META_SHEET, LISTS_SHEET = "_certify", "_lists"
# Section sheets: the section's title, the column titles, then one row per answer.
TITLE_ROW, HEADER_ROW, FIRST_ROW = 1, 2, 3
(CLAUSE, TITLE, UNIT, ALLOWED, ANSWER, NOTE, KEY, ANSWER_PRINT, NOTE_PRINT) = range(1, 10)
WIDTHS = {CLAUSE: 14, TITLE: 50, UNIT: 14, ALLOWED: 40, ANSWER: 22, NOTE: 40}
MAX_SHEET_TITLE = 31
# A points indicator offers its steps as a list up to this many; beyond, the number is typed.
MAX_LISTED_STEPS = 101

_HEADER_FILL = PatternFill("solid", fgColor="D9D9D9")
_OPEN_FILL = PatternFill("solid", fgColor="FFF9DB")
_CLOSED_FILL = PatternFill("solid", fgColor="EDEDED")
_ERROR_FILL = PatternFill("solid", fgColor="F4B6B6")
_WRAP = Alignment(wrap_text=True, vertical="top")
_OPEN = Protection(locked=False)
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")

WRONG_FILE = _l("Upload the workbook as the .xlsx file it was downloaded as.")
NOT_A_WORKBOOK = _l("This file could not be read as a workbook. Upload the .xlsx file downloaded from this "
                    "application, filled in.")
NOT_OURS = _l("This workbook was not downloaded from this system. Download the application's workbook and "
              "fill in that one.")
OTHER_APPLICATION = _l("This workbook was made for another application. Download this application's workbook "
                       "and fill in that one.")
NO_LONGER_ASKED = _l("This item is no longer among the application's sections: leave its cell empty.")
DECLARED = _l("Declared not applicable. To answer it, withdraw the declaration on its page in the system.")


# ---- rows -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One answer cell of a section sheet: the indicator, the figure of a computed indicator it
    holds (``None`` for the indicator's own answer), and its key in the hidden column."""

    indicator: Indicator
    figure: str | None
    key: str


@dataclass(frozen=True)
class Sheet:
    """A section sheet: its title and its rows."""

    title: str
    rows: list[Row]


def _row_key(position: int, figure_number: int | None = None) -> str:
    """``12`` for the twelfth indicator of the rule set, ``12/2`` for its second figure: the
    rule set is pinned by its sha256, so positions name the same item on download and upload."""
    return str(position) if figure_number is None else f"{position}/{figure_number}"


def sheets(application: Application) -> list[Sheet]:
    """The section sheets of the application: the pages its forms show, with their rows."""
    rule_set = rule_set_of(application)
    positions = {indicator.id: n for n, indicator in enumerate(rule_set.indicators, start=1)}
    result, titles = [], {_("How to fill in")}
    for _page_id, section, indicators in pages(rule_set, application.industry_code, application.not_applicable):
        rows = [row for indicator in indicators for row in _rows_of(indicator, positions[indicator.id])]
        title = _sheet_title(translated(section.title) if section else _("Basic requirements"), titles)
        titles.add(title)
        result.append(Sheet(title, rows))
    return result


def _rows_of(indicator: Indicator, position: int) -> list[Row]:
    """The rows of the indicator at ``position`` in its rule set: one, or one per figure."""
    if not indicator.is_computed:
        return [Row(indicator, None, _row_key(position))]
    return [Row(indicator, key, _row_key(position, n)) for n, key in enumerate(input_keys(indicator), start=1)]


def _sheet_title(wanted: str, taken: set[str]) -> str:
    """A sheet title spreadsheets accept: at most 31 characters, none of ``[]:*?/\\``, no
    leading or trailing apostrophe, unique in the workbook."""
    base = _SHEET_TITLE_FORBIDDEN.sub("-", wanted).strip("' ")[:MAX_SHEET_TITLE] or "-"
    title, number = base, 2
    while title.casefold() in {t.casefold() for t in taken} | {META_SHEET, LISTS_SHEET}:
        suffix = f"({number})"
        title, number = base[:MAX_SHEET_TITLE - len(suffix)] + suffix, number + 1
    return title


# ---- what a row says ------------------------------------------------------------------------------


def _yes_no_labels(kind: str) -> list[tuple[str, str]]:
    """The (posted answer, label) pairs of a requirement or a veto condition, as its page words them."""
    if kind == "requirement":
        return [(YES, _("Met")), (NO, _("Not met"))]
    return [(NO, _("Not the case")), (YES, _("The case: the application cannot proceed"))]


def _choice_labels(indicator: Indicator) -> list[tuple[str, str]]:
    """The (posted answer, label) pairs a chosen answer is picked from, in the current language;
    empty for a number."""
    if indicator.type in ("requirement", "veto"):
        return _yes_no_labels(indicator.type)
    if indicator.type == "choice":
        return [(option.key, translated(option.title)) for option in indicator.options]
    return []


def _point_steps(indicator: Indicator) -> list[Decimal]:
    """The points a points indicator may be given (0, step, …, max), when few enough to list."""
    if indicator.type != "points" or not indicator.step:
        return []
    count = int(indicator.max / indicator.step) + 1
    return [indicator.step * n for n in range(count)] if count <= MAX_LISTED_STEPS else []


def _unit_text(unit) -> str:
    """A unit as the unit column shows it (nothing for a ratio, which has none)."""
    return "" if unit is None or unit.key == "ratio" else translated(unit)


def _row_title(row: Row) -> str:
    """The indicator's title, and for a figure of a computed indicator the figure's own."""
    title = translated(row.indicator.title)
    if row.figure is None:
        return title
    return f"{title} — {_figure_title(row)}"


def _figure_title(row: Row) -> str:
    """What a figure of a computed indicator is, as its section page names it."""
    if row.figure == "baseline":
        return _("Industry average (baseline)")
    if row.figure == "leading":
        return _("Industry advanced level (leading value)")
    return translated(next(entry.title for entry in row.indicator.inputs if entry.key == row.figure))


def _row_unit(row: Row):
    """The unit the row's number is given in."""
    if row.figure is None or row.figure in ("baseline", "leading"):
        return row.indicator.unit
    return next(entry.unit for entry in row.indicator.inputs if entry.key == row.figure)


def _allowed_text(row: Row) -> str:
    """What may be answered in the row, in words."""
    indicator = row.indicator
    if row.figure is not None:
        entry = next((e for e in indicator.inputs if e.key == row.figure), None)
        domain = indicator.range if entry is None else (entry.range or (entry.unit.range if entry.unit else None))
        return describe_range(domain) if domain is not None else ""
    labels = _choice_labels(indicator)
    zh = current_language() == "zh"
    if labels:
        return _("Choose from the list: %(labels)s", labels=("、" if zh else " / ").join(label for _key, label in labels))
    if indicator.type == "points":
        text = _("0 to %(max)s points, in steps of %(step)s", max=plain(indicator.max), step=plain(indicator.step))
        levels = ("；" if zh else "; ").join(f"{plain(level.points)}{'：' if zh else ': '}{translated(level.title)}"
                                            for level in indicator.levels)
        return f"{text}\n{levels}" if levels else text
    parts = [describe_range(indicator.range)] if indicator.range is not None else []
    if indicator.limit is not None:
        unit = _unit_text(indicator.unit)
        parts.append(_("Required: %(limit)s; not meeting it fails the application.",
                       limit=f"{indicator.limit_sign} {plain(indicator.limit)}" + (f" {unit}" if unit else "")))
    return "\n".join(parts)


# ---- stored answers as cells, cells as form text ---------------------------------------------------


def _stored_part(application: Application, row: Row):
    """The stored answer the row shows (one figure of a computed indicator), ``None`` if none."""
    stored = (application.answers or {}).get(row.indicator.id)
    if row.figure is None or stored is None:
        return stored
    return stored.get(row.figure)


def _cell_value(row: Row, stored):
    """A stored answer as the cell shows it: a label for a chosen answer, a number for a number
    (as text only where a spreadsheet's floating point would not hold it exactly)."""
    if stored is None:
        return None
    labels = dict(_choice_labels(row.indicator))
    if row.figure is None and labels:
        key = (YES if stored else NO) if isinstance(stored, bool) else stored
        return labels.get(key, str(stored))
    try:
        number = Decimal(str(stored))
    except InvalidOperation:
        return str(stored)
    if number == number.to_integral_value() and abs(number) < 10**15:
        return int(number)
    exact = Decimal(repr(float(number))) == number
    return float(number) if exact else plain(number)


def cell_text(value, number_format: str | None = None) -> str:
    """A cell's value as the text the forms' parser reads: numbers exactly as the spreadsheet
    holds them, a percentage cell (``82.5%`` typed into a number cell) as ``82.5%``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (int, float)):
        number = Decimal(value) if isinstance(value, int) else Decimal(repr(value))
        if number_format and "%" in number_format:
            return plain(number * 100) + "%"
        return plain(number)
    return str(value).strip()


def _fingerprint(value) -> str:
    """A short digest of a stored answer or note, kept in a hidden column: it tells, on upload,
    whether the cell or the system changed since the download, without showing the answer twice."""
    canonical = _canonical(value)
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def _canonical(value):
    """One form for answers that mean the same (``2`` and ``2.0``; an empty note and none)."""
    if value is None or value == "" or isinstance(value, bool):
        return None if value == "" else value
    try:
        return plain(Decimal(str(value)))
    except InvalidOperation:
        return str(value)


# ---- writing --------------------------------------------------------------------------------------


def build_workbook(application: Application, uploaded: dict | None = None, errors: dict | None = None) -> bytes:
    """The workbook of ``application`` in the current language, with its current answers; or,
    given the cells of an upload (``uploaded``: (row key, ``ANSWER``/``NOTE``) -> value) and the
    refusals (same keys -> message), that workbook as uploaded with each refused cell marked."""
    uploaded, errors = uploaded or {}, errors or {}
    workbook = Workbook()
    instructions = workbook.active
    instructions.title = _sheet_title(_("How to fill in"), set())
    section_sheets = sheets(application)
    _write_instructions(instructions, application, errors, section_sheets)
    validations = _Validations()
    for sheet in section_sheets:
        _write_section(workbook.create_sheet(sheet.title), application, sheet, validations, uploaded, errors)
    validations.write(workbook.create_sheet(LISTS_SHEET))
    _write_meta(workbook.create_sheet(META_SHEET), application)
    workbook[LISTS_SHEET].sheet_state = workbook[META_SHEET].sheet_state = "veryHidden"
    workbook.security = WorkbookProtection(lockStructure=True)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _write_instructions(sheet, application: Application, errors: dict, section_sheets: list[Sheet]) -> None:
    """The first sheet: what the workbook is for, how to fill it in and, for a refused upload,
    every refused cell with its reason."""
    rule_set = rule_set_of(application)
    heading, alert = Font(bold=True, size=13), Font(bold=True, color="C00000")
    lines = [
        (_("Self-assessment workbook"), heading),
        (application.subject + _aside(application.reference), None),
        (translated(rule_set.title) + _aside(_("%(standard)s, version %(version)s", standard=rule_set.standard.code,
                                               version=rule_set.version)), None),
        (_("Downloaded: %(when)s", when=datetime_text(utcnow())), None),
        ("", None),
    ]
    if errors:
        lines.append((_("Nothing was saved: %(count)d cells need correcting. They are marked in red, each with "
                        "its reason in a comment. Correct them and upload the workbook again.", count=len(errors)),
                      alert))
        colon = "：" if current_language() == "zh" else ": "
        lines += [(f"{title}!{cell}{colon}{message}", None) for title, cell, message in _error_places(section_sheets, errors)]
        lines.append(("", None))
    lines += [(text, None) for text in (
        _("Each section of the application has a sheet of its own. Fill in the column “Answer” (yellow "
          "cells) and, if you wish, the column “Note”; the other cells cannot be changed."),
        _("Choose met / not met and the answer options from each cell's list. Write numbers in the unit "
          "shown, without the unit, with a point for decimals (1234.5 or 1,234.5)."),
        _("An empty cell leaves the answer in the system as it is. To clear an answer, clear it on its "
          "page in the system."),
        _("Answers you do not change are not sent again. An answer changed in the system after you "
          "downloaded this workbook is not overwritten: the workbook is refused and the cell marked."),
        _("Declaring an item not applicable and attaching evidence are done on the item's page in the "
          "system."),
        _("Upload the workbook on the application's page. Every cell is checked as on the section pages; "
          "if any cell is wrong, nothing is saved and you get the workbook back with each wrong cell "
          "marked in red and its reason in a comment."),
        _("This workbook is for this application and this version of the rules only."),
    )]
    for number, (text, font) in enumerate(lines, start=1):
        cell = _set(sheet.cell(row=number, column=1), text)
        cell.alignment = _WRAP
        if font is not None:
            cell.font = font
    sheet.column_dimensions["A"].width = 110
    sheet.protection.sheet = True


def _aside(text: str) -> str:
    """``text`` in brackets as the language writes them (plain text: a cell is no web page)."""
    return f"（{text}）" if current_language() == "zh" else f" ({text})"


def _error_places(section_sheets: list[Sheet], errors: dict) -> Iterator[tuple[str, str, str]]:
    """Where each refusal is, as (sheet title, cell, message), in the order of the sheets."""
    for sheet in section_sheets:
        for number, row in enumerate(sheet.rows, start=FIRST_ROW):
            for column in (ANSWER, NOTE):
                message = errors.get((row.key, column))
                if message is not None:
                    yield sheet.title, f"{get_column_letter(column)}{number}", message


class _Validations:
    """The data-validation lists of a workbook: each list of choices kept once, in a column of
    the hidden lists sheet (written last), and one validation per sheet and list, shared by the
    rows that offer it."""

    def __init__(self):
        self.columns: dict[tuple, str] = {}
        self.made: dict[tuple, DataValidation] = {}

    def for_row(self, sheet, row: Row) -> DataValidation | None:
        """The list the row's answer is chosen from (``None`` for a number typed freely)."""
        if row.figure is not None:
            return None
        choices = tuple(label for _key, label in _choice_labels(row.indicator)) or tuple(
            _cell_value(row, step) for step in _point_steps(row.indicator))
        if not choices:
            return None
        if (sheet.title, choices) not in self.made:
            letter = self.columns.setdefault(choices, get_column_letter(len(self.columns) + 1))
            validation = DataValidation(
                type="list", formula1=f"{quote_sheetname(LISTS_SHEET)}!${letter}$1:${letter}${len(choices)}",
                allow_blank=True, showErrorMessage=True, errorTitle=_("Not in the list"),
                error=_("Choose an answer from the list."))
            sheet.add_data_validation(validation)
            self.made[sheet.title, choices] = validation
        return self.made[sheet.title, choices]

    def write(self, lists_sheet) -> None:
        """Write every list to its column of ``lists_sheet``."""
        for choices, letter in self.columns.items():
            for number, value in enumerate(choices, start=1):
                _set(lists_sheet[f"{letter}{number}"], value)


def _write_section(sheet, application: Application, section: Sheet, validations: _Validations,
                   uploaded: dict, errors: dict) -> None:
    """One section sheet: its title, the column titles, then a row per answer; only the answer and
    note cells open, the columns that identify each row hidden."""
    headers = {CLAUSE: _("Clause"), TITLE: _("Indicator"), UNIT: _("Unit"), ALLOWED: _("Allowed values"),
               ANSWER: _("Answer"), NOTE: _("Note")}
    _set(sheet.cell(row=TITLE_ROW, column=CLAUSE), section.title).font = Font(bold=True, size=13)
    for column, text in headers.items():
        cell = _set(sheet.cell(row=HEADER_ROW, column=column), text)
        cell.font, cell.fill, cell.alignment = Font(bold=True), _HEADER_FILL, _WRAP
    written = set()
    for number, row in enumerate(section.rows, start=FIRST_ROW):
        _write_row(sheet, number, application, row, row.indicator.id not in written, validations, uploaded)
        written.add(row.indicator.id)
        for column in (ANSWER, NOTE):
            message = errors.get((row.key, column))
            if message is not None:
                marked = sheet.cell(row=number, column=column)
                marked.fill = _ERROR_FILL
                marked.comment = Comment(str(message), "certify", width=320, height=120)
    for column, width in WIDTHS.items():
        sheet.column_dimensions[get_column_letter(column)].width = width
    for column in (KEY, ANSWER_PRINT, NOTE_PRINT):
        sheet.column_dimensions[get_column_letter(column)].hidden = True
    sheet.freeze_panes = f"A{FIRST_ROW}"
    sheet.protection.sheet = True


def _write_row(sheet, number: int, application: Application, row: Row, is_first: bool,
               validations: _Validations, uploaded: dict) -> None:
    """One answer's row (the first row of an indicator also holds its clause and its note), with
    the answer as stored or, for a workbook given back, as uploaded."""
    declared = row.indicator.id in (application.not_applicable or {})
    remark = (application.remarks or {}).get(row.indicator.id)
    stored = _stored_part(application, row)
    values = {CLAUSE: (row.indicator.ref or "") if is_first else "", TITLE: _row_title(row),
              UNIT: _unit_text(_row_unit(row)), ALLOWED: DECLARED if declared else _allowed_text(row)}
    for column, value in values.items():
        _set(sheet.cell(row=number, column=column), str(value)).alignment = _WRAP
    answer = _set(sheet.cell(row=number, column=ANSWER), uploaded.get((row.key, ANSWER), _cell_value(row, stored)))
    answer.alignment = _WRAP
    if declared:
        answer.fill = _CLOSED_FILL
    else:
        answer.fill, answer.protection = _OPEN_FILL, _OPEN
        validation = validations.for_row(sheet, row)
        if validation is not None:
            validation.add(answer)
    _set(sheet.cell(row=number, column=KEY), row.key)
    _set(sheet.cell(row=number, column=ANSWER_PRINT), _fingerprint(stored))
    if is_first:
        note = _set(sheet.cell(row=number, column=NOTE), uploaded.get((row.key, NOTE), remark or None))
        note.fill, note.protection, note.alignment = _OPEN_FILL, _OPEN, _WRAP
        _set(sheet.cell(row=number, column=NOTE_PRINT), _fingerprint(remark))


def _write_meta(sheet, application: Application) -> None:
    """The hidden sheet that says which application and which rule-set version the workbook is for."""
    for name, value in (("format", FORMAT), ("application", str(application.id)),
                        ("rules_sha256", application.rule_set_sha256), ("rules_version", application.rule_set_version)):
        sheet.append([name, value])
    sheet.protection.sheet = True


def _set(cell, value):
    """Put ``value`` in ``cell``; a text is always a text, never a formula (``=…`` typed or quoted),
    without the control characters a workbook cannot hold (a note may have been pasted with some)."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell.value = value
    if isinstance(value, str) and cell.data_type == "f":
        cell.data_type = "s"
    return cell


# ---- reading --------------------------------------------------------------------------------------


@dataclass
class WorkbookReading:
    """An uploaded workbook read: the answers and notes to save (as a section page's
    ``ParsedAnswers``), the refused cells ((row key, column) -> message), and every answer and
    note cell as uploaded (to give the workbook back as it came)."""

    parsed: ParsedAnswers = field(default_factory=ParsedAnswers)
    errors: dict = field(default_factory=dict)
    uploaded: dict = field(default_factory=dict)


@dataclass
class _Cells:
    """The answer cells (by figure; ``None`` for the indicator's own answer: their texts and the
    fingerprints downloaded with them) and the note cell of one indicator, as uploaded."""

    texts: dict = field(default_factory=dict)
    prints: dict = field(default_factory=dict)
    note: str = ""
    note_print: str | None = None


def read_workbook(application: Application, fileobj, filename: str | None) -> WorkbookReading:
    """Read an uploaded workbook of ``application``. Raises ``UploadRefused`` when the file is
    no workbook of this application and rule-set version; otherwise returns what it says,
    refusals included. Reads and changes nothing else."""
    book = _open(fileobj, filename)
    try:
        _check_meta(book, application)
        reading = WorkbookReading()
        cells = _read_cells(book, application, reading)
    finally:
        book.close()
    _parse(application, cells, reading)
    return reading


def _open(fileobj, filename: str | None):
    """The uploaded file as a workbook open for reading, once it passed the checks every upload
    passes (its content an XLSX file, no zip bomb)."""
    if not clean_filename(filename).lower().endswith(".xlsx"):
        raise UploadRefused(WRONG_FILE)
    data = fileobj.read(MAX_WORKBOOK_BYTES + 1)
    if len(data) > MAX_WORKBOOK_BYTES:
        raise UploadRefused(_l("This file is too large for a workbook of this application (at most %(limit)s).",
                               limit=megabytes(MAX_WORKBOOK_BYTES)))
    if check_upload(io.BytesIO(data), filename, max_size=MAX_WORKBOOK_BYTES).kind != "xlsx":
        raise UploadRefused(WRONG_FILE)
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # whatever a malformed file makes the reader raise, the answer is the same
        raise UploadRefused(NOT_A_WORKBOOK) from None


def _check_meta(book, application: Application) -> None:
    """Refuse a workbook not made by this system, or made for another application or another
    version of its rules."""
    if META_SHEET not in book.sheetnames:
        raise UploadRefused(NOT_OURS)
    meta = {str(line[0]): str(line[1]) for line in book[META_SHEET].iter_rows(max_col=2, values_only=True)
            if len(line) == 2 and None not in line}
    if meta.get("format") != FORMAT or "application" not in meta:
        raise UploadRefused(NOT_OURS)
    if meta["application"] != str(application.id):
        raise UploadRefused(OTHER_APPLICATION)
    if meta.get("rules_sha256") != application.rule_set_sha256:
        raise UploadRefused(_l("This workbook was made for another version of the rules (version %(version)s); "
                               "this application follows version %(current)s. Download the workbook again.",
                               version=meta.get("rules_version", "?"), current=application.rule_set_version))


def _read_cells(book, application: Application, reading: WorkbookReading) -> dict[str, _Cells]:
    """Every answer and note cell of the section sheets, by indicator id; a row is known by its
    hidden key, never by its title or place."""
    by_key = {row.key: row for row in _every_row(application)}
    cells: dict[str, _Cells] = {}
    for sheet in book.worksheets:
        if sheet.title in (META_SHEET, LISTS_SHEET):
            continue
        for line in sheet.iter_rows(min_row=FIRST_ROW, max_col=NOTE_PRINT):
            row = by_key.get(str(line[KEY - 1].value)) if len(line) == NOTE_PRINT else None
            if row is None:
                continue
            answer, note = line[ANSWER - 1], line[NOTE - 1]
            entry = cells.setdefault(row.indicator.id, _Cells())
            entry.texts[row.figure] = cell_text(answer.value, answer.number_format)
            entry.prints[row.figure] = line[ANSWER_PRINT - 1].value
            reading.uploaded[row.key, ANSWER] = answer.value
            if note.value is not None:
                entry.note, entry.note_print = cell_text(note.value), line[NOTE_PRINT - 1].value
                reading.uploaded[row.key, NOTE] = note.value
    return cells


def _every_row(application: Application) -> list[Row]:
    """Every row a workbook of the application's rule set can hold (an item that applied when the
    workbook was downloaded may apply no longer)."""
    rule_set = rule_set_of(application)
    return [row for position, indicator in enumerate(rule_set.indicators, start=1)
            for row in _rows_of(indicator, position)]


class _Labels:
    """The labels of chosen answers in either language (a workbook downloaded in English may be
    uploaded by a colleague reading Chinese), to the answer a section page posts."""

    def __init__(self):
        self.fixed: dict[str, dict[str, str]] = {"requirement": {}, "veto": {}}
        for language in ("zh", "en"):
            with force_locale(language):
                for kind, labels in self.fixed.items():
                    labels |= {label.casefold(): key for key, label in _yes_no_labels(kind)}

    def posted(self, indicator: Indicator, text: str) -> str:
        """What a section page would post for the cell's ``text``: the answer its label names, or
        the text itself (the parser then says what is wrong with it)."""
        if indicator.type == "choice":
            for option in indicator.options:
                if text.casefold() in (option.title.zh.casefold(), option.title.en.casefold()):
                    return option.key
            return text
        return self.fixed.get(indicator.type, {}).get(text.casefold(), text)


def _parse(application: Application, cells: dict[str, _Cells], reading: WorkbookReading) -> None:
    """Read the changed cells with the forms' parser; keep what changed, refuse what is wrong."""
    rule_set = rule_set_of(application)
    asked = {indicator.id for _p, _s, indicators in pages(rule_set, application.industry_code,
                                                          application.not_applicable) for indicator in indicators}
    places: dict[str, dict] = {}
    for row in _every_row(application):
        places.setdefault(row.indicator.id, {})[row.figure] = row.key
    labels, form, touched = _Labels(), MultiDict(), []
    for indicator in rule_set.indicators:
        entry = cells.get(indicator.id)
        if entry is None:
            continue
        answer_changed = _answer_changed(indicator, entry, labels)
        if not (answer_changed or _note_changed(entry)):
            continue
        if indicator.id not in asked:
            for figure, text in entry.texts.items():
                if text:
                    reading.errors[places[indicator.id][figure], ANSWER] = str(NO_LONGER_ASKED)
            continue
        touched.append(indicator)
        _fill_form(form, application, indicator, entry, labels, answer_changed)
    parsed = parse_page(touched, form, declarable=True)
    parsed.declared, parsed.undeclared = {}, set()  # declarations are made on the section pages only
    for indicator in touched:
        entry = cells[indicator.id]
        if indicator.id in parsed.errors:
            filled = [figure for figure, text in entry.texts.items() if text] or list(places[indicator.id])
            for figure in filled:
                reading.errors[places[indicator.id][figure], ANSWER] = str(parsed.errors[indicator.id])
        else:
            _keep_changes(application, indicator, entry, parsed, places[indicator.id], reading)
    reading.parsed = parsed


def _answer_changed(indicator: Indicator, entry: _Cells, labels: _Labels) -> bool:
    """Whether a filled answer cell of the indicator may differ from what was downloaded (an empty
    cell changes nothing; ``_keep_changes`` then compares the answers read)."""
    for figure, text in entry.texts.items():
        if not text:
            continue
        posted = labels.posted(indicator, text) if figure is None else text
        stored = posted == YES if indicator.type in ("requirement", "veto") and posted in (YES, NO) else posted
        if _fingerprint(stored) != entry.prints.get(figure):
            return True
    return False


def _note_changed(entry: _Cells) -> bool:
    """Whether the note cell is filled and differs from the note downloaded."""
    return bool(entry.note) and _fingerprint(entry.note) != entry.note_print


def _fill_form(form: MultiDict, application: Application, indicator: Indicator, entry: _Cells,
               labels: _Labels, answer_changed: bool) -> None:
    """The indicator's changed cells as its section page would post them."""
    if answer_changed and indicator.is_computed:
        for figure in input_keys(indicator):
            form[input_field(indicator.id, figure)] = entry.texts.get(figure, "")
    elif answer_changed:
        form[answer_field(indicator.id)] = labels.posted(indicator, entry.texts[None])
    if _note_changed(entry):
        form[remark_field(indicator.id)] = entry.note
    reason = (application.not_applicable or {}).get(indicator.id)
    if reason is not None:  # an answer to an item declared not applicable is refused as on its page
        form[f"{not_applicable_field(indicator.id)}-shown"] = "1"
        form[not_applicable_field(indicator.id)] = "1"
        form[reason_field(indicator.id)] = reason


def _keep_changes(application: Application, indicator: Indicator, entry: _Cells, parsed: ParsedAnswers,
                  places: dict, reading: WorkbookReading) -> None:
    """Leave out of ``parsed`` what the workbook did not change; refuse what it changed while the
    system changed it too (neither change is lost without a word)."""
    if indicator.id in parsed.answers:
        figures = list(places)
        downloaded = {figure: entry.prints.get(figure) for figure in figures}
        read = _prints_by_figure(parsed.answers[indicator.id], figures)
        stored = (application.answers or {}).get(indicator.id)
        current = _prints_by_figure(stored, figures)
        if read in (downloaded, current) or current != downloaded:
            parsed.answers.pop(indicator.id)
            parsed.texts.pop(indicator.id, None)
        if read not in (downloaded, current) and current != downloaded:
            for figure in figures:
                reading.errors[places[figure], ANSWER] = _changed_meanwhile(_shown(indicator, stored))
    if indicator.id in parsed.remarks:
        remark = (application.remarks or {}).get(indicator.id)
        read, current = _fingerprint(parsed.remarks[indicator.id]), _fingerprint(remark)
        if read == current or current != entry.note_print:
            parsed.remarks.pop(indicator.id)
        if read != current and current != entry.note_print:
            reading.errors[places[next(iter(places))], NOTE] = _changed_meanwhile(remark or "")


def _prints_by_figure(answer, figures: list) -> dict:
    """The fingerprint of each figure of an answer (one, ``None``, for a plain answer)."""
    if figures == [None]:
        return {None: _fingerprint(answer)}
    return {figure: _fingerprint((answer or {}).get(figure)) for figure in figures}


def _changed_meanwhile(current: str) -> str:
    """The refusal of a cell whose answer (or note) the system changed since the download."""
    return _("This answer was changed in the system after the workbook was downloaded (it is now “%(current)s”). "
             "Download the workbook again, or change it on its page.", current=current)


def _shown(indicator: Indicator, stored) -> str:
    """A stored answer as a person reads it in a message."""
    if stored is None:
        return ""
    if isinstance(stored, dict):
        return "; ".join(str(value) for value in stored.values())
    return str(_cell_value(Row(indicator, None, ""), stored))
