"""What happened, announced to whoever listens: the area where a change is made sends a signal,
and the areas with something to do about it (mail, public files, reports) connect a receiver in
their ``init_app``. The sender then names none of them.

Receivers run synchronously, in the sender's transaction: what they write is committed or rolled
back with the change, and work that must wait for the commit is queued with
``certify.jobs.call_after_commit``. They act on ``current_app``, never on an application they
captured: one process may build several applications.
"""

from blinker import Namespace

_signals = Namespace()

application_transitioned = _signals.signal("application-transitioned", doc="""
An application moved along the workflow table; its status is already the new one.
Sender: the application. Keywords: ``step`` (the ``workflow.Transition``), ``actor`` (the user,
or ``None`` for the system), ``reason`` (text, or ``None``) and ``told_by_caller`` (the area that
made the move tells the people concerned itself).
""")

applications_transitioned = _signals.signal("applications-transitioned", doc="""
Several applications moved along the workflow table by one action in one transaction (a batch
announced lists thousands): their statuses are already the new ones. Sent once, in place of
``application_transitioned`` for each, so that receivers can do their work in bulk.
Sender: the list of applications. Keywords: ``steps`` (their ``workflow.Transition``, in the
same order) and ``actor``.
""")

batch_announced = _signals.signal("batch-announced", doc="""
A batch is announced: it is marked announced, before its entries are listed and their
certificates issued (so that what receivers queue after the commit comes before the
certificates' rendering). Sender: the batch. Keyword: ``actor``.
""")

assessment_reported = _signals.signal("assessment-reported", doc="""
Every standing assessor of an application has submitted and the application is reported
(now assessed); its evaluation report is to be made. Sender: the application. Keyword: ``actor``.
""")

certificates_changed = _signals.signal("certificates-changed", doc="""
Certificates of listed units changed their public status (revoked, expired). Sender: the
application ids (a list). No keywords.
""")

worker_starting = _signals.signal("worker-starting", doc="""
A job worker process is about to take its first job, inside an application context: what
its jobs will need warm (templates, fonts, keys) can be made ready now, so that the first job
does not pay for it. Sender: the application. No keywords.
""")


def connect_once(signal, receiver) -> None:
    """Connect ``receiver`` to ``signal`` for the life of the process. Each ``create_app`` may
    call this again: the same receiver is never connected twice (blinker keys receivers by
    identity), so one change is handled once however many applications were built."""
    signal.connect(receiver, weak=False)
