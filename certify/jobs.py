"""The one job interface: work that must happen only after the current transaction commits
(sending e-mail, rendering PDFs, exports).

A job is a plain function taking plain arguments (ids, not objects) that runs inside an
application context of its own (so ``db.session`` is a session of its own). ``call_after_commit(func, *args)``
queues it for after the commit (never if the transaction rolls back); ``run_job`` runs it:

- inline, in the current process, when ``REDIS_URL`` is not set (the default);
- on RQ workers (``flask worker``) when ``REDIS_URL`` is set: the job is enqueued by its
  import path, and the worker runs it in an application context of its own.

A job marked ``@retried(30, 120, …)`` that raises (``RetryLater`` when it has recorded a failure
that may pass) runs again on the workers after each of those intervals (RQ's ``Retry``; a worker
killed in the middle of it counts as a failure too, once RQ notices). Inline, nothing runs it
again by itself: a sweep does (see ``certify.certificates.services.sweep_unrendered``).
"""

import logging
import os

from flask import current_app, has_app_context
from sqlalchemy import event, text
from sqlalchemy.orm import Session
from werkzeug.utils import import_string

QUEUE_NAME = "certify"
JOB_TIMEOUT = 600
_PENDING_KEY = "certify.after_commit"
# The application a worker process runs jobs in (set by ``flask worker`` before forking).
_worker_app = None

log = logging.getLogger(__name__)


class RetryLater(Exception):
    """Raised by a job whose work is not done for a reason that may pass; the job has recorded
    what failed. On the workers a ``@retried`` job then runs again after its next interval."""


def retried(*intervals: int):
    """Mark a job to run again on the workers after each of ``intervals`` seconds when it
    raises."""
    def mark(func):
        func.retry_intervals = tuple(intervals)
        return func
    return mark


def _retry(func):
    intervals = getattr(func, "retry_intervals", ())
    if not intervals:
        return None
    from rq import Retry

    return Retry(max=len(intervals), interval=list(intervals))


def call_after_commit(func, *args) -> None:
    """Run ``func(*args)`` once the current transaction has committed; never if it rolls back."""
    from certify.extensions import db

    db.session.connection()  # the transaction has begun, so a rollback drops the job too
    db.session.info.setdefault(_PENDING_KEY, []).append((func, args))


_REDIS_KEY = "certify.redis"
# Jobs queued by one commit go to Redis in pipelines of this many (one round trip each), so that
# workers start on the first ones while the rest are still being sent.
ENQUEUE_CHUNK = 100


def redis_connection(url: str | None = None):
    """A client for ``url``, or the current application's own client (made once: it keeps a
    pool of connections, which redis-py renews in a forked process)."""
    from redis import Redis

    if url is not None:
        return Redis.from_url(url)
    app = current_app._get_current_object()
    client = app.extensions.get(_REDIS_KEY)
    if client is None:
        client = app.extensions[_REDIS_KEY] = Redis.from_url(app.config["REDIS_URL"])
    return client


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
            try:
                func(*args)
            except RetryLater as incomplete:
                log.warning("Job %s left work undone: %s", job_path(func), incomplete)
        return None
    return queue.enqueue(execute, job_path(func), *args, description=job_path(func),
                         retry=_retry(func))


def run_jobs(calls) -> None:
    """Run the ``(func, args)`` pairs in order: inline one after another, or enqueued for the
    workers in pipelines of ``ENQUEUE_CHUNK`` (a batch announcement queues a thousand jobs or
    more at once), consecutive calls of one function that is not ``@retried`` grouped into one
    job of up to ``CALLS_PER_JOB`` calls (``execute_each``)."""
    queue = job_queue()
    if queue is None:
        for func, args in calls:
            run_job(func, *args)
        return
    prepared = list(_prepared_jobs(calls))
    for start in range(0, len(prepared), ENQUEUE_CHUNK):
        queue.enqueue_many(prepared[start:start + ENQUEUE_CHUNK])


# Consecutive calls of one function that is not retried go to the workers as one job of up to this
# many calls: a batch announcement's thousand e-mails are twenty jobs, not a thousand, and RQ's own
# cost per job (~3.5 ms of a worker's time and twenty Redis round trips, measured on the batch of
# bench/workers.py) is paid once for fifty of them. A retried job (a rendering) stays a job of its
# own, so that RQ runs exactly it again.
CALLS_PER_JOB = 50


def _prepared_jobs(calls):
    """The RQ jobs (``Queue.prepare_data``) for ``calls``, in order."""
    from rq import Queue

    index = 0
    while index < len(calls):
        func, args = calls[index]
        group = [args]
        if _retry(func) is None:
            while (index + len(group) < len(calls) and len(group) < CALLS_PER_JOB
                   and calls[index + len(group)][0] == func):
                group.append(calls[index + len(group)][1])
        index += len(group)
        if len(group) == 1:
            yield Queue.prepare_data(execute, (job_path(func), *args), description=job_path(func),
                                     retry=_retry(func))
        else:
            yield Queue.prepare_data(execute_each, (job_path(func), [list(each) for each in group]),
                                     description=f"{job_path(func)} ×{len(group)}")


class JobsFailed(Exception):
    """Some calls of an ``execute_each`` job raised (each is logged with its traceback)."""


def execute_each(path: str, calls: list) -> None:
    """What a worker runs for a group of calls of one function: ``execute(path, *args)`` for each
    ``args`` of ``calls`` in turn, each in an application context of its own as if it were a job
    of its own. One that raises does not stop the others; the group then fails (``JobsFailed``,
    naming them) once all have run, as the jobs that raised would have."""
    failed = []
    for args in calls:
        try:
            execute(path, *args)
        except Exception:
            log.exception("Job %s%r failed", path, tuple(args))
            failed.append(args)
    if failed:
        raise JobsFailed(f"{len(failed)} of {len(calls)} calls of {path} failed: {failed}")


def execute(path: str, *args) -> None:
    """What a worker runs: the job function named by ``path``, in the worker's application."""
    func = import_string(path.replace(":", "."))
    app = _worker_app or _make_worker_app()
    _forget_inherited_connections(app)
    with app.app_context():
        func(*args)


_pool_owner = None


def _forget_inherited_connections(app) -> None:
    # Worker processes are forked (``run_worker``): database connections inherited from the
    # parent must not be used by both processes, so each starts with an empty pool of its own.
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


# A worker process runs this many jobs, then a fresh one takes over (``run_worker``).
DEFAULT_JOBS_PER_PROCESS = 1000


def start_worker(app, *, burst: bool = False, max_jobs: int | None = None) -> int:
    """Work the queue in this process until stopped (with ``burst``, until it is empty; with
    ``max_jobs``, after so many jobs); return the number of jobs run.

    Jobs run in this process (RQ's ``SimpleWorker``), not in a child forked per job: a forked
    child rebuilt or re-touched everything a PDF needs and rendered at a third of the speed
    (measured in bench/workers.py). Memory stays bounded by ``run_worker`` replacing the
    process after ``max_jobs`` jobs.
    """
    global _worker_app
    from rq import Queue

    _worker_app = app
    _warm_up(app)
    connection = redis_connection(app.config["REDIS_URL"])
    queue = Queue(queue_name(app), connection=connection, default_timeout=JOB_TIMEOUT)
    worker = _worker_class()([queue], connection=connection)
    # The scheduler puts jobs waiting for a retry back on the queue when they are due.
    worker.work(burst=burst, max_jobs=max_jobs, with_scheduler=True)
    return worker.successful_job_count + worker.failed_job_count


def _worker_class():
    from rq import SimpleWorker

    class Worker(SimpleWorker):
        def unsubscribe(self):
            # RQ's own order (unsubscribe, then stop the listening thread) leaves that thread
            # asleep for up to a minute with redis-py 8, which now waits for it: every worker
            # stopping or recycled waited that long. The thread is told to stop first, so the
            # answer to the unsubscribe wakes it to end.
            if self.pubsub_thread:
                self.pubsub_thread.stop(timeout=0)
                self.pubsub.unsubscribe()
                self.pubsub_thread.join(timeout=1)
                self.pubsub.close()

    return Worker


_RECYCLE = 3  # exit code of a worker process that ran its share of jobs


def run_worker(app, *, burst: bool = False, jobs_per_process: int | None = None) -> int:
    """``flask worker``: run worker processes one after another, each for ``jobs_per_process``
    jobs (``CERTIFY_WORKER_JOBS_PER_PROCESS``, default 1,000), so that no process keeps memory
    it grew for ever. Stops when a worker stops for another reason (a signal, an empty queue
    with ``burst``); returns its exit code. SIGTERM and SIGINT are passed on to the worker,
    which finishes its current job first."""
    import signal

    jobs_per_process = jobs_per_process or int(
        app.config.get("CERTIFY_WORKER_JOBS_PER_PROCESS") or DEFAULT_JOBS_PER_PROCESS)
    while True:
        child = os.fork()
        if child == 0:  # pragma: no cover - the child process
            code = 1
            try:
                done = start_worker(app, burst=burst, max_jobs=jobs_per_process)
                code = _RECYCLE if done >= jobs_per_process else 0
            finally:
                os._exit(code)
        def forward(signum, frame, child=child):
            os.kill(child, signum)

        previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            _, status = os.waitpid(child, 0)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        code = os.waitstatus_to_exitcode(status)
        if code != _RECYCLE:
            return code


def _warm_up(app) -> None:
    # Before the first job (and before the worker says it is ready): the PDF renderer (prepared
    # fonts, font configuration, stylesheet), what the areas warm up for their jobs
    # (``signals.worker_starting``: a certificate made and thrown away, with its template,
    # stylesheet, QR code and signing key), and this process's own database connection.
    # Measured in bench/workers.py: without the last two, each worker's first rendering job took
    # ~0.17 s more CPU than the others, and its first job ~70 ms more for the connection.
    from certify.extensions import db
    from certify.pdf import html_to_pdf
    from certify.signals import worker_starting

    _forget_inherited_connections(app)
    with app.app_context():
        html_to_pdf("<p>证书 Certificate</p>")
        try:
            worker_starting.send(app)
        except Exception:  # noqa: BLE001 - a warm-up only: the jobs report what fails
            log.warning("Warming up for the jobs failed", exc_info=True)
        db.session.execute(text("SELECT 1"))


@event.listens_for(Session, "after_commit")
def _run_pending(session: Session) -> None:
    calls = session.info.pop(_PENDING_KEY, [])
    try:
        run_jobs(calls)
    except _queue_unreachable() as error:
        # The change is committed and must not be reported as failed. PDFs are queued again by
        # ``flask certificates sweep``, e-mails by ``flask mail resend``.
        log.error("Redis cannot be reached: %d job(s) not queued (%s): %s", len(calls),
                  ", ".join(sorted({job_path(func) for func, _ in calls})), error)


def _queue_unreachable() -> tuple[type[Exception], ...]:
    """What queuing raises when Redis cannot be reached (nothing without Redis: jobs run inline)."""
    if not has_app_context() or not current_app.config.get("REDIS_URL"):
        return ()
    from redis.exceptions import ConnectionError, TimeoutError

    return ConnectionError, TimeoutError


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction) -> None:
    session.info.pop(_PENDING_KEY, None)
