"""Browser tests: the real application served on 127.0.0.1 from a thread, driven by Playwright
in Debian's Chromium (never a downloaded browser). Screenshots go to ``test-output/e2e/``."""

import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from certify import create_app
from certify.extensions import db as _db
from tests.conftest import TEST_SECRET_KEY

CHROMIUM = os.environ.get("CERTIFY_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "e2e"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def live_app(tmp_path_factory):
    """The application on its own SQLite database, served on a free port."""
    folder = tmp_path_factory.mktemp("e2e")
    app = create_app({
        "TESTING": True, "SECRET_KEY": TEST_SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'e2e.sqlite3'}",
        "CERTIFY_STORAGE_DIR": str(folder / "storage"), "WTF_CSRF_ENABLED": True,
    })
    with app.app_context():
        upgrade()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["CERTIFY_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app
    server.shutdown()


# Module scope: Playwright's event loop must be gone before other tests run code that starts
# its own (PDF signing does).
@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is needed for the browser tests: apt-get install -y chromium "
                    f"(looked for {CHROMIUM})")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class Journey:
    """A browser page with the journey's bookkeeping: numbered screenshots, and every console
    error or content-security-policy violation collected."""

    def __init__(self, page, base_url: str, name: str):
        self.page = page
        self.base_url = base_url
        self.folder = SCREENSHOTS / name
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.step = 0
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _console(self, message):
        if message.type == "error" or "Content Security Policy" in message.text:
            self.problems.append(f"console {message.type}: {message.text}")

    def goto(self, path: str):
        self.page.goto(self.base_url + path)

    def shot(self, label: str) -> Path:
        self.step += 1
        path = self.folder / f"{self.step:02d}-{re.sub(r'[^a-z0-9]+', '-', label.lower())}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture()
def journey(browser, live_app, request):
    def start(name: str, locale: str) -> Journey:
        context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900},
                                      extra_http_headers={"Accept-Language": locale})
        request.addfinalizer(context.close)
        return Journey(context.new_page(), live_app.config["CERTIFY_BASE_URL"], name)

    return start


@pytest.fixture()
def live_db(live_app):
    with live_app.app_context():
        yield _db
        _db.session.remove()


@pytest.fixture(scope="module")
def demo_world(live_app) -> dict:
    """The demo data loaded (users, announced and noticed batches): a certificate's number, the
    batch under notice and the announced batch."""
    from certify.certificates.models import Certificate
    from certify.demo import load_demo, load_public_demo
    from certify.publication.models import Batch, BatchStatus

    with live_app.app_context():
        load_demo()
        load_public_demo()
        _db.session.commit()
        number = _db.session.execute(_db.select(Certificate.number).order_by(Certificate.id)).scalars().first()
        notice = _db.session.execute(_db.select(Batch.id).where(Batch.status == BatchStatus.IN_NOTICE)).scalar()
        announced = _db.session.execute(_db.select(Batch.id).where(Batch.status == BatchStatus.ANNOUNCED)).scalar()
    return {"number": number, "notice": notice, "announced": announced}
