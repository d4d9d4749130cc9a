"""``python -m bench``: run every benchmark module several times, print each figure's min / median /
max, and merge into bench/results.json.

A target counts as met only when the **worst** of the runs meets it (``BENCH_RUNS``, default 5):
a figure met on one run in two is a figure missed. results.json keeps each key with its worst
run's value (a figure without a target, its median) and ``<key>_runs`` with every run's value, in
order. A missed target is printed with the figure, its worst value and by how much it missed; the
command exits 1 only then.

``python -m bench lists certificates`` runs only the modules named. Sizes can be scaled down
with ``BENCH_APPLICATIONS`` (list pages, default 100,000) and ``BENCH_CERTIFICATES`` (batch
announcement, default 1,000); the table says what each figure was measured on.
"""

from __future__ import annotations

import importlib
import json
import operator
import os
import statistics
import sys
from pathlib import Path

MODULES = ["bench.scoring", "bench.lists", "bench.certificates", "bench.workers", "bench.rescore", "bench.latency",
           "bench.api", "bench.storage"]
RESULTS = Path(__file__).resolve().parent / "results.json"


def _all_equal(value, _bound) -> bool:
    return len(set(value.values())) == 1


COMPARE = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt, "equal": _all_equal}
# Which run is the worst, for each kind of target: the lowest of a floor, the highest of a ceiling.
WORST = {"<=": max, "<": max, ">=": min, ">": min}


def runs_wanted() -> int:
    return max(1, int(os.environ.get("BENCH_RUNS", "5")))


def worst_of(values: list, target) -> object:
    """The run that comes nearest to missing ``target`` (the first that misses, for ``equal``);
    for a figure without a target, the median run (the last, when the values are not numbers)."""
    numbers = all(isinstance(v, (int, float)) for v in values)
    if target is None:
        return statistics.median(values) if numbers else values[-1]
    if not numbers:
        return next((v for v in values if not COMPARE[target[0]](v, target[1])), values[-1])
    return WORST[target[0]](values)


def miss_text(key: str, value, target) -> str | None:
    """``None`` when ``value`` meets ``target``; else what missed and by how much."""
    if target is None or COMPARE[target[0]](value, target[1]):
        return None
    if target[0] == "equal":
        return f"{key} missed: {json.dumps(value)} are not all equal"
    return f"{key} missed: worst run {value} against the target {target[0]} {target[1]}, off by {abs(value - target[1]):.3g}"


def _target_text(target) -> str:
    if target is None:
        return ""
    return target[0] if target[1] is None else f"{target[0]} {target[1]}"


def _value_text(value) -> str:
    return json.dumps(value) if isinstance(value, dict) else str(value)


def _spread_text(values: list) -> str:
    if len(values) < 2 or not all(isinstance(v, (int, float)) for v in values):
        return ""
    return f"{min(values):g} / {statistics.median(values):g} / {max(values):g}"


def measure(module, runs: int) -> dict[str, list]:
    """Every key ``module.run()`` reports, with its value in each of ``runs`` runs."""
    values: dict[str, list] = {}
    for number in range(runs):
        if runs > 1:
            print(f"{module.__name__}: run {number + 1} of {runs}", flush=True)
        for key, value in module.run().items():
            values.setdefault(key, []).append(value)
    return values


def main(argv: list[str]) -> int:
    names = [f"bench.{name}" for name in argv] or MODULES
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    runs = runs_wanted()
    rows, misses = [], []
    for name in names:
        module = importlib.import_module(name)
        targets = getattr(module, "TARGETS", {})
        for key, values in measure(module, runs).items():
            target = targets.get(key)
            worst = worst_of(values, target)
            results[key] = worst
            if len(values) > 1:
                results[f"{key}_runs"] = values
            missed = miss_text(key, worst, target)
            if missed:
                misses.append(missed)
            ok = "" if target is None else ("NO" if missed else "yes")
            rows.append((key, _value_text(worst), _spread_text(values), _target_text(target), ok))
        RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    header = ("key", "worst (or median)" if runs > 1 else "value", "min / median / max", "target", "ok")
    widths = [max(len(row[n]) for row in rows + [header]) for n in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    print(f"{runs} run(s) of each benchmark; a target counts as met when the worst run meets it.")
    for missed in misses:
        print(missed)
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
