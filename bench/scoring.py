"""Scoring throughput: the engine on the factory rule set against a hand-written function.

Both compute the total of the same varied answers of a steelmaking works (GB/T 4754-2017 class 3120) in the
same run, so the ratio (engine time ÷ hand-written time) is comparable across machines; the totals
must agree exactly. Target: at most 2×.
"""

from __future__ import annotations

import random
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from certify.scoring import load, score

FACTORY = Path(__file__).resolve().parents[1] / "criteria" / "factory-gbt-36132-2018.yaml"
TARGETS = {"scoring_ratio": ("<=", 2.0)}
CENT = Decimal("0.01")

# The factory rule set written out by hand: (weight, raw maximum, mandatory items, optional items).
SECTIONS = [
    (20, 15, ["building", "metering", "lighting"], ["building", "metering", "lighting"]),
    (15, 17, ["quality_ohs", "environmental", "energy"], ["quality_ohs", "environmental", "energy", "social_responsibility"]),
    (15, 15, ["energy_input", "resource_input", "procurement"], ["energy_input", "resource_input", "procurement"]),
    (10, 22, ["eco_design", "hazardous_substances", "energy_saving", "recyclability"],
     ["eco_design", "hazardous_substances", "energy_saving", "carbon_footprint", "recyclability"]),
    (10, 25, ["air", "water", "solid_waste", "noise", "ghg"], ["air", "water", "solid_waste", "noise", "ghg"]),
]
PERFORMANCE_POINTS = [
    "land.building_density", "land.output_per_area", "cleaner.pollutant_per_unit", "cleaner.waste_gas_per_unit",
    "cleaner.waste_water_per_unit", "waste.raw_material_per_unit", "waste.solid_waste_utilisation",
    "waste.water_reuse", "energy.carbon_per_unit",
]
BASIC = [f"BR{n}" for n in range(1, 9)]
STEPS_OF_TWO = {"environmental", "energy", "social_responsibility"}


def hand_total(answers: dict) -> Decimal:
    """The factory total for a steel works, computed directly (same rounding rule as the engine)."""
    total = Decimal(0)
    for weight, raw_max, mandatory, optional in SECTIONS:
        raw = sum(3 for item in mandatory if answers.get(f"{item}.mandatory") is True)
        raw += sum(answers.get(f"{item}.optional", 0) for item in optional)
        total += (Decimal(raw * weight) / raw_max).quantize(CENT, ROUND_HALF_UP)
    raw = Decimal(sum(answers.get(key, 0) for key in PERFORMANCE_POINTS))
    raw += _band(answers.get("land.plot_ratio"), ((Decimal("2.0"), 5), (Decimal("1.5"), 4), (Decimal("1.2"), 3)))
    raw += _band(answers.get("materials.green_material_rate"), ((50, 5), (40, 4), (30, 3)))
    steel = answers.get("energy.unit_energy.steel")
    if steel is not None:
        if steel <= 540:
            raw += 5
        elif steel < 549:
            raw += (5 * (steel - 549) / Decimal(-9)).quantize(CENT, ROUND_HALF_UP)
    total += (raw * 30 / 60).quantize(CENT, ROUND_HALF_UP)
    return total


def _band(value, bands) -> int:
    if value is None:
        return 0
    return next((points for at, points in bands if value >= at), 0)


def varied_answers(count: int, seed: int = 2024) -> list[dict]:
    """``count`` answer sets of a steel works, from poor to excellent, a few items unanswered."""
    rnd = random.Random(seed)
    sets = []
    for _ in range(count):
        answers = {key: rnd.random() < 0.95 for key in BASIC}
        for _, _, mandatory, optional in SECTIONS:
            answers |= {f"{item}.mandatory": rnd.random() < 0.9 for item in mandatory}
            answers |= {f"{item}.optional": rnd.choice((0, 2)) if item in STEPS_OF_TWO else rnd.randint(0, 2) for item in optional}
        answers |= {key: rnd.randint(0, 5) for key in PERFORMANCE_POINTS if rnd.random() < 0.9}
        answers["land.plot_ratio"] = Decimal(rnd.randint(80, 250)) / 100
        answers["materials.green_material_rate"] = Decimal(rnd.randint(100, 700)) / 10
        answers["energy.unit_energy.steel"] = Decimal(rnd.randint(5300, 5600)) / 10
        sets.append(answers)
    return sets


def _pass(function, answer_sets) -> float:
    start = time.perf_counter()
    for answers in answer_sets:
        function(answers)
    return time.perf_counter() - start


def _timed_in_turns(first, second, answer_sets, repeats: int) -> tuple[float, float]:
    """The best time of ``repeats`` passes of each function over ``answer_sets``, the passes taken
    in turns (first, second, first, ...), so that a busy moment of the machine weighs on both
    rather than on whichever happened to be timed then."""
    best_first = best_second = float("inf")
    for _ in range(repeats):
        best_first = min(best_first, _pass(first, answer_sets))
        best_second = min(best_second, _pass(second, answer_sets))
    return best_first, best_second


def run(count: int = 2000, repeats: int = 9) -> dict:
    """Time both over the same answers; return the ratio and the engine's scorings per second."""
    rule_set = load(FACTORY)
    answer_sets = varied_answers(count)
    for answers in answer_sets:
        engine_total = score(rule_set, answers, industry="3120").total
        assert engine_total == hand_total(answers), (engine_total, hand_total(answers), answers)
    engine, hand = _timed_in_turns(lambda answers: score(rule_set, answers, industry="3120"), hand_total,
                                   answer_sets, repeats)
    return {
        "scoring_ratio": round(engine / hand, 2),
        "scoring_per_second": round(count / engine),
        "scoring_hand_per_second": round(count / hand),
    }
