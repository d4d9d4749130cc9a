"""``python -m bench``: run every benchmark module, print a table, merge into bench/results.json.

``python -m bench lists certificates`` runs only the modules named. Sizes can be scaled down
with ``BENCH_APPLICATIONS`` (list pages, default 100,000) and ``BENCH_CERTIFICATES`` (batch
announcement, default 1,000); the table says what each figure was measured on.
"""

from __future__ import annotations

import importlib
import json
import operator
import sys
from pathlib import Path

MODULES = ["bench.scoring", "bench.lists", "bench.certificates", "bench.workers", "bench.rescore"]
RESULTS = Path(__file__).resolve().parent / "results.json"


def _all_equal(value, _bound) -> bool:
    return len(set(value.values())) == 1


COMPARE = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt, "equal": _all_equal}


def _target_text(target) -> str:
    if target is None:
        return ""
    return target[0] if target[1] is None else f"{target[0]} {target[1]}"


def _value_text(value) -> str:
    return json.dumps(value) if isinstance(value, dict) else str(value)


def main(argv: list[str]) -> int:
    names = [f"bench.{name}" for name in argv] or MODULES
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    rows, failed = [], False
    for name in names:
        module = importlib.import_module(name)
        measured = module.run()
        results.update(measured)
        for key, value in measured.items():
            target = getattr(module, "TARGETS", {}).get(key)
            ok = "" if target is None else ("yes" if COMPARE[target[0]](value, target[1]) else "NO")
            failed |= ok == "NO"
            rows.append((key, _value_text(value), _target_text(target), ok))
        RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    header = ("key", "value", "target", "ok")
    widths = [max(len(row[n]) for row in rows + [header]) for n in range(4)]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
