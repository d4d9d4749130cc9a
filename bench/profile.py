"""Where one request or one certificate spends its time: ``python -m bench.profile lists`` and
``python -m bench.profile certificate`` (the figures of ``docs/performance.md``).

Not a benchmark with a target: it explains the figures ``make bench`` reports. Everything runs
in this one process, timed with the thread's CPU time (``time.thread_time``), so that other work
on the machine changes the figures little.

- **lists**: the public list and the admin list of ``bench.lists`` on its database (built once,
  ``BENCH_APPLICATIONS``), through the application's test client. First the plain median of a
  request (``app.wsgi_app``, nothing wrapped) and of the reference (``bench/minimal_app.py`` with
  the same statements); then a breakdown by **exclusive** timers (a timer's children are taken out
  of it) wrapped, in this process only, around the session cookie, every request hook, the user
  loader, the view, the template, translation look-ups, SQLAlchemy's ``Session.execute`` and the
  SQL itself (between ``before_cursor_execute`` and ``after_cursor_execute``). The timers cost a
  little themselves, so the breakdown adds up to a bit more than the plain median.
- **certificate**: ``bench.certificates.sample_certificate`` and the one-line page, with timers
  around certify's context and template and WeasyPrint's phases (style, boxes, layout, drawing,
  font subsetting, PDF writing).
"""

from __future__ import annotations

import functools
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import ExitStack, contextmanager

CLOCK = time.thread_time


class Timers:
    """Exclusive timers: while a timed function runs inside another, only the inner one counts."""

    def __init__(self):
        self.totals: dict[str, float] = defaultdict(float)
        self._stack: list[list] = []

    def enter(self, name: str) -> None:
        now = CLOCK()
        if self._stack:
            outer = self._stack[-1]
            self.totals[outer[0]] += now - outer[1]
        self._stack.append([name, now])

    def leave(self) -> None:
        now = CLOCK()
        name, started = self._stack.pop()
        self.totals[name] += now - started
        if self._stack:
            self._stack[-1][1] = now

    def wrap(self, name: str, function):
        @functools.wraps(function)
        def timed(*args, **kwargs):
            self.enter(name)
            try:
                return function(*args, **kwargs)
            finally:
                self.leave()
        return timed

    @contextmanager
    def patched(self, owner, attribute: str, name: str, generator: bool = False):
        """Time ``owner.attribute`` (a generator is consumed inside the timer) while in the block."""
        original = getattr(owner, attribute)
        if generator:
            def consumed(*args, **kwargs):
                return iter(list(original(*args, **kwargs)))
            timed = self.wrap(name, consumed)
        else:
            timed = self.wrap(name, original)
        setattr(owner, attribute, timed)
        try:
            yield
        finally:
            setattr(owner, attribute, original)


def median_ms(function, repeats: int, warm_up: int = 5) -> float:
    from bench.certificates import median_ms as median

    return median(function, repeats, clock=CLOCK, warm_up=warm_up)


def print_table(title: str, totals: dict[str, float], count: int, plain_ms: float) -> None:
    print(f"\n{title}: plain median {plain_ms:.2f} ms a request")
    whole = sum(totals.values())
    for name, seconds in sorted(totals.items(), key=lambda item: -item[1]):
        print(f"  {name:<58} {seconds / count * 1000:7.2f} ms  {seconds / whole:4.0%}")
    print(f"  {'sum of the timed parts':<58} {whole / count * 1000:7.2f} ms")


# ---- list pages --------------------------------------------------------------------------------

def _hook_name(function) -> str:
    module = getattr(function, "__module__", "") or ""
    owner = module.split(".")[0]
    if owner == "certify":
        return f"certify hook {function.__name__}"
    return f"{owner} hooks"


@contextmanager
def request_timers(app, timers: Timers):
    """Wrap the parts of a request named in the module's docstring, for the block."""
    import flask.templating
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from certify import i18n
    from certify.extensions import db

    saved = {}
    for attribute in ("before_request_funcs", "after_request_funcs", "teardown_request_funcs",
                      "teardown_appcontext_funcs", "template_context_processors", "url_value_preprocessors"):
        registry = getattr(app, attribute)
        saved[attribute] = registry
        if isinstance(registry, list):
            setattr(app, attribute, [timers.wrap(_hook_name(f), f) for f in registry])
        else:
            setattr(app, attribute, {key: [timers.wrap(_hook_name(f), f) for f in functions]
                                     for key, functions in registry.items()})
    views = dict(app.view_functions)
    app.view_functions.update({endpoint: timers.wrap("view function (excluding SQL)", view)
                               for endpoint, view in views.items()})

    def before_cursor(*_args):
        timers.enter("SQL inside the driver")

    def after_cursor(*_args):
        timers.leave()

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before_cursor)
    event.listen(engine, "after_cursor_execute", after_cursor)
    app.jinja_env.install_gettext_callables(
        gettext=timers.wrap("translation look-ups", i18n._template_gettext),
        ngettext=timers.wrap("translation look-ups", i18n._template_ngettext), newstyle=True)
    try:
        with ExitStack() as stack:
            for owner, attribute, name in (
                    (app, "wsgi_app", "Flask and Werkzeug dispatch"),
                    (app.session_interface, "open_session", "session cookie"),
                    (app.session_interface, "save_session", "session cookie"),
                    (app.login_manager, "_load_user", "user loading (Flask-Login)"),
                    (flask.templating, "_render", "Jinja rendering (excluding look-ups)"),
                    (i18n, "_catalogue", "translation look-ups"),
                    (Session, "execute", "SQLAlchemy Session.execute (excluding SQL)")):
                stack.enter_context(timers.patched(owner, attribute, name))
            yield
    finally:
        event.remove(engine, "before_cursor_execute", before_cursor)
        event.remove(engine, "after_cursor_execute", after_cursor)
        app.jinja_env.install_gettext_callables(gettext=i18n._template_gettext,
                                                ngettext=i18n._template_ngettext, newstyle=True)
        app.view_functions.update(views)
        for attribute, registry in saved.items():
            setattr(app, attribute, registry)


def _reference_client(url: str, statements: list):
    """``bench/minimal_app.py`` with ``statements``, imported afresh, and its test client."""
    import importlib

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump([[sql, list(params) if isinstance(params, (list, tuple)) else params]
                   for sql, params in statements], handle, default=str)
    os.environ["DATABASE_URL"], os.environ["BENCH_STATEMENTS"] = url, handle.name
    sys.modules.pop("bench.minimal_app", None)
    module = importlib.import_module("bench.minimal_app")
    os.unlink(handle.name)
    return module.app.test_client()


def profile_lists(requests: int = 200) -> None:
    from bench import lists
    from certify import create_app

    url, storage = lists.prepare_database(lists.applications_wanted())
    app = create_app(lists.bench_config(url, storage) | {"WTF_CSRF_ENABLED": False})
    cookie = lists.admin_session_cookie(app)
    for name, path, page_cookie in (("public list", lists.PUBLIC_PAGE, None),
                                    ("admin list", lists.ADMIN_PAGE, cookie)):
        client = app.test_client()
        if page_cookie:
            client.set_cookie(*page_cookie.split("=", 1))

        def get(client=client, path=path):
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            return response

        size = len(get().data)
        plain = median_ms(get, requests)
        reference = _reference_client(url, lists.page_statements(app, path, page_cookie))
        reference_ms = median_ms(lambda reference=reference: reference.get("/page"), requests)
        timers = Timers()
        with request_timers(app, timers):
            for _ in range(requests):
                get()
        print_table(f"{name} {path} ({size / 1000:.1f} kB); the reference: {reference_ms:.2f} ms",
                    timers.totals, requests, plain)


# ---- certificates ------------------------------------------------------------------------------

CERTIFICATE_PHASES = (
    ("weasyprint.document", "get_all_computed_styles", "CSS: stylesheets and cascade", False),
    ("weasyprint.document", "build_formatting_structure", "box tree", False),
    ("weasyprint.document", "layout_document", "layout", True),
    ("weasyprint.document", "draw_page", "drawing pages", False),
    ("weasyprint.pdf.fonts.Font", "subset", "font subsetting (HarfBuzz)", False),
    ("pydyf.PDF", "write", "PDF writing (zlib)", False),
    ("weasyprint.HTML", "__init__", "HTML parsing", False),
    ("weasyprint.HTML", "write_pdf", "rest of WeasyPrint", False),
    ("certify.certificates.rendering", "certificate_html_context", "certify: context (QR code, dates)", False),
    ("flask.templating", "_render", "certify: Jinja template", False),
)


def _resolve(dotted: str):
    import importlib

    module_name, _, rest = dotted.partition(".")
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            target = getattr(target, attribute)
        return target
    raise ImportError(module_name + rest)


def profile_certificate(repeats: int = 30) -> None:
    from bench.certificates import ONE_LINE, sample_certificate
    from certify import create_app
    from certify.certificates.rendering import certificate_pdf
    from certify.pdf import html_to_pdf

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "bench-secret-key-long-enough",
                      "CERTIFY_BASE_URL": "https://lvse.jxt.sc.gov.cn"})
    certificate = sample_certificate()
    with app.app_context():
        for name, render in (("certificate", lambda: certificate_pdf(certificate)),
                             ("one-line page", lambda: html_to_pdf(ONE_LINE))):
            plain = median_ms(render, repeats, warm_up=3)
            timers = Timers()
            with ExitStack() as stack:
                for owner, attribute, label, generator in CERTIFICATE_PHASES:
                    stack.enter_context(timers.patched(_resolve(owner), attribute, label, generator))
                for _ in range(repeats):
                    render()
            print_table(name, timers.totals, repeats, plain)


def main(argv: list[str]) -> int:
    what = argv[0] if argv else "lists"
    if what == "lists":
        profile_lists()
    elif what == "certificate":
        profile_certificate()
    else:
        print("usage: python -m bench.profile [lists|certificate]")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
