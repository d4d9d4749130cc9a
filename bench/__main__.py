"""``python -m bench``: run every benchmark module, print a table, merge into bench/results.json."""

from __future__ import annotations

import importlib
import json
import operator
import sys
from pathlib import Path

MODULES = ["bench.scoring"]
RESULTS = Path(__file__).resolve().parent / "results.json"
COMPARE = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}


def main() -> int:
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    rows, failed = [], False
    for name in MODULES:
        module = importlib.import_module(name)
        measured = module.run()
        results.update(measured)
        for key, value in measured.items():
            target = getattr(module, "TARGETS", {}).get(key)
            ok = "" if target is None else ("yes" if COMPARE[target[0]](value, target[1]) else "NO")
            failed |= ok == "NO"
            rows.append((key, str(value), f"{target[0]} {target[1]}" if target else "", ok))
    widths = [max(len(row[n]) for row in rows + [("key", "value", "target", "ok")]) for n in range(4)]
    for row in [("key", "value", "target", "ok"), *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)))
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
