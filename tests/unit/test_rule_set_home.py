"""One home for "the rule set an application uses": applying and assessing reach the pinned rule
set, the form codec and the page merge through ``certify/rulesets/``, and the two areas'
permission modules do not import each other."""

import ast
from pathlib import Path

import pytest

CERTIFY = Path(__file__).resolve().parents[2] / "certify"
RULE_SET_NAMES = {"rule_set_of", "pages", "missing_answers", "parse_page", "form_value", "for_engine",
                  "self_result", "sheet_result", "answer_field"}


def imports(path: Path) -> list[tuple[str, set[str]]]:
    """(module, names) of every import in the file, at any depth (lazy imports included)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, {alias.name for alias in node.names}))
        elif isinstance(node, ast.Import):
            found += [(alias.name, set()) for alias in node.names]
    return found


@pytest.mark.parametrize("area", ["applications", "assessment", "publication", "management"])
def test_every_area_reaches_the_rule_set_of_an_application_through_rulesets(area):
    for path in (CERTIFY / area).rglob("*.py"):
        for module, names in imports(path):
            borrowed = names & RULE_SET_NAMES
            if borrowed:
                assert module.startswith("certify.rulesets"), f"{path.name} takes {borrowed} from {module}"


def test_the_permission_modules_of_applying_and_assessing_do_not_import_each_other():
    applying = {module for module, _ in imports(CERTIFY / "applications" / "permissions.py")}
    assert not any(module.startswith("certify.assessment") for module in applying)
