"""Announcing a batch: certificates rendered inline (no ``REDIS_URL``) against two RQ workers
(``flask worker``) on the Redis at 127.0.0.1:6379, on PostgreSQL (two processes writing the
hash-chained audit log need its locks; SQLite serialises them).

- ``workers_speedup``: time from the start of ``announce`` until every certificate of a batch of
  ``BENCH_CERTIFICATES`` (default 1,000) is rendered, inline ÷ with two workers. The
  announcement itself (``workers_announce_s``: numbering, audit, e-mails, queueing) is one
  transaction in one process; the workers start once it commits.
- ``rss_growth_pct``: growth of the resident memory of each process that renders (``flask
  worker`` runs jobs in one worker process, replaced after ``CERTIFY_WORKER_JOBS_PER_PROCESS``
  jobs, default 1,000) between its ~50th and its last (~500th) job; the larger of the two.

Uses its own Redis database (``BENCH_REDIS_URL``, default db 12, flushed) and its own PostgreSQL
database (``BENCH_DATABASE_URL``, default ``certify_bench``, rebuilt each run).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"workers_speedup": (">=", 1.9), "rss_growth_pct": ("<=", 10.0)}
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/certify_bench")
SECRET_KEY = "bench-secret-key-long-enough-for-certify"


def certificates_wanted() -> int:
    return int(os.environ.get("BENCH_CERTIFICATES", "1000"))


def _recreate_database(url: str) -> None:
    from sqlalchemy.engine import make_url

    from certify.config import database_url

    target = make_url(database_url(url))
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def _config(storage: Path, redis_url: str | None) -> dict:
    return {"SQLALCHEMY_DATABASE_URI": DATABASE_URL, "SECRET_KEY": SECRET_KEY, "REDIS_URL": redis_url,
            "CERTIFY_STORAGE_DIR": str(storage), "CERTIFY_BASE_URL": "https://lvse.jxt.sc.gov.cn"}


def prepare(count: int, storage: Path) -> None:
    """Two batches of ``count`` approved applications each, under a notice that has ended."""
    from flask_migrate import upgrade

    from certify import create_app
    from certify.demo import load_demo
    from certify.demo.scale import load_scale
    from certify.extensions import db
    from certify.publication.models import Batch, BatchStatus
    from certify.timeutil import local_today
    from certify.workflow import Status

    _recreate_database(DATABASE_URL)
    app = create_app(_config(storage, None))
    with app.app_context():
        upgrade()
        load_demo()
        db.session.commit()
        load_scale(2 * count, shares={Status.IN_NOTICE: 1.0}, batch_size=count, echo=lambda *_: None)
        ended = local_today() - timedelta(days=1)
        db.session.execute(db.update(Batch).where(Batch.status == BatchStatus.IN_NOTICE).values(
            notice_starts_on=ended - timedelta(days=14), notice_ends_on=ended))
        db.session.commit()
        db.session.remove()
    # The database's own upkeep after the bulk load (statistics of the new rows, writing them
    # out) would otherwise run during the first measurement, the inline one, on the core the
    # inline run leaves free: settled before either is timed.
    from certify.config import database_url

    engine = create_engine(database_url(DATABASE_URL), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("VACUUM ANALYZE"))
        connection.execute(text("CHECKPOINT"))
    engine.dispose()


def _announce_next_batch(app) -> int:
    """Announce the first batch still under notice and commit; returns the certificates issued."""
    from certify.auth.models import Role, User
    from certify.extensions import db
    from certify.publication import services
    from certify.publication.models import Batch, BatchStatus

    with app.app_context():
        admin = db.session.execute(select(User).where(User.role == Role.ADMIN)).scalars().first()
        batch = db.session.execute(select(Batch).where(Batch.status == BatchStatus.IN_NOTICE)
                                   .order_by(Batch.id)).scalars().first()
        issued = len(services.announce(admin, batch))
        db.session.commit()  # inline: the renders run here, after the commit
        return issued


def _rendered(app) -> int:
    from certify.certificates.models import Certificate, RenderState
    from certify.extensions import db

    with app.app_context():
        count = db.session.execute(select(func.count()).select_from(Certificate)
                                   .where(Certificate.render_state != RenderState.PENDING)).scalar()
        db.session.remove()
        return count


def _failed(app) -> int:
    from certify.certificates.models import Certificate, RenderState
    from certify.extensions import db

    with app.app_context():
        count = db.session.execute(select(func.count()).select_from(Certificate)
                                   .where(Certificate.render_state == RenderState.FAILED)).scalar()
        db.session.remove()
        return count


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def rendering_pids(workers: list[subprocess.Popen]) -> list[int]:
    """The worker process under each ``flask worker`` (the process that runs the jobs)."""
    pids = []
    for worker in workers:
        with open(f"/proc/{worker.pid}/task/{worker.pid}/children", encoding="ascii") as children:
            pids += [int(pid) for pid in children.read().split()]
    return pids


def _start_workers(n: int, storage: Path) -> list[subprocess.Popen]:
    env = os.environ | {"DATABASE_URL": DATABASE_URL, "REDIS_URL": REDIS_URL, "SECRET_KEY": SECRET_KEY,
                        "CERTIFY_STORAGE_DIR": str(storage), "FLASK_APP": "certify",
                        "CERTIFY_BASE_URL": "https://lvse.jxt.sc.gov.cn", "PYTHONPATH": str(ROOT)}
    flask = str(Path(sys.executable).with_name("flask"))
    return [subprocess.Popen([flask, "worker"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL) for _ in range(n)]


def _wait_for_workers(connection, n: int, timeout: float = 60) -> None:
    from rq import Worker

    deadline = time.monotonic() + timeout
    while len(Worker.all(connection=connection)) < n:
        if time.monotonic() > deadline:
            raise RuntimeError("the RQ workers did not start")
        time.sleep(0.2)


def run(count: int | None = None) -> dict:
    import tempfile

    import redis

    from certify import create_app

    count = count or certificates_wanted()
    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()
    with tempfile.TemporaryDirectory(prefix="certify-bench-") as folder:
        storage = Path(folder) / "storage"
        prepare(count, storage)
        inline_app = create_app(_config(storage, None))
        started = time.perf_counter()
        issued = _announce_next_batch(inline_app)
        inline = time.perf_counter() - started
        assert issued == count and _rendered(inline_app) == count, "inline rendering incomplete"

        queued_app = create_app(_config(storage, REDIS_URL))
        workers = _start_workers(2, storage)
        try:
            _wait_for_workers(connection, 2)
            renderers = rendering_pids(workers)
            baseline = {pid: rss_kb(pid) for pid in renderers}
            early = {}
            started = time.perf_counter()
            _announce_next_batch(queued_app)
            announced = time.perf_counter() - started
            while (done := _rendered(queued_app) - count) < count:
                if not early and done >= min(100, count // 5):  # about the 50th job of each worker
                    early = {pid: rss_kb(pid) for pid in renderers}
                if time.perf_counter() - started > 900:
                    raise RuntimeError(f"the workers rendered {done} of {count} in 15 minutes")
                time.sleep(0.1)
            queued = time.perf_counter() - started
            late = {pid: rss_kb(pid) for pid in renderers}
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(timeout=30)
            connection.flushdb()
        failed = _failed(queued_app)
    growth = max((late[pid] - early[pid]) / early[pid] * 100 for pid in late)
    return {
        "workers_speedup": round(inline / queued, 2),
        "workers_inline_s": round(inline, 1),
        "workers_two_rq_s": round(queued, 1),
        "workers_announce_s": round(announced, 1),
        "workers_certificates": count,
        "workers_failed_renders": failed,
        "rss_growth_pct": round(growth, 1),
        "rss_worker_mb": round(max(late.values()) / 1024, 1),
        "rss_worker_start_mb": round(max(baseline.values()) / 1024, 1),
    }
