"""The plausibility rules, each worked out by hand at and around its boundaries, on the indicators
of the shipped GB/T 36132-2025 rule file and the national limits of criteria/limits/."""

import re
from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

import pytest

from certify.config import SettingError, load_settings
from certify.plausibility.reference import ReferenceFileError, load_limits, load_reference, load_relations
from certify.plausibility.rules import (
    BEYOND_LIMIT,
    COMPUTED,
    IDENTITY,
    JUMP,
    LIMIT,
    PART_EXCEEDS_WHOLE,
    PERCENTAGE_RANGE,
    PREVIOUS,
    REPORTED,
    SHARE_MISMATCH,
    SHARED_QUANTITY,
    UNIT_SLIP,
    Figures,
    Thresholds,
    check,
    rounding_allowance,
)
from certify.plausibility.services import thresholds_from
from certify.scoring import load
from certify.scoring.model import Indicator, Text, Unit

ROOT = Path(__file__).parents[2]
RULES_2025 = load(ROOT / "criteria/factory-gbt-36132-2025.yaml")
RULES_2018 = load(ROOT / "criteria/factory-gbt-36132-2018.yaml")
REFERENCE = load_reference(ROOT / "criteria/limits")
RELATIONS = REFERENCE.relations_of(RULES_2025.id)
# The thresholds of an application with no plausibility setting of its own.
DEFAULTS = thresholds_from(load_settings({}, {}).as_config())


def run(current, previous=None, industry="3011", thresholds=DEFAULTS, indicators=RULES_2025.indicators):
    return check(current, indicators=indicators, previous=previous, industry=industry,
                 limits=REFERENCE.limits, same=RELATIONS.same, parts=RELATIONS.parts, thresholds=thresholds)


def rules_of(flags):
    return sorted(flag.rule for flag in flags)


def clinker(E, Q, value=None):
    return Figures(values={} if value is None else {"energy.clinker": D(value)},
                   inputs={"energy.clinker": {"E": D(E), "Q": D(Q)}})


# ---- (a) identity: 103.5 tce x 1000 / 1000 t = 103.5 kgce/t ----------------------------------------

def test_a_value_its_figures_give_raises_nothing():
    assert run(clinker("103.5", "1000", "103.5")) == []


def test_a_value_off_its_figures_beyond_the_tolerance_is_flagged_with_both_values_and_the_inputs():
    # 0.5 % of 103.5 is 0.5175: 104.1 is 0.6 off.
    [flag] = run(clinker("103.5", "1000", "104.1"))
    assert flag.rule == IDENTITY and flag.indicators == ("energy.clinker",)
    shown = {(v.role, v.input): v.value for v in flag.figures}
    assert shown == {(REPORTED, None): D("104.1"), (COMPUTED, None): D("103.5"),
                     (REPORTED, "E"): D("103.5"), (REPORTED, "Q"): D("1000")}
    assert flag.details["formula"] == "E * 1000 / Q"


def test_the_tolerance_boundary_is_allowed():
    # 103.5 + 0.5175 = 104.0175: exactly at the tolerance.
    assert run(clinker("103.5", "1000", "104.0175")) == []
    assert rules_of(run(clinker("103.5", "1000", "104.0176"))) == [IDENTITY]


def test_rounding_of_the_last_place_reported_is_always_allowed():
    no_tolerance = replace(DEFAULTS, tolerance=D(0))
    assert rounding_allowance(D("104")) == D("0.5") and rounding_allowance(D("103.5")) == D("0.05")
    # 103.54 rounds to 104 at whole numbers: 0.46 is within 0.5.
    assert run(clinker("103.54", "1000", "104"), thresholds=no_tolerance) == []
    # 103.4 does not: 0.6 off.
    assert rules_of(run(clinker("103.4", "1000", "104"), thresholds=no_tolerance)) == [IDENTITY]


def test_a_share_that_differs_from_its_parts_is_a_share_mismatch():
    # 12 tce renewable of 120 tce is 10 %, reported as 12 %.
    figures = Figures(values={"energy.renewable_share": D("12")},
                      inputs={"energy.renewable_share": {"Ere": D("12"), "E": D("120")}})
    [flag] = run(figures)
    assert flag.rule == SHARE_MISMATCH
    assert [v.value for v in flag.figures if v.role == COMPUTED] == [D("10")]


# ---- (f) percentages ----------------------------------------------------------------------------------

PLAIN_SHARE = Indicator(id="share", section="s", type="metric", title=Text("比例", "Share"), required=False,
                        max=D(5), unit=Unit("%", "%", "%", "ratio"))


@pytest.mark.parametrize(("value", "flagged"), [("0", False), ("100", False), ("100.01", True), ("-0.5", True)])
def test_a_percentage_outside_0_to_100_is_flagged(value, flagged):
    flags = run(Figures(values={"share": D(value)}), indicators=[PLAIN_SHARE])
    assert rules_of(flags) == ([PERCENTAGE_RANGE] if flagged else [])


def test_a_part_larger_than_its_whole_gives_a_share_above_100():
    # 130 tce renewable of 120 tce in all: 108.33 %.
    figures = Figures(inputs={"energy.renewable_share": {"Ere": D("130"), "E": D("120")}})
    [flag] = run(figures)
    assert flag.rule == PART_EXCEEDS_WHOLE
    assert [v.value.quantize(D("0.01")) for v in flag.figures if v.role == COMPUTED] == [D("108.33")]
    assert run(Figures(inputs={"energy.renewable_share": {"Ere": D("120"), "E": D("120")}})) == []


def test_a_products_energy_above_the_factorys_is_flagged():
    whole = {"energy.renewable_share": {"Ere": D("10"), "E": D("120")}}
    over = Figures(inputs=whole | {"energy.clinker": {"E": D("121"), "Q": D("1100")}})
    [flag] = run(over)
    assert flag.rule == PART_EXCEEDS_WHOLE
    assert flag.indicators == ("energy.clinker", "energy.renewable_share")
    assert [(v.indicator, v.input, v.value) for v in flag.figures] == [
        ("energy.clinker", "E", D("121")), ("energy.renewable_share", "E", D("120"))]
    assert run(Figures(inputs=whole | {"energy.clinker": {"E": D("120"), "Q": D("1100")}})) == []


# ---- (b) one quantity reported twice --------------------------------------------------------------------

def output_value(first, second):
    return Figures(inputs={"energy.per_value": {"E": D("500"), "G": D(first)},
                           "carbon.per_value": {"C": D("1200"), "G": D(second)}})


def test_the_same_output_value_reported_differently_is_flagged_naming_both():
    # 0.5 % of 5000 is 25: 5030 is 30 off.
    [flag] = run(output_value("5000", "5030"))
    assert flag.rule == SHARED_QUANTITY and flag.details["quantity"] == "output_value"
    assert [(v.indicator, v.input, v.value, v.unit) for v in flag.figures] == [
        ("energy.per_value", "G", D("5000"), "万元"), ("carbon.per_value", "G", D("5030"), "万元")]


def test_the_same_quantity_within_the_tolerance_is_not_flagged():
    assert run(output_value("5000", "5025")) == []
    assert run(output_value("5000", "5000")) == []


# ---- (c) unit slips and (d) jumps against the previous period -------------------------------------------

def materials(now, before):
    current = Figures(inputs={"resource.materials_per_value": {"M": D(now), "G": D("5000")}})
    previous = Figures(inputs={"resource.materials_per_value": {"M": D(before), "G": D("5000")}})
    return run(current, previous)


@pytest.mark.parametrize(("now", "before", "expected"), [
    ("200", "100", []),           # twice: not beyond the factor 2
    ("201", "100", [JUMP]),
    ("50", "100", []),            # half: not beyond
    ("49", "100", [JUMP]),
    ("333", "1", [JUMP]),         # below 1000 / 3
    ("334", "1", [UNIT_SLIP]),    # 334 times: kilograms for tonnes, say
    ("3000", "1", [UNIT_SLIP]),   # 1000 x 3, the edge of the band
    ("3001", "1", [JUMP]),
    ("1", "1000", [UNIT_SLIP]),   # 1/1000: t typed where kt is asked, or the reverse
])
def test_changes_from_the_previous_period(now, before, expected):
    assert rules_of(materials(now, before)) == expected


def test_a_slip_names_both_periods_values_and_the_direction():
    [flag] = materials("120000", "118")
    assert flag.rule == UNIT_SLIP and flag.details == {"basis": PREVIOUS, "direction": "up", "factor": "1000"}
    assert [(v.role, v.input, v.value, v.unit) for v in flag.figures] == [
        (REPORTED, "M", D("120000"), "t"), (PREVIOUS, "M", D("118"), "t")]


def test_a_jump_in_an_input_is_not_flagged_again_on_the_metric_computed_from_it():
    # M tripled, so M / G tripled too: one flag, on the figure that changed.
    assert rules_of(materials("300", "100")) == [JUMP]


def test_a_metric_whose_inputs_each_moved_a_little_can_still_jump():
    # M x 1.5 and G x 0.6: neither beyond 2, the ratio M / G x 2.5 is.
    current = Figures(inputs={"resource.materials_per_value": {"M": D("150"), "G": D("3000")}})
    previous = Figures(inputs={"resource.materials_per_value": {"M": D("100"), "G": D("5000")}})
    [flag] = run(current, previous)
    assert flag.rule == JUMP and flag.figures[0].input is None and flag.details["ratio"] == "2.5"


def test_zero_and_negative_figures_are_not_compared():
    assert materials("0", "100") == [] and materials("100", "0") == []


def test_the_jump_factor_is_a_setting():
    current = Figures(values={"energy.carbon_platform": D("3")})
    previous = Figures(values={"energy.carbon_platform": D("1")})
    assert rules_of(run(current, previous)) == [JUMP]
    assert run(current, previous, thresholds=replace(DEFAULTS, jump_factor=D("4"))) == []


# ---- (e) national limits --------------------------------------------------------------------------------

@pytest.mark.parametrize(("E", "expected"), [
    ("117", []),                    # 117 kgce/t: exactly grade 3 of GB 16780-2021
    ("117.1", [BEYOND_LIMIT]),
    ("300", [BEYOND_LIMIT]),        # 2.6 times: worse, not a slip
    ("117000", [UNIT_SLIP]),        # energy in kgce where tce is asked
    ("0.117", [UNIT_SLIP]),
])
def test_clinker_against_grade_3_of_its_limit(E, expected):
    assert rules_of(run(clinker(E, "1000"))) == expected


def test_a_flag_beyond_the_limit_names_the_standard_and_both_values():
    [flag] = run(clinker("120", "1000"))
    assert flag.details["standard"] == "GB 16780-2021" and flag.details["provisional"] == "no"
    assert [(v.role, v.value, v.unit) for v in flag.figures] == [(COMPUTED, D("120"), "kgce/t"),
                                                                 (LIMIT, D("117"), "kgce/t")]


def test_a_limit_applies_only_to_its_class():
    assert run(clinker("120", "1000"), industry="3021") == []
    assert run(clinker("120", "1000"), industry=None) == []


def test_the_limit_reads_a_declared_value_of_the_earlier_rule_file_too():
    declared = Figures(values={"energy.unit_energy.cement_clinker": D("118")})
    [flag] = run(declared, indicators=RULES_2018.indicators)
    assert flag.rule == BEYOND_LIMIT and flag.figures[0].role == REPORTED


def test_a_provisional_limit_says_so():
    figures = Figures(inputs={"energy.caustic_soda": {"E": D("351"), "Q": D("1000")}})
    [flag] = run(figures, industry="2612")
    assert flag.rule == BEYOND_LIMIT and flag.details["provisional"] == "yes"
    assert flag.figures[1].value == D("350")


# ---- settings and reference files -----------------------------------------------------------------------

def test_the_thresholds_default_to_this_systems_values():
    assert DEFAULTS == Thresholds(tolerance=D("0.005"), jump_factor=D("2"), slip_factor=D("1000"), slip_band=D("3"))
    given = thresholds_from(load_settings({"CERTIFY_PLAUSIBILITY_JUMP_FACTOR": "3"}, {}).as_config())
    assert given == replace(DEFAULTS, jump_factor=D("3"))


@pytest.mark.parametrize(("name", "value", "message"), [
    ("CERTIFY_PLAUSIBILITY_TOLERANCE", "a lot", "CERTIFY_PLAUSIBILITY_TOLERANCE must be a number greater than 0, not 'a lot'."),
    ("CERTIFY_PLAUSIBILITY_TOLERANCE", "0", "CERTIFY_PLAUSIBILITY_TOLERANCE must be a number greater than 0, not '0'."),
    ("CERTIFY_PLAUSIBILITY_JUMP_FACTOR", "1", "CERTIFY_PLAUSIBILITY_JUMP_FACTOR must be a number greater than 1, not '1'."),
    ("CERTIFY_PLAUSIBILITY_SLIP_FACTOR", "-1000", "CERTIFY_PLAUSIBILITY_SLIP_FACTOR must be a number greater than 0, not '-1000'."),
    ("CERTIFY_PLAUSIBILITY_SLIP_BAND", "1", "CERTIFY_PLAUSIBILITY_SLIP_BAND must be a number greater than 1, not '1'."),
    # 1000 / 500 = 2, the jump factor: a ratio of 2 would be a slip and a jump at once.
    ("CERTIFY_PLAUSIBILITY_SLIP_BAND", "500", "CERTIFY_PLAUSIBILITY_SLIP_FACTOR divided by CERTIFY_PLAUSIBILITY_SLIP_BAND "
     "must be greater than CERTIFY_PLAUSIBILITY_JUMP_FACTOR."),
])
def test_a_bad_threshold_is_refused_naming_the_setting(name, value, message):
    with pytest.raises(SettingError, match=re.escape(message)):
        load_settings({}, {name: value})


def test_a_slip_band_just_short_of_the_jump_is_accepted():
    # 1000 / 499 = 2.004: every ratio a slip is beyond 2.
    assert load_settings({}, {"CERTIFY_PLAUSIBILITY_SLIP_BAND": "499"}).certify_plausibility_slip_band == D("499")


def test_thresholds_come_from_the_environment_unless_the_application_sets_them():
    environ = {"CERTIFY_PLAUSIBILITY_SLIP_BAND": "2", "CERTIFY_PLAUSIBILITY_TOLERANCE": "0.01"}
    assert thresholds_from(load_settings({}, environ).as_config()).slip_band == D("2")
    given = load_settings({"CERTIFY_PLAUSIBILITY_TOLERANCE": "0.02"}, environ)
    assert thresholds_from(given.as_config()).tolerance == D("0.02")


def test_the_limits_are_the_published_values():
    limits = {limit.key: limit for limit in REFERENCE.limits}
    assert limits["cement-clinker"].grades == (D(100), D(107), D(117))
    assert limits["caustic-soda-liquid-30"].grades == (D(308), D(315), D(350))
    assert limits["paper-newsprint"].grades == (D(210), D(240), D(270))
    assert limits["steel-electric-arc-furnace-70t"].grades == (D(61), D(64), D(72))
    assert not limits["cement-clinker"].provisional
    assert all(limit.provisional for key, limit in limits.items() if key != "cement-clinker")


def test_every_figure_the_reference_names_exists_in_a_shipped_rule_file_with_its_unit():
    metrics = {i.id: i for rules in (RULES_2025, RULES_2018) for i in rules.indicators if i.type == "metric"}
    for limit in REFERENCE.limits:
        for indicator_id in limit.indicators:
            assert metrics[indicator_id].unit.key == limit.unit, (limit.key, indicator_id)
            assert limit.industry in metrics[indicator_id].industries, (limit.key, indicator_id)
    own = {i.id: i for i in RULES_2025.indicators}
    for quantity in RELATIONS.same:
        units = {next(e.unit.key for e in own[i].inputs if e.key == key) for i, key in quantity.figures}
        assert len(units) == 1, quantity.name
    for relation in RELATIONS.parts:
        for indicator_id, key in (relation.part, relation.whole):
            assert key in {e.key for e in own[indicator_id].inputs}


def test_a_wrong_limits_file_is_refused_naming_the_file_and_key(tmp_path):
    path = tmp_path / "limits.yaml"
    path.write_text("limits:\n  - {key: x, industry: 301, standard: S, product: {zh: 产品, en: P}, unit: kgce/t,\n"
                    "     grades: [117, 107, 100], indicators: [], mark: U, provisional: false, source: s}\n",
                    encoding="utf-8")
    with pytest.raises(ReferenceFileError) as error:
        load_limits(path)
    assert error.value.problems == [
        "limits.yaml: limits[0] (x).industry: must be a four-digit class of GB/T 4754-2017, quoted",
        "limits.yaml: limits[0] (x).grades: grade 1 is the strictest: they must not decrease",
        "limits.yaml: limits[0] (x).provisional: must be true exactly when the mark is U",
    ]


def test_a_wrong_relations_file_is_refused_naming_the_key(tmp_path):
    path = tmp_path / "shared.yaml"
    path.write_text("rules:\n  same:\n    - {name: g, figures: [energy.per_value.G, G]}\n", encoding="utf-8")
    with pytest.raises(ReferenceFileError, match=r"shared.yaml: rules.same\[0\].figures: must be written"):
        load_relations(path)


def test_the_rules_and_their_reference_import_no_framework():
    import grimp

    graph = grimp.build_graph("certify", include_external_packages=True, cache_dir=None)
    pure = ("certify.plausibility.rules", "certify.plausibility.reference")
    for module in pure:
        imported = graph.find_modules_directly_imported_by(module)
        assert not {m for m in imported if m.split(".")[0] in ("flask", "sqlalchemy", "flask_sqlalchemy")}, module
        assert {m for m in imported if m.startswith("certify.")} <= set(pure) | {
            "certify.scoring.formula", "certify.scoring.model"}, module
