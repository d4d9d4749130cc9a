"""The one job interface: work that must happen only after the current transaction commits
(sending e-mail, rendering PDFs, exports).

A job is a plain function taking plain arguments (ids, not objects) that runs inside an
application context of its own (so ``db.session`` is a session of its own). ``call_after_commit(func, *args)``
queues it for after the commit (never if the transaction rolls back); ``run_job`` runs it:

- inline, in the current process, when ``REDIS_URL`` is not set (the default);
- on RQ workers (``flask worker``) when ``REDIS_URL`` is set: the job is enqueued by its
  import path, and the worker runs it in an application context of its own.
"""

import os

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.utils import import_string

QUEUE_NAME = "certify"
JOB_TIMEOUT = 600
_PENDING_KEY = "certify.after_commit"
# The application a worker process runs jobs in (set by ``flask worker`` before forking).
_worker_app = None


def call_after_commit(func, *args) -> None:
    """Run ``func(*args)`` once the current transaction has committed; never if it rolls back."""
    from certify.extensions import db

    db.session.connection()  # the transaction has begun, so a rollback drops the job too
    db.session.info.setdefault(_PENDING_KEY, []).append((func, args))


def redis_connection(url: str | None = None):
    from redis import Redis

    return Redis.from_url(url or current_app.config["REDIS_URL"])


def job_queue():
    """The RQ queue, or ``None`` when jobs run inline."""
    if not has_app_context() or not current_app.config.get("REDIS_URL"):
        return None
    from rq import Queue

    return Queue(queue_name(current_app), connection=redis_connection(), default_timeout=JOB_TIMEOUT)


def queue_name(app) -> str:
    """The queue's name (``CERTIFY_QUEUE``): deployments sharing one Redis keep apart."""
    return app.config.get("CERTIFY_QUEUE") or QUEUE_NAME


def job_path(func) -> str:
    return f"{func.__module__}:{func.__qualname__}"


def run_job(func, *args):
    """Run one job now (inline) or hand it to the workers; returns the RQ job when queued."""
    queue = job_queue()
    if queue is None:
        # An application context of its own, as on a worker: its own session, never the
        # caller's (which may be in the middle of committing).
        with current_app.app_context():
            func(*args)
        return None
    return queue.enqueue(execute, job_path(func), *args, description=job_path(func))


def execute(path: str, *args) -> None:
    """What a worker runs: the job function named by ``path``, in the worker's application."""
    func = import_string(path.replace(":", "."))
    app = _worker_app or _make_worker_app()
    _forget_inherited_connections(app)
    with app.app_context():
        func(*args)


_pool_owner = None


def _forget_inherited_connections(app) -> None:
    # RQ runs each job in a forked child: database connections inherited from the parent must
    # not be used by both processes, so the child starts with an empty pool of its own.
    global _pool_owner
    if _pool_owner == os.getpid():
        return
    from certify.extensions import db

    with app.app_context():
        db.engine.dispose(close=False)
    _pool_owner = os.getpid()


def _make_worker_app():
    global _worker_app
    from certify import create_app

    _worker_app = create_app()
    return _worker_app


def start_worker(app, *, burst: bool = False, max_jobs: int | None = None) -> None:
    """Work the queue until stopped (or, with ``burst``, until it is empty). Each job runs in a
    forked child, so memory a job takes (PDF rendering) is returned when it ends."""
    global _worker_app
    from rq import Queue, Worker

    _worker_app = app
    _warm_up(app)
    connection = redis_connection(app.config["REDIS_URL"])
    queue = Queue(queue_name(app), connection=connection, default_timeout=JOB_TIMEOUT)
    Worker([queue], connection=connection).work(burst=burst, max_jobs=max_jobs)


def _warm_up(app) -> None:
    # Built once here, before RQ forks a child per job: otherwise every job's child builds the
    # PDF renderer again (fonts, font configuration, stylesheet), which costs more than the
    # rendering itself (measured: ~3x slower batches; see bench/workers.py).
    from certify.pdf import html_to_pdf

    with app.app_context():
        html_to_pdf("<p>证书 Certificate</p>")


@event.listens_for(Session, "after_commit")
def _run_pending(session: Session) -> None:
    for func, args in session.info.pop(_PENDING_KEY, []):
        run_job(func, *args)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction) -> None:
    session.info.pop(_PENDING_KEY, None)
