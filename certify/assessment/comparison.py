"""An application's self-assessment beside its assessors' score sheets, as the assessment page,
the decision page and the evaluation report show it."""

from certify.applications.models import Application
from certify.assessment.compare import compare
from certify.assessment.rounds import current_assignments
from certify.assessment.scoring import disagreement_margins
from certify.rulesets.applied import pages, rule_set_of, self_result, sheet_result


def compare_sheets(application: Application, sheets):
    """Rows comparing the self-assessment with each given (submitted or own) sheet."""
    rule_set = rule_set_of(application)
    indicators = [i for _p, _s, page in pages(rule_set, application.industry_code, application.not_applicable)
                  for i in page]
    results = [sheet_result(sheet) for sheet in sheets]
    margin, total_margin = disagreement_margins()
    own_result = self_result(application)
    rows = compare(indicators, application.answers or {}, own_result,
                   [(sheet.answers or {}, result) for sheet, result in zip(sheets, results, strict=True)], margin)
    totals_disagree = (len(results) >= 2 and (abs(results[0].total - results[1].total) > total_margin
                                             or results[0].passed != results[1].passed))
    return {"rows": rows, "results": results, "sheets": sheets, "rule_set": rule_set,
            "totals_disagree": totals_disagree, "margin": margin, "total_margin": total_margin,
            "self_result": own_result}


def submitted_comparison(application: Application, current=None):
    """The self-assessment beside every submitted score sheet of the current round, or None
    while no sheet has been submitted (for administrators: the assessment and decision pages)."""
    current = current_assignments(application) if current is None else current
    submitted = [a.sheet for a in current if a.sheet is not None and a.sheet.is_submitted]
    return compare_sheets(application, submitted) if submitted else None
