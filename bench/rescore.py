"""Re-scoring listed factories under a new edition, as ``flask criteria rescore --to
factory-gbt-36132-2025 --csv FILE`` runs it, on PostgreSQL.

``BENCH_RESCORE_UNITS`` (default 10,000) factories listed under GB/T 36132-2018 (opened on
2025-06-01, each with its lead assessor's submitted sheet) are read through the declared answer
mapping, scored under the 2025 file (twice where the outcome turns on missing data) and written
as CSV:

- ``rescore_total_s``: the whole command, from the first query to the file written;
- ``rescore_per_unit_ms``: the same per unit. Target: the whole run under 60 s for 10,000 units,
  that is under 6 ms a unit.

Uses its own PostgreSQL database (``BENCH_RESCORE_DATABASE_URL``, default
``certify_bench_rescore``, rebuilt each run).
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.workers import SECRET_KEY, _recreate_database

TARGETS = {"rescore_per_unit_ms": ("<", 6.0), "rescore_total_s": ("<", 60.0)}
DATABASE_URL = os.environ.get("BENCH_RESCORE_DATABASE_URL",
                              "postgresql://postgres@127.0.0.1:5432/certify_bench_rescore")
TARGET = "factory-gbt-36132-2025"


def units_wanted() -> int:
    return int(os.environ.get("BENCH_RESCORE_UNITS", "10000"))


def _config(storage: Path) -> dict:
    return {"SQLALCHEMY_DATABASE_URI": DATABASE_URL, "SECRET_KEY": SECRET_KEY, "CERTIFY_STORAGE_DIR": str(storage),
            "CERTIFY_BASE_URL": "https://lvse.jxt.sc.gov.cn"}


def prepare(app, count: int) -> None:
    """``count`` factories listed under GB/T 36132-2018."""
    from flask_migrate import upgrade

    from certify.demo import load_demo
    from certify.demo.scale import load_scale
    from certify.extensions import db
    from certify.workflow import Status

    with app.app_context():
        upgrade()
        load_demo()
        db.session.commit()
        load_scale(count, shares={Status.LISTED: 1.0}, kinds={"factory": 1.0}, rule_sets_on=date(2025, 6, 1),
                   echo=lambda *_: None)
        db.session.commit()


def run(count: int | None = None) -> dict:
    from certify import create_app

    count = count or units_wanted()
    _recreate_database(DATABASE_URL)
    with tempfile.TemporaryDirectory(prefix="certify-bench-") as folder:
        app = create_app(_config(Path(folder) / "storage"))
        prepare(app, count)
        listing = Path(folder) / "rescore.csv"
        started = time.perf_counter()
        result = app.test_cli_runner().invoke(args=["criteria", "rescore", "--to", TARGET, "--csv", str(listing)])
        elapsed = time.perf_counter() - started
        assert result.exit_code == 0, result.output
        rows = listing.read_text(encoding="utf-8-sig").count("\n") - 1
        assert rows == count, f"{rows} units re-scored of {count}"
    return {"rescore_total_s": round(elapsed, 2), "rescore_per_unit_ms": round(elapsed * 1000 / count, 3),
            "rescore_units": count}
