"""The plausibility rules on a generated corpus: realistic factories under GB/T 36132-2025 whose
figures agree with each other and with last year's, some with one error injected of each kind.
The rules must find at least 95 % of the injected errors (by the rule expected, on the indicator
the error is in) and flag at most 5 % of the clean factories."""

import random
import time
from decimal import Decimal as D
from pathlib import Path

from certify.config import load_settings
from certify.plausibility.reference import load_reference
from certify.plausibility.rules import (
    BEYOND_LIMIT,
    IDENTITY,
    JUMP,
    PART_EXCEEDS_WHOLE,
    PERCENTAGE_RANGE,
    SHARE_MISMATCH,
    SHARED_QUANTITY,
    UNIT_SLIP,
    Figures,
    check,
    computed_value,
)
from certify.plausibility.services import thresholds_from
from certify.scoring import load

ROOT = Path(__file__).parents[2]
RULES = load(ROOT / "criteria/factory-gbt-36132-2025.yaml")
METRICS = {i.id: i for i in RULES.indicators if i.type == "metric"}
REFERENCE = load_reference(ROOT / "criteria/limits")
RELATIONS = REFERENCE.relations_of(RULES.id)
THRESHOLDS = thresholds_from(load_settings({}, {}).as_config())  # the defaults
LIMITS = {limit.indicators[0]: limit for limit in REFERENCE.limits if limit.indicators}
# Classes with a product metric and a national limit, and classes scored on output value only.
PRODUCT_CLASSES = {"3011": "energy.clinker", "2612": "energy.caustic_soda",
                   "3120": "energy.electric_arc_furnace", "3110": "energy.blast_furnace"}
GENERAL_CLASSES = ("3311", "3831", "1511")
UNITS, SEED = 600, 20261206


def uniform(rng, low, high) -> D:
    return D(str(round(rng.uniform(low, high), 6)))


def quantities(rng, industry):
    """One factory's year: the quantities behind every figure, consistent with each other."""
    q = {"G": uniform(rng, 5_000, 500_000)}                        # output value, 万元
    q["E"] = (q["G"] * uniform(rng, 0.05, 0.5)).quantize(D("0.1"))  # factory energy, tce
    product = PRODUCT_CLASSES.get(industry)
    if product is not None:
        limit = LIMITS[product]
        intensity = uniform(rng, float(limit.grades[0]) * 0.95, float(limit.mandatory) * 0.97)
        q["Q"] = uniform(rng, 50_000, 2_000_000).quantize(D("1"))            # product, t
        q["Ep"] = (intensity * q["Q"] / 1000).quantize(D("0.1"))             # product energy, tce
        q["E"] = max(q["E"], (q["Ep"] / uniform(rng, 0.6, 0.95)).quantize(D("0.1")))
    q["Ere"] = (q["E"] * uniform(rng, 0.01, 0.3)).quantize(D("0.1"))
    q["C"] = (q["E"] * uniform(rng, 2.0, 2.8)).quantize(D("1"))
    q["M"] = (q["G"] * uniform(rng, 0.1, 3)).quantize(D("1"))
    q["V"] = (q["G"] * uniform(rng, 0.5, 8)).quantize(D("1"))
    q["Vr"] = (q["V"] * uniform(rng, 0.5, 20)).quantize(D("1"))
    q["Z"] = uniform(rng, 100, 50_000).quantize(D("1"))
    q["Zw"] = uniform(rng, 0, 2_000).quantize(D("1"))
    q["Zr"] = ((q["Z"] + q["Zw"]) * uniform(rng, 0.3, 0.99)).quantize(D("1"))
    q["G3"] = (q["G"] * uniform(rng, 2.6, 3.2)).quantize(D("1"))
    q["I"] = (q["G3"] * uniform(rng, 0.001, 0.03)).quantize(D("1"))
    q["S"] = (q["G"] * uniform(rng, 0.01, 0.5)).quantize(D("1"))
    q["A"] = uniform(rng, 20_000, 800_000).quantize(D("1"))
    return q


def next_year(rng, previous, industry):
    """The same factory a year on: every quantity moved by -20 % to +25 %, one in ten factories with
    one quantity up by half to 90 % (a new line, a bought-in plant), shares kept sane."""
    q = {key: (value * uniform(rng, 0.8, 1.25)).quantize(D("0.1")) for key, value in previous.items()}
    if rng.random() < 0.1:
        grown = rng.choice(sorted(q))
        q[grown] = (previous[grown] * uniform(rng, 1.5, 1.9)).quantize(D("0.1"))
    if "Ep" in q:
        limit = LIMITS[PRODUCT_CLASSES[industry]]
        intensity = min(q["Ep"] * 1000 / q["Q"], limit.mandatory * D("0.97"))
        q["Ep"] = (intensity * q["Q"] / 1000).quantize(D("0.1"))
        q["E"] = max(q["E"], (q["Ep"] / D("0.9")).quantize(D("0.1")))
    q["Ere"] = min(q["Ere"], q["E"] * D("0.9")).quantize(D("0.1"))
    q["Zr"] = min(q["Zr"], (q["Z"] + q["Zw"]) * D("0.99")).quantize(D("1"))
    return q


def figures_of(q, industry, *, report_values=True):
    """What the factory reports: every metric's inputs and (rounded as people round) its value."""
    inputs = {
        "energy.per_value": {"E": q["E"], "G": q["G"]},
        "carbon.per_value": {"C": q["C"], "G": q["G"]},
        "energy.renewable_share": {"Ere": q["Ere"], "E": q["E"]},
        "resource.materials_per_value": {"M": q["M"], "G": q["G"]},
        "resource.water_per_value": {"V": q["V"], "G": q["G"]},
        "resource.water_reuse": {"Vr": q["Vr"], "V": q["V"]},
        "resource.solid_waste_use": {"Zr": q["Zr"], "Z": q["Z"], "Zw": q["Zw"]},
        "clean.retrofit_investment": {"I": q["I"], "G3": q["G3"]},
        "clean.pollutant_per_value": {"S": q["S"], "G": q["G"]},
        "land.output_per_area": {"G": q["G"], "A": q["A"]},
    }
    if industry in PRODUCT_CLASSES:
        inputs[PRODUCT_CLASSES[industry]] = {"E": q["Ep"], "Q": q["Q"]}
    values = {}
    if report_values:
        for indicator_id, given in inputs.items():
            value = computed_value(METRICS[indicator_id], given)
            # As people round: whole numbers from 1000 on, two places from 1, four below.
            values[indicator_id] = value.quantize(D("1") if value >= 1000 else D("0.01") if value >= 1 else D("0.0001"))
    return Figures(values=values, inputs=inputs)


def with_input(figures, indicator_id, key, value):
    inputs = {i: dict(v) for i, v in figures.inputs.items()}
    inputs[indicator_id][key] = value
    return Figures(values=dict(figures.values), inputs=inputs)


def with_value(figures, indicator_id, value):
    return Figures(values=dict(figures.values) | {indicator_id: value}, inputs=figures.inputs)


# Each injection: (kind, the rules that count as finding it, a function changing the figures and
# returning the indicator it touched, or None when it cannot apply to this factory).

def inject_identity(rng, f, industry):
    indicator_id = rng.choice(sorted(i for i in f.values if METRICS[i].unit.key != "%"))
    return with_value(f, indicator_id, (f.values[indicator_id] * uniform(rng, 1.08, 1.6)).quantize(D("0.01"))), indicator_id


def inject_share(rng, f, industry):
    indicator_id = rng.choice(["energy.renewable_share", "resource.water_reuse", "resource.solid_waste_use"])
    value = f.values[indicator_id]
    wrong = (value + uniform(rng, 3, 15)) if value < 80 else (value - uniform(rng, 3, 15))
    return with_value(f, indicator_id, wrong.quantize(D("0.01"))), indicator_id


def inject_shared(rng, f, industry):
    indicator_id = rng.choice(["carbon.per_value", "resource.materials_per_value", "resource.water_per_value",
                               "clean.pollutant_per_value", "land.output_per_area"])
    g = f.inputs[indicator_id]["G"]
    wrong = (g * uniform(rng, 1.03, 1.4)).quantize(D("0.1"))
    changed = with_input(f, indicator_id, "G", wrong)
    value = computed_value(METRICS[indicator_id], changed.inputs[indicator_id])
    return with_value(changed, indicator_id, value.quantize(D("0.0001"))), indicator_id


def inject_slip(rng, f, industry):
    """A figure in the wrong unit: t for kt (÷1000) or kg for t (×1000), the value recomputed as
    the applicant's sheet would."""
    indicator_id, key = rng.choice([("resource.materials_per_value", "M"), ("carbon.per_value", "C"),
                                    ("clean.pollutant_per_value", "S"), ("resource.solid_waste_use", "Z"),
                                    ("land.output_per_area", "A")])
    factor = D(1000) if rng.random() < 0.5 else D("0.001")
    changed = with_input(f, indicator_id, key, f.inputs[indicator_id][key] * factor)
    value = computed_value(METRICS[indicator_id], changed.inputs[indicator_id])
    return with_value(changed, indicator_id, value), indicator_id


def inject_product_slip(rng, f, industry):
    """The product's energy use typed in kgce where tce is asked: ~1000 times the limit."""
    indicator_id = PRODUCT_CLASSES.get(industry)
    if indicator_id is None:
        return None
    changed = with_input(f, indicator_id, "E", f.inputs[indicator_id]["E"] * 1000)
    changed = with_input(changed, "energy.renewable_share", "E", changed.inputs[indicator_id]["E"] * 2)
    changed = with_input(changed, "energy.per_value", "E", changed.inputs[indicator_id]["E"] * 2)
    value = computed_value(METRICS[indicator_id], changed.inputs[indicator_id])
    return with_value(changed, indicator_id, value), indicator_id


def inject_jump(rng, f, industry):
    indicator_id, key = rng.choice([("resource.materials_per_value", "M"), ("carbon.per_value", "C"),
                                    ("clean.pollutant_per_value", "S"), ("resource.water_reuse", "Vr"),
                                    ("clean.retrofit_investment", "I")])
    factor = uniform(rng, 2.3, 8) if rng.random() < 0.5 else 1 / uniform(rng, 2.3, 8)
    changed = with_input(f, indicator_id, key, (f.inputs[indicator_id][key] * factor).quantize(D("1")))
    value = computed_value(METRICS[indicator_id], changed.inputs[indicator_id])
    return with_value(changed, indicator_id, value.quantize(D("0.0001"))), indicator_id


def inject_beyond_limit(rng, f, industry):
    indicator_id = PRODUCT_CLASSES.get(industry)
    if indicator_id is None:
        return None
    limit = LIMITS[indicator_id]
    q = f.inputs[indicator_id]["Q"]
    energy = (limit.mandatory * uniform(rng, 1.02, 1.4) * q / 1000).quantize(D("0.1"))
    changed = with_input(f, indicator_id, "E", energy)
    whole = max(changed.inputs["energy.renewable_share"]["E"], energy * D("1.2"))
    changed = with_input(with_input(changed, "energy.renewable_share", "E", whole), "energy.per_value", "E", whole)
    values = {i: computed_value(METRICS[i], changed.inputs[i]) for i in (indicator_id, "energy.renewable_share",
                                                                         "energy.per_value")}
    return Figures(values=dict(changed.values) | values, inputs=changed.inputs), indicator_id


def inject_part(rng, f, industry):
    changed = with_input(f, "energy.renewable_share", "Ere",
                         (f.inputs["energy.renewable_share"]["E"] * uniform(rng, 1.05, 2)).quantize(D("0.1")))
    value = computed_value(METRICS["energy.renewable_share"], changed.inputs["energy.renewable_share"])
    return with_value(changed, "energy.renewable_share", value), "energy.renewable_share"


def inject_percentage(rng, f, industry):
    indicator_id = rng.choice(["resource.water_reuse", "resource.solid_waste_use", "clean.retrofit_investment"])
    return with_value(f, indicator_id, uniform(rng, 100.5, 400).quantize(D("0.1"))), indicator_id


INJECTIONS = {
    "identity": ({IDENTITY}, inject_identity),
    "share_mismatch": ({SHARE_MISMATCH}, inject_share),
    "shared_quantity": ({SHARED_QUANTITY}, inject_shared),
    "unit_slip": ({UNIT_SLIP}, inject_slip),
    "unit_slip_product": ({UNIT_SLIP}, inject_product_slip),
    "jump": ({JUMP}, inject_jump),
    "beyond_limit": ({BEYOND_LIMIT}, inject_beyond_limit),
    "part_exceeds_whole": ({PART_EXCEEDS_WHOLE}, inject_part),
    "percentage_range": ({PERCENTAGE_RANGE}, inject_percentage),
}


def corpus(seed=SEED, size=UNITS):
    """(industry, current figures, previous figures, injected kind or None, indicator) per factory:
    one third clean, the rest with one error of a kind in turn."""
    rng = random.Random(seed)
    classes = sorted(PRODUCT_CLASSES) + list(GENERAL_CLASSES)
    kinds = list(INJECTIONS)
    units, turns = [], 0
    for number in range(size):
        industry = classes[number % len(classes)]
        last_year = quantities(rng, industry)
        previous = figures_of(last_year, industry)
        current = figures_of(next_year(rng, last_year, industry), industry, report_values=rng.random() < 0.7)
        kind, indicator_id = None, None
        if number % 3:
            kind = kinds[turns % len(kinds)]
            turns += 1
            current = figures_of(next_year(rng, last_year, industry), industry)
            injected = INJECTIONS[kind][1](rng, current, industry)
            if injected is None:
                kind = None
            else:
                current, indicator_id = injected
        units.append((industry, current, previous, kind, indicator_id))
    return units


def test_the_rules_find_injected_errors_and_leave_clean_factories_alone():
    started = time.perf_counter()
    found, injected, clean, flagged_clean = {}, {}, 0, []
    for industry, current, previous, kind, indicator_id in corpus():
        flags = check(current, indicators=RULES.indicators, previous=previous, industry=industry,
                      limits=REFERENCE.limits, same=RELATIONS.same, parts=RELATIONS.parts, thresholds=THRESHOLDS)
        if kind is None:
            clean += 1
            if flags:
                flagged_clean.append((industry, [flag.to_dict() for flag in flags]))
            continue
        expected = INJECTIONS[kind][0]
        injected[kind] = injected.get(kind, 0) + 1
        if any(flag.rule in expected and indicator_id in flag.indicators for flag in flags):
            found[kind] = found.get(kind, 0) + 1
    elapsed = time.perf_counter() - started
    recall = sum(found.values()) / sum(injected.values())
    false_positives = len(flagged_clean) / clean
    per_kind = ", ".join(f"{kind} {found.get(kind, 0)}/{count}" for kind, count in sorted(injected.items()))
    report = (f"recall {recall:.1%} ({sum(found.values())}/{sum(injected.values())}: {per_kind}); "
              f"false positives {false_positives:.1%} ({len(flagged_clean)}/{clean} clean factories flagged); "
              f"{elapsed:.2f} s; first clean ones flagged: {flagged_clean[:2]}")
    print("\n" + report)
    assert set(injected) == set(INJECTIONS), report
    assert clean >= UNITS // 4, report
    assert recall >= 0.95, report
    assert false_positives <= 0.05, report
    assert elapsed < 5, report
