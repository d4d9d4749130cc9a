"""Answer mappings between editions (criteria/mappings/): a mapping file is refused where an
answer of the earlier edition would not mean what the later one asks, and a unit's answers are
read as the later edition's: copied, met when every source was met in full, a recorded value, or
computed from recorded figures. Expected values by hand."""

from decimal import Decimal
from pathlib import Path

import pytest

from certify.rulesets.registry import collect_mappings
from certify.scoring import RuleFileError, loads, score
from certify.scoring.mapping import Translation, check, load_mapping
from tests.unit.scoring.conftest import rule_file_header

OLD = rule_file_header("old", code="T-2018", effective_from="2018-01-01", total=12, threshold=6) + """basic_requirements:
  - {id: B1, title: {zh: 依法设立, en: Lawfully established}}
  - {id: B2, title: {zh: 无事故, en: No accident}}
sections:
  - id: s
    title: {zh: 节, en: Section}
    indicators:
      - {id: P1, type: points, max: 3, step: 3, required: true, title: {zh: 体系, en: System}}
      - {id: P2, type: points, max: 2, step: 1, title: {zh: 认证, en: Certified}}
      - {id: E, type: metric, unit: kgce/t, range: {min: 0, exclusive_min: true}, scoring: linear, better: lower,
         baseline: 110, leading: 105, max: 3, title: {zh: 能耗, en: Energy}}
      - {id: R, type: metric, unit: "%", scoring: linear, better: higher, baseline: 0, leading: 50, max: 2,
         title: {zh: 比例, en: Share}}
      - {id: T, type: metric, unit: t, range: {min: 0}, scoring: linear, better: higher, baseline: 0,
         leading: 100000, max: 1, title: {zh: 产量, en: Output}}
      - {id: TE, type: metric, unit: tce, range: {min: 0}, scoring: linear, better: lower, baseline: 10000,
         leading: 0, max: 1, title: {zh: 能耗总量, en: Energy use}}
"""

NEW = rule_file_header("new", code="T-2025", effective_from="2025-12-31", total=20, threshold=10) + """basic_requirements:
  - {id: BR1, title: {zh: 合规, en: Compliant}}
sections:
  - id: s
    title: {zh: 节, en: Section}
    indicators:
      - {id: SYS, type: requirement, title: {zh: 体系, en: System}}
      - id: E
        type: metric
        title: {zh: 能耗, en: Energy}
        unit: kgce/t
        range: {min: 0, exclusive_min: true}
        inputs:
          - {key: E, title: {zh: 综合能耗, en: Energy use}, unit: tce, range: {min: 0}}
          - {key: Q, title: {zh: 产量, en: Output}, unit: t, range: {min: 0, exclusive_min: true}}
        formula: E * 1000 / Q
        scoring: linear
        better: lower
        baseline: 107
        leading: 100
        max: 8
      - {id: E2, type: metric, unit: kgce/t, range: {min: 0, exclusive_min: true},
         inputs: [{key: E, title: {zh: 综合能耗, en: Energy use}, unit: tce, range: {min: 0}},
                  {key: Q, title: {zh: 产量, en: Output}, unit: t, range: {min: 0, exclusive_min: true}}],
         formula: E * 1000 / Q, scoring: linear, better: lower, baseline: 107, leading: 100, max: 4,
         title: {zh: 另一能耗, en: Another energy figure}}
      - {id: R, type: metric, unit: "%", scoring: linear, better: higher, baseline: 0, leading: 50, max: 4,
         title: {zh: 比例, en: Share}}
      - {id: N, type: points, max: 4, step: 1, title: {zh: 新问题, en: New question}}
"""

MAPPING = """
from: old
to: new
answers:
  BR1: {all: [B1, B2]}
  SYS:
    all: [P1]
    note: {zh: 必选项满分即体系建立, en: Mandatory item in full means the system is established}
  E: {value: E}
  E2: {inputs: {E: TE, Q: T}}
  R: R
"""


@pytest.fixture(scope="module")
def editions():
    return loads(OLD.encode(), "old.yaml"), loads(NEW.encode(), "new.yaml")


def mapping_file(tmp_path: Path, text: str = MAPPING):
    path = tmp_path / "old--new.yaml"
    path.write_text(text, encoding="utf-8")
    return load_mapping(path)


def test_a_unit_s_answers_are_read_as_the_later_edition_s(tmp_path, editions):
    old, new = editions
    translation = Translation(mapping_file(tmp_path), old, new)
    answers = {"B1": True, "B2": True, "P1": Decimal(3), "P2": Decimal(2), "E": Decimal("103.5"),
               "R": Decimal(25), "T": Decimal(50000), "TE": Decimal(5210)}

    mapped, declared = translation.answers(answers, {})

    # B1 and B2 met: BR1 met; P1 at its 3 points: SYS met; the recorded 103.5 kgce/t stands for E;
    # E2 computed from the recorded figures: 5,210 tce × 1000 / 50,000 t = 104.2; R copied; the
    # new question N has no answer: missing.
    assert mapped == {"BR1": True, "SYS": True, "E": Decimal("103.5"), "E2": Decimal("104.2"), "R": Decimal(25)}
    assert declared == {}
    result = score(translation.target, mapped)
    # E: 8 × (107 − 103.5) / 7 = 4.00; E2: 4 × (107 − 104.2) / 7 = 1.60; R: 4 × 25 / 50 = 2.00
    assert [result.indicator(i).points for i in ("E", "E2", "R")] == [Decimal("4.00"), Decimal("1.60"), Decimal("2.00")]
    assert result.total == Decimal("7.60") and not result.passed


@pytest.mark.parametrize(("changes", "br1", "sys"), [
    ({"B2": False}, False, True),           # one source unmet: unmet
    ({"P1": Decimal(0)}, True, False),      # mandatory points not in full: unmet
    ({"B2": None}, None, True),             # a source not answered: no answer (missing)
])
def test_all_is_met_only_when_every_source_was_met_in_full(tmp_path, editions, changes, br1, sys):
    old, new = editions
    translation = Translation(mapping_file(tmp_path), old, new)
    answers = {"B1": True, "B2": True, "P1": Decimal(3)} | changes
    mapped, _declared = translation.answers({k: v for k, v in answers.items() if v is not None}, {})
    assert mapped.get("BR1") is br1 and mapped.get("SYS") is sys


def test_figures_the_later_edition_refuses_are_no_data(tmp_path, editions):
    old, new = editions
    translation = Translation(mapping_file(tmp_path), old, new)
    mapped, _declared = translation.answers({"TE": Decimal(5210), "T": Decimal(0)}, {})  # output 0: no ratio
    assert "E2" not in mapped


@pytest.mark.parametrize(("entries", "message"), [
    ("  X: R", "the later edition has no indicator 'X'"),
    ("  R: Z", "the earlier edition has no indicator 'Z'"),
    ("  R: E", "kgce/t"),                                   # a unit of its own
    ("  E: {value: R}", "value: R is in %, E in kgce/t"),
    ("  R: {value: R}", "value: maps to a computed indicator, and R is answered directly (use from)"),
    ("  N: {all: [P1]}", "all: maps to a requirement, and N is a points indicator"),
    ("  SYS: {all: [E]}", "all: E is a metric indicator"),
])
def test_a_mapping_whose_answers_would_mean_something_else_is_refused(tmp_path, editions, entries, message):
    old, new = editions
    mapping = mapping_file(tmp_path, f"from: old\nto: new\nanswers:\n{entries}\n")
    problems = check(mapping, old, new)
    assert problems and message in str(problems[0])
    assert problems[0].line == 4  # the entry's line, for the file's author
    with pytest.raises(RuleFileError):
        Translation(mapping, old, new)


@pytest.mark.parametrize(("text", "message"), [
    ("from: old\nto: new\nanswers: {}\n", "must map indicator ids"),
    ("from: old\nanswers: {R: R}\n", "to: must name a rule set id"),
    ("from: old\nto: new\nanswers: {R: {from: R, value: R}}\n", "exactly one of from, all, value, inputs"),
    ("from: old\nto: new\nanswers: {R: R}\nextra: 1\n", "unknown key"),
])
def test_a_malformed_mapping_file_is_refused_naming_the_key(tmp_path, text, message):
    with pytest.raises(RuleFileError) as refused:
        mapping_file(tmp_path, text)
    assert message in str(refused.value)


def test_the_shipped_mappings_fit_the_shipped_rule_files(rule_sets):
    criteria = Path(__file__).resolve().parents[3] / "criteria"
    mappings, problems = collect_mappings(criteria, rule_sets.values())
    assert problems == []
    assert {(m.source, m.target) for m in mappings} == {("factory-gbt-36132-2018", "factory-gbt-36132-2025")}


MET = {"B1": True, "B2": True, "P1": Decimal(3)}


@pytest.mark.parametrize(("answers", "total", "best_total", "outcome"), [
    # E at the leading value 100 (8.00), E2 = 5,000 × 1000 / 50,000 = 100 (4.00), R 50 (4.00): 16.00 ≥ 10;
    # the new question N (4 points) is missing, at most 20.00: passes on the data there is.
    (MET | {"E": Decimal(100), "TE": Decimal(5000), "T": Decimal(50000), "R": Decimal(50)}, "16.00", "20.00", "pass"),
    # 4.00 + 1.60 + 2.00 = 7.60 < 10, but N at its 4 points would make 11.60: turns on the missing data.
    (MET | {"E": Decimal("103.5"), "TE": Decimal(5210), "T": Decimal(50000), "R": Decimal(25)}, "7.60", "11.60",
     "lacks_data"),
    # At the baselines (E 107, E2 5,350 × 1000 / 50,000 = 107, R 0): 0.00, at most 4.00 < 10.
    (MET | {"E": Decimal(107), "TE": Decimal(5350), "T": Decimal(50000), "R": Decimal(0)}, "0.00", "4.00", "fail"),
    # B2 unmet: BR1 unmet, whatever the scores.
    (MET | {"B2": False, "E": Decimal(100), "TE": Decimal(5000), "T": Decimal(50000), "R": Decimal(50)}, "16.00",
     "20.00", "fail"),
])
def test_a_unit_would_pass_fail_or_lack_data_as_worked_out_by_hand(tmp_path, editions, answers, total, best_total,
                                                                   outcome):
    from certify.rulesets.editions import forecast

    old, new = editions
    found = forecast(Translation(mapping_file(tmp_path), old, new), answers, {}, None, Decimal(10))

    assert (str(found.total), str(found.best_total), found.outcome) == (total, best_total, outcome)
    assert found.missing == ("N",)
