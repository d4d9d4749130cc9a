"""One worked example per shipped rule file: the expected total is computed by hand below."""

from decimal import Decimal

import pytest

from certify.scoring import score
from tests.unit.scoring.conftest import shipped_files

FACTORY = "factory-gbt-36132-2018"
SUPPLY_CHAIN = "supply-chain-miit-2016"


def all_basic(rule_set):
    """Every veto condition absent and every basic requirement met."""
    return {r.id: False for r in rule_set.veto_conditions} | {r.id: True for r in rule_set.basic_requirements}


def test_every_shipped_rule_file_has_a_worked_example(rule_sets):
    assert len(rule_sets) == len(shipped_files()), "two shipped files share an id"
    assert set(rule_sets) <= set(WORKED_EXAMPLES), f"without a worked example: {set(rule_sets) - set(WORKED_EXAMPLES)}"


def factory_example(rule_set):
    """A steelmaking works (GB/T 4754-2017 class 3120), every basic requirement met."""
    answers = all_basic(rule_set) | {
        # infrastructure, weight 20: raw 3+1+3+2+3+0 = 12 of 15 -> 12 x 20 / 15 = 16.00
        "building.mandatory": True, "building.optional": 1,
        "metering.mandatory": 3, "metering.optional": 2,
        "lighting.mandatory": True, "lighting.optional": 0,
        # management, weight 15: raw 3+1+3+2+3+0+2 = 14 of 17 -> 14 x 15 / 17 = 12.3529.. -> 12.35
        "quality_ohs.mandatory": True, "quality_ohs.optional": 1,
        "environmental.mandatory": True, "environmental.optional": 2,
        "energy.mandatory": True, "energy.optional": 0,
        "social_responsibility.optional": 2,
        # energy and resources, weight 15: raw 9 + 2+1+1 = 13 of 15 -> 13.00
        "energy_input.mandatory": True, "energy_input.optional": 2,
        "resource_input.mandatory": True, "resource_input.optional": 1,
        "procurement.mandatory": True, "procurement.optional": 1,
        # product, weight 10: raw 4 x 3 + (1+2+0+1+1) = 17 of 22 -> 170 / 22 = 7.7272.. -> 7.73
        "eco_design.mandatory": True, "eco_design.optional": 1,
        "hazardous_substances.mandatory": True, "hazardous_substances.optional": 2,
        "energy_saving.mandatory": True, "energy_saving.optional": 0,
        "carbon_footprint.optional": 1,
        "recyclability.mandatory": True, "recyclability.optional": 1,
        # environment, weight 10: raw 5 x 3 + (2+2+1+0+0) = 20 of 25 -> 8.00
        "air.mandatory": True, "air.optional": 2,
        "water.mandatory": True, "water.optional": 2,
        "solid_waste.mandatory": True, "solid_waste.optional": 1,
        "noise.mandatory": True, "noise.optional": 0,
        "ghg.mandatory": True, "ghg.optional": 0,
        # performance, weight 30, 12 indicators x 5 = 60 raw:
        #   plot ratio 1.6 reaches band 1.5 -> 4; green materials 45 % reaches band 40 -> 4;
        #   steel 545.5 kgce/t: 5 x (549 - 545.5) / (549 - 540) = 1.9444.. -> 1.94
        #   (the general unit-energy item is not answered: it does not apply to a steel works);
        #   raw 4+3+4+4+5+3+3+4+5+2+3+1.94 = 41.94 -> 41.94 x 30 / 60 = 20.97
        "land.plot_ratio": Decimal("1.6"), "land.building_density": 3, "land.output_per_area": 4,
        "materials.green_material_rate": 45,
        "cleaner.pollutant_per_unit": 5, "cleaner.waste_gas_per_unit": 3, "cleaner.waste_water_per_unit": 3,
        "waste.raw_material_per_unit": 4, "waste.solid_waste_utilisation": 5, "waste.water_reuse": 2,
        "energy.carbon_per_unit": 3, "energy.unit_energy.steel": Decimal("545.5"),
    }
    # total 16.00 + 12.35 + 13.00 + 7.73 + 8.00 + 20.97 = 78.05 >= 60 (provisional threshold)
    return answers, {"industry": "3120"}, "78.05", True, None


def supply_chain_example(rule_set):
    answers = all_basic(rule_set) | {
        "X11": 8, "X12": 5, "X13": 6,  # 19
        # 4+3+2+3+1 = 13, low-risk suppliers 82.5 % of 4 points = 3.30 -> 16.30
        "X21": 4, "X22": 3, "X23": 2, "X24": 3, "X25": 1, "X26": Decimal("82.5"),
        "X31": 10, "X32": 8,  # 18
        # product recovery 40 % of 5 = 2.00; packaging 63.3 % of 5 = 3.165 -> 3.17 (half up); +4+3 -> 12.17
        "X41": 40, "X42": Decimal("63.3"), "X43": 4, "X44": 3,
        "X51": 7,  # 7
        "X61": 2.5, "X62": 2, "X63": 1.5, "X64": 2.5,  # 8.50
    }
    # total 19 + 16.30 + 18 + 12.17 + 7 + 8.50 = 80.97 >= 70, star band 80
    return answers, {}, "80.97", True, None  # the star bands are the electronics industry's, not applied here


def park_example(rule_set):
    answers = all_basic(rule_set) | {
        # energy, weight 20, each 10 x value / leading value, capped at 10:
        #   2.4 / 3 -> 8.00; 6 / 15 -> 4.00; 80 / 75 -> capped 10.00; raw 22 of 30 -> 22 x 20 / 30 = 14.67
        "EG1": Decimal("2.4"), "EG2": 6, "EG3": 80,
        # resources, weight 20: 1200/1500 -> 8.00; 12/15 -> 8.00; 90/95 -> 9.4736.. -> 9.47;
        #   95/90 -> capped 10.00; 20/30 -> 6.67; 45/60 -> 7.50; 0/90 -> 0.00; RG8 unanswered -> 0
        #   raw 49.64 of 80 -> 49.64 x 20 / 80 = 12.41
        "RG1": 1200, "RG2": 12, "RG3": 90, "RG4": 95, "RG5": 20, "RG6": 45, "RG7": 0,
        # the four categories assessed as a whole, 10 raw points each, weight 15: 7 -> 10.50, 6 -> 9.00,
        #   8 -> 12.00, 5 -> 7.50
        "IG.overall": 7, "CG.overall": 6, "ecology.overall": 8, "MG.overall": 5,
    }
    # total 14.67 + 12.41 + 10.50 + 9.00 + 12.00 + 7.50 = 66.08 >= 60 (provisional pass value)
    return answers, {}, "66.08", True, None


def product_example(rule_set):
    # Pass / fail: every basic requirement, every attribute at its baseline and the LCA report are
    # met, so the product passes; nothing is weighted, so the total is 0.00 of 0.00.
    answers = all_basic(rule_set) | {indicator.id: True for indicator in rule_set.indicators if indicator.type == "requirement"}
    return answers, {}, "0.00", True, None


AIR_CONDITIONER = "product-room-air-conditioner-tcagp-0001-2016"
DEGRADABLE = "product-degradable-plastics-gbt-32163.2-2015"
SUBSTANCES = ("environment.lead", "environment.mercury", "environment.chromium_vi", "environment.pbb",
              "environment.pbde", "environment.cadmium")


def air_conditioner_answers(rule_set, **changes):
    # Every requirement met; recyclability exactly 80 % ("不低于80%": met); lead 0.05 %, cadmium
    # exactly at its 0.01 % (met), the other four substances not detected (0).
    numbers = {"resource.recyclability": d(80), "environment.lead": d("0.05"), "environment.cadmium": d("0.01")}
    numbers |= {substance: d(0) for substance in SUBSTANCES if substance not in numbers}
    requirements = {i.id: True for i in rule_set.indicators if i.type == "requirement"}
    return all_basic(rule_set) | requirements | numbers | changes


def air_conditioner_example(rule_set):
    # Every limit met: passes; nothing is weighted, so 0.00 of 0.00.
    return air_conditioner_answers(rule_set), {}, "0.00", True, None


def degradable_answers(rule_set, **changes):
    # Biodegradation 60.5 % ("大于60%": met), waste residue exactly 0.1 t/t ("不超过0.1吨/吨": met).
    requirements = {i.id: True for i in rule_set.indicators if i.type == "requirement"}
    numbers = {"quality.biodegradation": d("60.5"), "resource.waste_residue": d("0.1")}
    return all_basic(rule_set) | requirements | numbers | changes


def degradable_example(rule_set):
    return degradable_answers(rule_set), {}, "0.00", True, None


OPTICAL_TERMINAL = "product-optical-network-terminal-ydb-192-2017"
PHTHALATES = ("environment.dehp", "environment.dbp", "environment.bbp", "environment.dibp")


def optical_terminal_answers(rule_set, **changes):
    # Recyclability exactly 70 % and recoverability 85 % (≥ 70 %, ≥ 80 %: met); packaging voids
    # exactly 40 % ("40%以下" includes 40: met) in 2 layers ("2层及以下": met); every substance 0
    # but lead 0.08 %.
    requirements = {i.id: True for i in rule_set.indicators if i.type == "requirement"}
    numbers = {"resource.recyclability": d(70), "resource.recoverability": d(85), "resource.packaging_voids": d(40),
               "resource.packaging_layers": d(2)}
    numbers |= {substance: d(0) for substance in SUBSTANCES + PHTHALATES} | {"environment.lead": d("0.08")}
    return all_basic(rule_set) | requirements | numbers | changes


def optical_terminal_example(rule_set):
    return optical_terminal_answers(rule_set), {}, "0.00", True, None


FACTORY_2025 = "factory-gbt-36132-2025"


def d(value) -> Decimal:
    return Decimal(str(value))


def factory_2025_example(rule_set):
    """A cement works (class 3011) under GB/T 36132-2025: the applicant reports the figures, the
    assessment the industry's levels where no limit standard gives them; each indicator worked out
    by hand (Table C.1 example points; linear between baseline and leading value, capped)."""
    answers = all_basic(rule_set) | {
        # clinker 103,500 tce / 1,000,000 t = 103.5 kgce/t, halfway between grade 2 (107) and
        # grade 1 (100) of GB 16780-2021: 8 x 3.5 / 7 = 4.00
        "energy.clinker": {"E": d(103500), "Q": d(1000000)},
        # 820,000 tCO2 / 100,000 万元 = 8.2; industry average 9.0, advanced 8.0: 8 x 0.8 / 1.0 = 6.40
        "carbon.per_value": {"C": d(820000), "G": d(100000), "baseline": d(9), "leading": d(8)},
        # 10,350 / 103,500 = 10 %; 5 % and 15 %: 8 x 5 / 10 = 4.00
        "energy.renewable_share": {"Ere": d(10350), "E": d(103500), "baseline": d(5), "leading": d(15)},
        # 8 of 12 platform functions: the leading value, 6.00
        "energy.carbon_platform": d(8),
        # 1,550,000 t / 100,000 万元 = 15.5 t/万元, at the baseline 15.5: 0.00
        "resource.materials_per_value": {"M": d(1550000), "G": d(100000), "baseline": d("15.5"), "leading": d(14)},
        # 200,000 m³ / 100,000 万元 = 2; 3 and 1.5: 8 x 1 / 1.5 = 5.333.. -> 5.33
        "resource.water_per_value": {"V": d(200000), "G": d(100000), "baseline": d(3), "leading": d("1.5")},
        # 9,800,000 / (200,000 + 9,800,000) = 98 %, the leading value: 8.00
        "resource.water_reuse": {"Vr": d(9800000), "V": d(200000), "baseline": d(95), "leading": d(98)},
        # 45,000 / (50,000 + 0) = 90 %; 80 % and 100 %: 6 x 10 / 20 = 3.00
        "resource.solid_waste_use": {"Zr": d(45000), "Z": d(50000), "Zw": d(0), "baseline": d(80), "leading": d(100)},
        "clean.advanced_processes": d(5),
        # 3,000 / 300,000 万元 = 1 %; 0.5 % and 2 %: 4 x 0.5 / 1.5 = 1.333.. -> 1.33
        "clean.retrofit_investment": {"I": d(3000), "G3": d(300000), "baseline": d("0.5"), "leading": d(2)},
        # 120,000 kg / 100,000 万元 = 1.2 kg/万元; 1.5 and 0.8: 6 x 0.3 / 0.7 = 2.571.. -> 2.57
        "clean.pollutant_per_value": {"S": d(120000), "G": d(100000), "baseline": d("1.5"), "leading": d("0.8")},
        "product.green_design": d(6), "product.carbon_footprint": d(8),
        # 100,000 万元 / 500,000 m² = 0.2 万元/m²; 0.1 and 0.3: 8 x 0.1 / 0.2 = 4.00
        "land.output_per_area": {"G": d(100000), "A": d(500000), "baseline": d("0.1"), "leading": d("0.3")},
    }
    # sections: 20.40 + 16.33 + 8.90 + 14.00 + 4.00 = 63.63 >= 60 (provisional pass mark)
    return answers, {"industry": "3011"}, "63.63", True, None


WORKED_EXAMPLES = {
    FACTORY_2025: factory_2025_example,
    FACTORY: factory_example,
    SUPPLY_CHAIN: supply_chain_example,
    "park-miit-2016": park_example,
    "product-gbt-32161-2015": product_example,
    AIR_CONDITIONER: air_conditioner_example,
    DEGRADABLE: degradable_example,
    OPTICAL_TERMINAL: optical_terminal_example,
}


def _zero_carbon_examples() -> dict:
    """The zero-carbon factory and park examples, worked out in their own test module."""
    from tests.unit import test_zero_carbon_rules

    return test_zero_carbon_rules.WORKED_EXAMPLES


WORKED_EXAMPLES |= _zero_carbon_examples()


@pytest.mark.parametrize("rule_set_id", sorted(WORKED_EXAMPLES))
def test_the_worked_example_matches_the_hand_computation(rule_sets, rule_set_id):
    rule_set = rule_sets[rule_set_id]
    answers, options, total, passed, grade = WORKED_EXAMPLES[rule_set_id](rule_set)
    result = score(rule_set, answers, **options)
    assert str(result.total) == total
    assert result.passed is passed
    assert result.grade == grade


def test_the_factory_sections_are_scaled_to_their_weights(rule_sets):
    rule_set = rule_sets[FACTORY]
    answers, options, *_ = factory_example(rule_set)
    result = score(rule_set, answers, **options)
    assert [(s.id, str(s.score), str(s.max)) for s in result.sections] == [
        ("infrastructure", "16.00", "20.00"),
        ("management", "12.35", "15.00"),
        ("energy_resources", "13.00", "15.00"),
        ("product", "7.73", "10.00"),
        ("environment", "8.00", "10.00"),
        ("performance", "20.97", "30.00"),
    ]
    assert str(result.max) == "100.00"


def test_a_product_below_one_baseline_fails(rule_sets):
    rule_set = rule_sets[AIR_CONDITIONER]
    result = score(rule_set, air_conditioner_answers(rule_set, **{"energy.baseline": False}))
    assert not result.passed
    assert result.failed_requirements == ("energy.baseline",)


@pytest.mark.parametrize(("rule_set_id", "indicator_id", "value", "explanation"), [
    # "可再生利用率不低于80%": 79.9 is below it.
    (AIR_CONDITIONER, "resource.recyclability", "79.9", "79.9 % does not meet the limit ≥ 80 %"),
    # "镉≤0.01%（wt）": 0.011 is above it.
    (AIR_CONDITIONER, "environment.cadmium", "0.011", "0.011 % does not meet the limit ≤ 0.01 %"),
    # "生物降解率大于60%": exactly 60 is not above it.
    (DEGRADABLE, "quality.biodegradation", "60", "60 % does not meet the limit > 60 %"),
    # "单位产品废渣产生量不超过0.1吨/吨": 0.11 exceeds it.
    (DEGRADABLE, "resource.waste_residue", "0.11", "0.11 t/t does not meet the limit ≤ 0.1 t/t"),
    # "包装层数2层及以下": three layers are one too many; "DEHP … 均≤0.1%（wt）": 0.12 is above it.
    (OPTICAL_TERMINAL, "resource.packaging_layers", "3", "3 layers does not meet the limit ≤ 2 layers"),
    (OPTICAL_TERMINAL, "environment.dehp", "0.12", "0.12 % does not meet the limit ≤ 0.1 %"),
])
def test_a_product_beyond_one_numeric_limit_fails_naming_it(rule_sets, rule_set_id, indicator_id, value, explanation):
    rule_set = rule_sets[rule_set_id]
    answers = {AIR_CONDITIONER: air_conditioner_answers, DEGRADABLE: degradable_answers,
               OPTICAL_TERMINAL: optical_terminal_answers}[rule_set_id](rule_set)
    passing = score(rule_set, answers)
    assert passing.passed and passing.indicator(indicator_id).met

    result = score(rule_set, answers | {indicator_id: d(value)})

    assert not result.passed
    assert result.failed_requirements == (indicator_id,)
    assert result.indicator(indicator_id).explanation.startswith(explanation)


def test_a_substance_under_an_exemption_is_declared_not_applicable(rule_sets):
    rule_set = rule_sets[AIR_CONDITIONER]
    answers = air_conditioner_answers(rule_set)
    del answers["environment.lead"]
    result = score(rule_set, answers, not_applicable={"environment.lead": "铅用于国家规定的限用物质应用例外（焊料）"})
    assert result.passed and "environment.lead" not in result.failed_requirements


def test_a_product_without_its_lca_report_fails(rule_sets):
    rule_set = rule_sets["product-gbt-32161-2015"]
    answers = all_basic(rule_set) | {i.id: True for i in rule_set.indicators if i.type == "requirement"} | {"lca.report": False}
    assert score(rule_set, answers).failed_requirements == ("lca.report",)


def test_a_chemical_works_is_scored_on_its_own_product(rule_sets):
    # A caustic soda maker (class 2612) is scored on caustic soda alone, at the leading value 325.
    rule_set = rule_sets[FACTORY]
    result = score(rule_set, {"energy.unit_energy.caustic_soda": 325}, industry="2612")
    assert result.indicator("energy.unit_energy.caustic_soda").counted
    assert result.sections[-1].score == Decimal("2.50")  # 5 of 60 raw x 30 / 60
    # neither the other chemical products nor the general unit-energy item are offered to it
    scored = {r.id for r in result.indicators}
    assert not scored & {"energy.unit_energy", "energy.unit_energy.ethylene", "energy.unit_energy.synthetic_ammonia"}
    assert "energy.unit_energy" in {r.id for r in score(rule_set, {}, industry="1351").indicators}


def test_the_2025_factory_sections_and_indicators_match_the_hand_computation(rule_sets):
    rule_set = rule_sets[FACTORY_2025]
    answers, options, *_ = factory_2025_example(rule_set)
    result = score(rule_set, answers, **options)
    assert [(s.id, str(s.score), str(s.max)) for s in result.sections] == [
        ("energy_low_carbon", "20.40", "30.00"), ("resource_efficiency", "16.33", "30.00"),
        ("clean_production", "8.90", "16.00"), ("green_products", "14.00", "16.00"), ("land_use", "4.00", "8.00")]
    points = {r.id: str(r.points) for r in result.indicators}
    assert points["energy.clinker"] == "4.00"  # halfway
    assert points["resource.materials_per_value"] == "0.00"  # at the baseline
    assert points["resource.water_reuse"] == "8.00"  # at the leading value


def test_a_2025_factory_with_full_marks_and_each_veto(rule_sets):
    from certify.scoring.engine import computer

    rule_set = rule_sets[FACTORY_2025]
    answers, options, *_ = factory_2025_example(rule_set)
    best = answers | {"energy.clinker": {"E": d(100000), "Q": d(1000000)},  # 100 kgce/t: grade 1
                      "clean.advanced_processes": d(6), "product.green_design": d(8)}
    for key, value in answers.items():
        if isinstance(value, dict) and "baseline" in value:  # the industry's levels set at the figure
            indicator = rule_set.indicator(key)
            reached = computer(indicator)(value)
            worse = reached + 1 if indicator.better == "lower" else reached / 2
            best[key] = value | {"leading": reached, "baseline": worse}
    result = score(rule_set, best, **options)
    assert str(result.total) == "100.00" and result.passed
    for veto in rule_set.veto_conditions:
        vetoed = score(rule_set, best | {veto.id: True}, **options)
        assert not vetoed.passed and vetoed.vetoed == (veto.id,) and str(vetoed.total) == "100.00"


def test_a_2025_class_without_its_own_energy_figure_is_scored_per_output_value(rule_sets):
    rule_set = rule_sets[FACTORY_2025]
    # a turbine maker (3413): 2,000 tce / 50,000 万元 = 0.04 tce/万元; industry 0.05 and 0.03: 8 x 0.5 = 4.00
    answer = {"E": d(2000), "G": d(50000), "baseline": d("0.05"), "leading": d("0.03")}
    result = score(rule_set, {"energy.per_value": answer}, industry="3413")
    assert result.indicator("energy.per_value").points == Decimal("4.00")
    # a converter steelworks (3120) declares the electric-arc-furnace figure not applicable
    converter = score(rule_set, {"energy.per_value": answer}, industry="3120",
                      not_applicable={"energy.electric_arc_furnace": "转炉炼钢，无电弧炉"})
    assert converter.indicator("energy.per_value").points == Decimal("4.00")
