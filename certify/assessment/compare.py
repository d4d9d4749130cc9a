"""Comparing scorings of one application: the applicant's self-assessment against an assessor's
sheet, and two assessors' sheets against each other.

Everything here works on stored answers and engine ``Result`` objects; nothing reads the database.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from certify.scoring import Indicator, Result

ZERO = Decimal("0")


def _same_answer(indicator: Indicator, first, second) -> bool:
    if first is None or second is None:
        return first is None and second is None
    if isinstance(first, dict) or isinstance(second, dict):  # a computed indicator's figures
        if not (isinstance(first, dict) and isinstance(second, dict)) or set(first) != set(second):
            return False
        return all(Decimal(str(first[key])) == Decimal(str(second[key])) for key in first)
    if indicator.type in ("points", "metric"):
        return Decimal(str(first)) == Decimal(str(second))
    return first == second


def differs_from_self(indicator: Indicator, self_answer, assessor_answer, assessor_points) -> bool:
    """Whether the assessor's answer differs from the applicant's.

    An indicator the applicant left empty and the assessor scored 0 (not met) is no difference:
    both mean "nothing earned". A metric differs whenever the verified value differs from the
    reported one, even where the points are the same: the report must say why.
    """
    if assessor_answer is None:
        return False
    if self_answer is None:
        if indicator.type == "metric":
            return True
        if indicator.type == "requirement":
            return assessor_answer is True
        return assessor_points != ZERO
    return not _same_answer(indicator, self_answer, assessor_answer)


def needs_comment(indicator: Indicator, self_answer, assessor_answer, points, met: bool) -> bool:
    """A comment the applicant can read is required where the assessor differs from the
    self-assessment, and for every requirement or required (必选) indicator found not met."""
    if assessor_answer is None:
        return False
    if (indicator.type == "requirement" or indicator.required) and not met:
        return True
    return differs_from_self(indicator, self_answer, assessor_answer, points)


@dataclass
class ScoreCell:
    """One scoring of one indicator: the stored answer, the engine's points and whether met; the
    reason where it was declared not applicable (and, on a sheet, the declaration confirmed)."""

    answer: object = None
    points: Decimal | None = None
    met: bool | None = None
    not_applicable: str | None = None


@dataclass
class ComparisonRow:
    indicator: Indicator
    self_cell: ScoreCell
    cells: list[ScoreCell] = field(default_factory=list)
    differs: list[bool] = field(default_factory=list)  # per sheet: differs from the self-assessment
    disagreement: bool = False                          # between the sheets, beyond the margin


def _cell(result: Result | None, answers: dict, indicator: Indicator) -> ScoreCell:
    if result is None:
        return ScoreCell()
    try:
        row = result.indicator(indicator.id)
    except KeyError:
        return ScoreCell()
    return ScoreCell(answers.get(indicator.id), row.points, row.met, row.not_applicable)


def disagree(indicator: Indicator, first: ScoreCell, second: ScoreCell, margin: Decimal) -> bool:
    """Two assessors disagree on an indicator when their met / not met differs on a requirement,
    or their points differ by more than ``margin``."""
    if first.answer is None or second.answer is None:
        return False
    if indicator.type == "requirement":
        return first.met != second.met
    return abs(first.points - second.points) > margin


def compare(indicators, self_answers: dict, self_result: Result, sheets: list[tuple[dict, Result]],
            margin: Decimal) -> list[ComparisonRow]:
    """One row per indicator: the self-assessment, then each sheet (stored answers and result),
    with differences from the self-assessment and disagreements between the first two sheets."""
    rows = []
    for indicator in indicators:
        self_cell = _cell(self_result, self_answers, indicator)
        cells = [_cell(result, answers, indicator) for answers, result in sheets]
        row = ComparisonRow(indicator, self_cell, cells, [
            differs_from_self(indicator, self_cell.answer, cell.answer, cell.points) for cell in cells
        ])
        if len(cells) >= 2:
            row.disagreement = disagree(indicator, cells[0], cells[1], margin)
        rows.append(row)
    return rows
