"""``flask criteria``: the stable command-line contract other tools rely on."""

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from certify import rulesets

CRITERIA = Path(__file__).resolve().parents[2] / "criteria"
SUPPLY_CHAIN = CRITERIA / "supply-chain-miit-2016.yaml"
FACTORY = CRITERIA / "factory-gbt-36132-2018.yaml"


@pytest.fixture()
def run(app):
    runner = app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=["criteria", *map(str, args)])

    return invoke


@pytest.fixture()
def answers_file(tmp_path):
    def write(answers, name="answers.json"):
        path = tmp_path / name
        path.write_text(json.dumps({"answers": answers}) if not isinstance(answers, str) else answers)
        return path

    return write


def test_list_prints_every_rule_set_as_json(run):
    result = run("list", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert {row["id"] for row in rows} >= {"factory-gbt-36132-2018", "supply-chain-miit-2016"}
    for row in rows:
        assert set(row) == {"id", "version", "kind", "title", "path"}
        assert Path(row["path"]).is_file()


def test_list_without_json_prints_one_line_per_rule_set(run):
    result = run("list")
    assert result.exit_code == 0
    assert "supply-chain-miit-2016" in result.output


def test_check_passes_on_every_shipped_rule_file(run):
    result = run("check")
    assert result.exit_code == 0, result.output
    assert "OK" in result.output


def test_check_lists_every_error_with_file_and_line_and_exits_1(run, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(SUPPLY_CHAIN.read_text(encoding="utf-8").replace("max: 8,", "max: -8,").replace("kind: supply_chain", "kind: chain"))
    result = run("check", SUPPLY_CHAIN, broken)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith(str(broken))]
    assert len(lines) == 2
    assert any(":7: kind: must be one of factory, product, park, supply_chain, not 'chain'" in line for line in lines)
    assert any(":80: sections[0].indicators[0].max (X11): must be greater than 0, not -8" in line for line in lines)


def test_two_files_with_the_same_id_and_version_but_different_content_are_refused(run, tmp_path):
    changed = tmp_path / "copy.yaml"
    changed.write_text(SUPPLY_CHAIN.read_text(encoding="utf-8").replace("max: 8,", "max: 7,"))
    result = run("check", SUPPLY_CHAIN, changed)
    assert result.exit_code == 1
    assert result.output.count("has different content in") == 2
    assert str(changed) in result.output and str(SUPPLY_CHAIN) in result.output


def test_show_prints_every_indicator_with_requirements_at_zero(run):
    result = run("show", "supply-chain-miit-2016", "--json")
    assert result.exit_code == 0
    shown = json.loads(result.output)
    assert set(shown) == {"id", "version", "kind", "threshold", "indicators"}
    assert shown["threshold"] == "70.00"
    ids = [row["id"] for row in shown["indicators"]]
    assert ids[:7] == [f"BR{n}" for n in range(1, 8)] and ids[-1] == "X64"
    assert shown["indicators"][0] == {"id": "BR1", "type": "requirement", "section": "basic", "max": "0.00"}
    assert sum(float(row["max"]) for row in shown["indicators"]) == 100


def test_show_lists_options_of_choice_indicators_only(make_app, tmp_path):
    (tmp_path / "choice.yaml").write_text(CHOICE_RULE_FILE, encoding="utf-8")
    runner = make_app(CRITERIA_DIR=str(tmp_path)).test_cli_runner()
    result = runner.invoke(args=["criteria", "show", "choice-demo", "--json"])
    rows = {row["id"]: row for row in json.loads(result.output)["indicators"]}
    assert rows["C1"]["options"] == [{"key": "no", "points": "0.00"}, {"key": "yes", "points": "2.00"}]
    assert "options" not in rows["P1"]


def test_show_of_an_unknown_rule_set_fails(run):
    result = run("show", "no-such-rule-set")
    assert result.exit_code == 1
    assert "no rule set 'no-such-rule-set'" in result.output


def test_score_prints_the_result_with_decimal_strings(run, answers_file):
    # 8 + 2.5 + 82.5 % of 4 = 3.30 -> 13.80; only BR1 of seven basic requirements met
    result = run("score", SUPPLY_CHAIN, answers_file({"BR1": True, "X11": 8, "X61": 2.5, "X26": 82.5}))
    assert result.exit_code == 0, result.output
    scored = json.loads(result.output)
    assert scored["rule_set"]["id"] == "supply-chain-miit-2016"
    assert len(scored["rule_set"]["sha256"]) == 64
    assert (scored["total"], scored["max"], scored["passed"], scored["grade"]) == ("13.80", "100.00", False, None)
    assert scored["failed_requirements"] == ["BR2", "BR3", "BR4", "BR5", "BR6", "BR7"]
    assert scored["sections"][0] == {"id": "strategy", "score": "8.00", "max": "20.00"}
    x26 = next(row for row in scored["indicators"] if row["id"] == "X26")
    assert (x26["points"], x26["max"]) == ("3.30", "4.00") and x26["explanation"]


def test_score_counts_industry_indicators_for_the_given_industry(run, answers_file):
    path = answers_file({"energy.unit_energy.steel": 540})
    steel = json.loads(run("score", FACTORY, path, "--industry", "31").output)
    other = json.loads(run("score", FACTORY, path, "--industry", "30").output)
    assert steel["sections"][-1]["score"] == "2.50"  # 5 of 60 raw performance points x 30 / 60
    assert other["sections"][-1]["score"] == "0.00"


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"X11": 9}, "X11: must be from 0 to 8"),
        ({"X99": 1}, "X99: unknown indicator"),
        ({"BR1": "yes"}, "BR1: must be true or false"),
        ('{"X11": 1}', 'must be a JSON object {"answers"'),
        ("not json", "cannot read the answers"),
    ],
)
def test_score_exits_2_on_bad_input_naming_the_indicator(run, answers_file, answers, message):
    result = run("score", SUPPLY_CHAIN, answers_file(answers))
    assert result.exit_code == 2
    assert message in result.output


def test_score_exits_2_on_a_broken_rule_file(run, answers_file, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\n")
    result = run("score", broken, answers_file({}))
    assert result.exit_code == 2
    assert f"{broken}:1: missing keys" in result.output


def test_the_deployment_threshold_overrides_the_file(make_app, answers_file):
    app = make_app(CRITERIA_THRESHOLDS={"supply-chain-miit-2016": "13.80"})
    runner = app.test_cli_runner()
    answers = {f"BR{n}": True for n in range(1, 8)} | {"X11": 8, "X61": 2.5, "X26": 82.5}
    invoked = runner.invoke(args=["criteria", "score", str(SUPPLY_CHAIN), str(answers_file(answers))])
    assert invoked.exit_code == 0, invoked.output
    result = json.loads(invoked.output)
    assert result["total"] == "13.80" and result["passed"] is True
    shown = json.loads(runner.invoke(args=["criteria", "show", "supply-chain-miit-2016", "--json"]).output)
    assert shown["threshold"] == "13.80"


def test_a_conflicting_rule_file_blocks_new_applications_but_not_pinned_ones(make_app, tmp_path):
    shutil.copy(SUPPLY_CHAIN, tmp_path / "a.yaml")
    (tmp_path / "b.yaml").write_text(SUPPLY_CHAIN.read_text(encoding="utf-8").replace("max: 8,", "max: 7,"))
    (tmp_path / "factory.yaml").write_text(FACTORY.read_text(encoding="utf-8"))
    app = make_app(CRITERIA_DIR=str(tmp_path))
    registry = app.extensions[rulesets.EXTENSION]
    assert [rs.id for rs in registry.all()] == ["factory-gbt-36132-2018"]
    with pytest.raises(rulesets.RuleSetUnavailable, match="different content"):
        registry.get("supply-chain-miit-2016")
    with pytest.raises(rulesets.RuleSetUnavailable, match="fix them first"):
        registry.in_force("factory", date(2026, 1, 1))


def test_strict_deployments_refuse_to_start_with_a_broken_rule_file(make_app, tmp_path):
    (tmp_path / "broken.yaml").write_text("id: x\n")
    with pytest.raises(rulesets.RuleFileError, match="broken.yaml:1: missing keys"):
        make_app(CRITERIA_DIR=str(tmp_path), CRITERIA_STRICT=True)


CHOICE_RULE_FILE = """
id: choice-demo
version: "1"
kind: park
title: {zh: 示例, en: Example}
standard: {code: X-1, title: {zh: 示例, en: Example}}
effective_from: 2020-01-01
pass: {threshold: 1}
basic_requirements: []
sections:
  - id: s
    title: {zh: 节, en: Section}
    indicators:
      - {id: P1, type: points, max: 2, title: {zh: 点, en: Points}}
      - {id: C1, type: choice, title: {zh: 选, en: Choice},
         options: [{key: "no", points: 0, title: {zh: 否, en: "No"}}, {key: "yes", points: 2, title: {zh: 是, en: "Yes"}}]}
"""
