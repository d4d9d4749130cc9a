"""When an assessor's score counts as differing from the self-assessment, and when it needs a
comment: the rules behind the highlighted differences and the submission check."""

from decimal import Decimal

import pytest

from certify.assessment.compare import ScoreCell, differs_from_self, disagree, needs_comment
from certify.scoring.model import Indicator, Text

TITLE = Text("指标", "Indicator")
REQUIREMENT = Indicator("BR1", "basic", "requirement", TITLE, True, Decimal(0))
POINTS = Indicator("X11", "strategy", "points", TITLE, False, Decimal(8), step=Decimal(1))
METRIC = Indicator("X26", "suppliers", "metric", TITLE, False, Decimal(4), scoring="linear",
                   better="higher", baseline=Decimal(0), leading=Decimal(100))


@pytest.mark.parametrize("indicator, self_answer, answer, points, differs", [
    (POINTS, "8", "8", Decimal(8), False),
    (POINTS, "8", "8.0", Decimal(8), False),          # the same number written otherwise
    (POINTS, "8", "6", Decimal(6), True),
    (POINTS, None, "0", Decimal(0), False),           # nothing earned either way
    (POINTS, None, "2", Decimal(2), True),
    (REQUIREMENT, True, False, Decimal(0), True),
    (REQUIREMENT, None, False, Decimal(0), False),
    (REQUIREMENT, None, True, Decimal(0), True),
    (METRIC, "85", "80", Decimal("3.2"), True),       # a verified value differs from the reported one
    (METRIC, None, "0", Decimal(0), True),
    (POINTS, "8", None, Decimal(0), False),           # not scored yet: nothing to compare
])
def test_what_differs_from_the_self_assessment(indicator, self_answer, answer, points, differs):
    assert differs_from_self(indicator, self_answer, answer, points) is differs


def test_every_unmet_requirement_needs_a_comment_even_when_the_applicant_agreed():
    assert needs_comment(REQUIREMENT, False, False, Decimal(0), met=False)
    assert not needs_comment(REQUIREMENT, True, True, Decimal(0), met=True)
    assert not needs_comment(POINTS, "5", "5", Decimal(5), met=False)  # optional, agreed


def test_two_assessors_disagree_beyond_the_margin_or_on_met():
    margin = Decimal(1)
    assert not disagree(POINTS, ScoreCell("5", Decimal(5)), ScoreCell("6", Decimal(6)), margin)
    assert disagree(POINTS, ScoreCell("5", Decimal(5)), ScoreCell("7", Decimal(7)), margin)
    assert disagree(REQUIREMENT, ScoreCell(True, Decimal(0), True),
                    ScoreCell(False, Decimal(0), False), margin)
