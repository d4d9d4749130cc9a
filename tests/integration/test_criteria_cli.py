"""``flask criteria``: the stable command-line contract other tools rely on."""

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from certify import rulesets
from tests.unit.scoring.conftest import rule_file_header

CRITERIA = Path(__file__).resolve().parents[2] / "criteria"
SUPPLY_CHAIN = CRITERIA / "supply-chain-miit-2016.yaml"
FACTORY = CRITERIA / "factory-gbt-36132-2018.yaml"


def line_of(path: Path, text: str) -> int:
    """The number of the first line of ``path`` that starts with ``text`` (indentation and "- {" aside)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.lstrip(" -{").startswith(text))


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
        assert set(row) == {"id", "version", "kind", "title", "path", "effective_from", "effective_until", "in_force"}
        assert Path(row["path"]).is_file()
    factory = next(row for row in rows if row["id"] == "factory-gbt-36132-2018")
    assert (factory["effective_from"], factory["effective_until"], factory["in_force"]) == ("2018-12-01", "2025-12-30", False)
    current = next(row for row in rows if row["id"] == "factory-gbt-36132-2025")
    assert (current["effective_from"], current["effective_until"], current["in_force"]) == ("2025-12-31", None, True)


def test_list_says_which_versions_are_in_force_today(make_app, tmp_path):
    old = SUPPLY_CHAIN.read_text(encoding="utf-8").replace("effective_from: 2016-01-01", "effective_from: 2016-01-01\neffective_until: 2020-12-31")
    (tmp_path / "old.yaml").write_text(old, encoding="utf-8")
    newer = SUPPLY_CHAIN.read_text(encoding="utf-8").replace('version: "1.2"', 'version: "2.0"').replace(
        "effective_from: 2016-01-01", "effective_from: 2021-01-01")
    (tmp_path / "new.yaml").write_text(newer, encoding="utf-8")
    rows = json.loads(make_app(CRITERIA_DIR=str(tmp_path)).test_cli_runner().invoke(args=["criteria", "list", "--json"]).output)
    assert [(r["version"], r["effective_until"], r["in_force"]) for r in rows] == [("1.2", "2020-12-31", False), ("2.0", None, True)]


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
    kind, x11 = line_of(SUPPLY_CHAIN, "kind: "), line_of(SUPPLY_CHAIN, "id: X11")
    kinds = "factory, product, park, supply_chain, zero_carbon_factory, zero_carbon_park"
    assert any(f":{kind}: kind: must be one of {kinds}, not 'chain'" in line for line in lines)
    assert any(f":{x11}: sections[0].indicators[0].max (X11): must be greater than 0, not -8" in line for line in lines)


def test_two_files_with_the_same_id_and_version_but_different_content_are_refused(run, tmp_path):
    changed = tmp_path / "copy.yaml"
    changed.write_text(SUPPLY_CHAIN.read_text(encoding="utf-8").replace("纳入公司发展规划", "纳入公司发展战略"))
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
    assert ids[:13] == [f"V{n}" for n in range(1, 7)] + [f"BR{n}" for n in range(1, 8)] and ids[-1] == "X64"
    assert shown["indicators"][0] == {"id": "V1", "type": "veto", "section": "veto", "max": "0.00"}
    assert shown["indicators"][6] == {"id": "BR1", "type": "requirement", "section": "basic", "max": "0.00"}
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
    # six veto conditions not answered (not cleared) and six basic requirements not met
    assert scored["failed_requirements"] == [f"V{n}" for n in range(1, 7)] + ["BR2", "BR3", "BR4", "BR5", "BR6", "BR7"]
    assert {k: scored["sections"][0][k] for k in ("id", "score", "max")} == {"id": "strategy", "score": "8.00", "max": "20.00"}
    x26 = next(row for row in scored["indicators"] if row["id"] == "X26")
    assert (x26["points"], x26["max"]) == ("3.30", "4.00") and x26["explanation"]


def test_score_counts_industry_indicators_for_the_given_industry(run, answers_file):
    path = answers_file({"energy.unit_energy.steel": 540})
    steel = json.loads(run("score", FACTORY, path, "--industry", "3120").output)
    assert steel["sections"][-1]["score"] == "2.50"  # 5 of 60 raw performance points x 30 / 60
    # a cement works has no steel figure: the answer is refused, never dropped
    other = run("score", FACTORY, path, "--industry", "3011")
    assert other.exit_code == 2
    assert f"{path}:energy.unit_energy.steel: applies only to industries 3110, 3120, not to 3011" in other.output


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"X11": 9}, "X11: must be from 0 to 8"),
        ({"X99": 1}, "X99: unknown indicator"),
        ({"BR1": "maybe"}, "BR1: must be true or false"),
        ({"X26": 150}, "X26: 150 % is outside the allowed range: from 0 to 100 %"),
        ({"X26": "1E+400"}, "X26: '1E+400' is not a number: write the number in full"),
        ({"X26": -50}, "X26: -50 % is outside the allowed range"),
        ({"X26": "1,2"}, "X26: '1,2' is not a number: use a point for decimals"),
        ('{"answers": {"X11": 1, "X11": 8}}', "the key 'X11' is given twice"),
        ('{"answers": {"X26": NaN}}', "NaN is not a number"),
        ('{"X11": 1}', 'must be a JSON object {"answers"'),
        ("not json", "cannot read the answers"),
    ],
)
def test_score_exits_2_on_bad_input_naming_the_indicator(run, answers_file, answers, message):
    result = run("score", SUPPLY_CHAIN, answers_file(answers))
    assert result.exit_code == 2
    assert message in result.output


def test_score_reads_numbers_as_people_write_them(run, answers_file):
    result = run("score", SUPPLY_CHAIN, answers_file({"X26": "82.5%", "X41": "４０"}))
    assert result.exit_code == 0, result.output
    rows = {row["id"]: row for row in json.loads(result.output)["indicators"]}
    assert (rows["X26"]["points"], rows["X41"]["points"]) == ("3.30", "2.00")


@pytest.mark.parametrize("industry", ["31abc", "99", "C31", ""])
def test_score_refuses_an_industry_that_gb_t_4754_does_not_have(run, answers_file, industry):
    result = run("score", FACTORY, answers_file({}), "--industry", industry)
    assert result.exit_code == 2
    assert f"--industry {industry}: not a division, group or class of GB/T 4754-2017" in result.output


def test_score_takes_not_applicable_items_with_their_reasons(run, answers_file):
    path = answers_file(json.dumps({"answers": {"X43": 5}, "not_applicable": {"X41": "no product is taken back"}}))
    scored = json.loads(run("score", SUPPLY_CHAIN, path).output)
    recycling = next(s for s in scored["sections"] if s["id"] == "recycling")
    assert (recycling["score"], recycling["raw_max"]) == ("6.67", "15.00")  # 5 of 15 x 20
    assert scored["not_applicable"] == {"X41": "no product is taken back"}
    refused = run("score", SUPPLY_CHAIN, answers_file(json.dumps({"answers": {}, "not_applicable": {"X11": "n/a"}})))
    assert refused.exit_code == 2
    assert "X11: cannot be declared not applicable under this rule file" in refused.output


def test_show_prints_the_version_asked_for(make_app, tmp_path):
    (tmp_path / "a.yaml").write_text(SUPPLY_CHAIN.read_text(encoding="utf-8").replace(
        "effective_from: 2016-01-01", "effective_from: 2016-01-01\neffective_until: 2020-12-31"), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(SUPPLY_CHAIN.read_text(encoding="utf-8").replace('version: "1.2"', 'version: "2.0"').replace(
        "effective_from: 2016-01-01", "effective_from: 2021-01-01").replace("threshold: 70", "threshold: 75"), encoding="utf-8")
    runner = make_app(CRITERIA_DIR=str(tmp_path)).test_cli_runner()
    shown = json.loads(runner.invoke(args=["criteria", "show", "supply-chain-miit-2016", "--version", "1.2", "--json"]).output)
    assert (shown["version"], shown["threshold"]) == ("1.2", "70.00")
    latest = json.loads(runner.invoke(args=["criteria", "show", "supply-chain-miit-2016", "--json"]).output)
    assert (latest["version"], latest["threshold"]) == ("2.0", "75.00")
    missing = runner.invoke(args=["criteria", "show", "supply-chain-miit-2016", "--version", "9"])
    assert missing.exit_code == 1 and "version '9'" in missing.output


def test_check_refuses_two_versions_of_one_id_in_force_on_the_same_day(run, tmp_path):
    later = tmp_path / "later.yaml"
    later.write_text(SUPPLY_CHAIN.read_text(encoding="utf-8").replace('version: "1.2"', 'version: "2.0"').replace(
        "effective_from: 2016-01-01", "effective_from: 2024-01-01"), encoding="utf-8")
    result = run("check", SUPPLY_CHAIN, later)
    assert result.exit_code == 1
    line = line_of(later, "effective_from: ")
    assert (f"{later}:{line}: effective_from: version '2.0' of 'supply-chain-miit-2016' from 2024-01-01 overlaps version "
            f"'1.2' ({SUPPLY_CHAIN}, 2016-01-01 to open-ended)") in result.output


def test_check_lists_every_fault_of_a_file_at_once(run, tmp_path):
    broken = tmp_path / "broken.yaml"
    text = (SUPPLY_CHAIN.read_text(encoding="utf-8").replace("threshold: 70", "threshold: 170")
            .replace("max: 8,", "max: 9,").replace('unit: "%"', "unit: furlongs per fortnight", 1))
    broken.write_text(text, encoding="utf-8")
    result = run("check", broken)
    assert result.exit_code == 1
    assert "total: section points sum to 101, not the total 100" in result.output
    assert "pass.threshold: must lie between 0 and the total 100, not 170" in result.output
    assert "sections[1].indicators[5].unit (X26): unknown unit 'furlongs per fortnight'" in result.output


def test_score_exits_2_on_a_broken_rule_file(run, answers_file, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\n")
    result = run("score", broken, answers_file({}))
    assert result.exit_code == 2
    assert f"{broken}:1: missing keys" in result.output


def test_the_deployment_threshold_overrides_the_file(make_app, answers_file):
    app = make_app(CRITERIA_THRESHOLDS={"supply-chain-miit-2016": "13.80"})
    runner = app.test_cli_runner()
    answers = {f"V{n}": False for n in range(1, 7)} | {f"BR{n}": True for n in range(1, 8)} | {"X11": 8, "X61": 2.5, "X26": 82.5}
    invoked = runner.invoke(args=["criteria", "score", str(SUPPLY_CHAIN), str(answers_file(answers))])
    assert invoked.exit_code == 0, invoked.output
    result = json.loads(invoked.output)
    assert result["total"] == "13.80" and result["passed"] is True
    shown = json.loads(runner.invoke(args=["criteria", "show", "supply-chain-miit-2016", "--json"]).output)
    assert shown["threshold"] == "13.80"


def test_a_conflicting_rule_file_blocks_new_applications_but_not_pinned_ones(make_app, tmp_path):
    shutil.copy(SUPPLY_CHAIN, tmp_path / "a.yaml")
    (tmp_path / "b.yaml").write_text(SUPPLY_CHAIN.read_text(encoding="utf-8").replace("纳入公司发展规划", "纳入公司发展战略"))
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


CHOICE_RULE_FILE = rule_file_header("choice-demo", kind="park", code="X-1", effective_from="2020-01-01",
                                    total=4, threshold=1) + """basic_requirements: []
sections:
  - id: s
    title: {zh: 节, en: Section}
    indicators:
      - {id: P1, type: points, max: 2, title: {zh: 点, en: Points}}
      - {id: C1, type: choice, title: {zh: 选, en: Choice},
         options: [{key: "no", points: 0, title: {zh: 否, en: "No"}}, {key: "yes", points: 2, title: {zh: 是, en: "Yes"}}]}
"""


def test_check_reads_the_answer_mappings_of_a_directory_and_names_a_wrong_entry(run, tmp_path):
    shutil.copytree(CRITERIA, tmp_path / "criteria")
    mapping = tmp_path / "criteria" / "mappings" / "factory-gbt-36132-2018--factory-gbt-36132-2025.yaml"
    assert run("check", tmp_path / "criteria").output.strip().endswith("1 mapping(s) OK.")
    # The 2018 aluminium figure (kWh/t) cannot stand for the 2025 clinker figure (kgce/t).
    mapping.write_text(mapping.read_text(encoding="utf-8").replace(
        "value: energy.unit_energy.cement_clinker", "value: energy.unit_energy.aluminium"), encoding="utf-8")

    result = run("check", tmp_path / "criteria")

    assert result.exit_code == 1
    line = line_of(mapping, "energy.clinker:")
    assert (f"{mapping}:{line}: answers.energy.clinker: value: energy.unit_energy.aluminium is in kWh/t, "
            "energy.clinker in kgce/t") in result.output
