"""What the department is told to look at in a self-declaration: pure rules, no Flask.

A metric is flagged when its declared value is worse than at certification (lower when higher is
better, higher when lower is better) or beyond its baseline value (基准值); a veto statement
answered badly (an accident, an environmental event, a change of name or scope) is flagged too.
"""

from decimal import Decimal

WORSE_THAN_CERTIFIED = "worse_than_certified"
BEYOND_BASELINE = "beyond_baseline"
MAJOR_ACCIDENT = "major_accident"
ENVIRONMENTAL_EVENT = "environmental_event"
CHANGE_DECLARED = "change_declared"

# Statement field -> the flag raised when it is answered "no".
STATEMENT_FLAGS = {
    "no_major_accident": MAJOR_ACCIDENT,
    "no_environmental_event": ENVIRONMENTAL_EVENT,
    "no_change": CHANGE_DECLARED,
}


def is_worse(better: str | None, new: Decimal, reference: Decimal) -> bool:
    """Whether ``new`` is worse than ``reference`` for a metric where ``better`` is
    ``"higher"`` or ``"lower"`` (higher is better when unset)."""
    return new > reference if better == "lower" else new < reference


def metric_flags(indicator, certified: Decimal | None, new: Decimal) -> list[str]:
    """The flags a declared value ``new`` of a metric ``indicator`` raises."""
    flags = []
    if certified is not None and is_worse(indicator.better, new, certified):
        flags.append(WORSE_THAN_CERTIFIED)
    if indicator.baseline is not None and is_worse(indicator.better, new, indicator.baseline):
        flags.append(BEYOND_BASELINE)
    return flags


def declaration_flags(indicators, certified: dict, values: dict, statements: dict) -> list[dict]:
    """Every flag of a declaration: ``certified`` and ``values`` map indicator ids to decimal
    strings (or ``None``), ``statements`` maps the statement fields to True/False/None."""
    flags = []
    for indicator in indicators:
        new = values.get(indicator.id)
        if new is None:
            continue
        reference = certified.get(indicator.id)
        for kind in metric_flags(indicator, None if reference is None else Decimal(reference),
                                 Decimal(new)):
            flags.append({"kind": kind, "indicator_id": indicator.id})
    for field, kind in STATEMENT_FLAGS.items():
        if statements.get(field) is False:
            flags.append({"kind": kind})
    return flags
