"""One web host down behind the proxy (docs/deploy.md, "When a part fails"): nginx, run with the
``server`` block of ``deploy/nginx-hosts.conf`` as the compose file runs it, in front of two
gunicorn hosts that share the database and the secret key. A user signed in through the proxy
stays signed in, and every page and form keeps being answered, while one host is stopped."""

import shutil
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests

from certify.audit.keys import create_key, load_key
from tests import factories
from tests.conftest import PG_SCHEMA, TEST_SECRET_KEY
from tests.integration.test_multi_host import token
from tests.servers import ROOT, free_port, process_database_url, process_environment, served

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
WAIT = 30  # seconds: a limit for a loaded machine, never reached otherwise


def proxy_configuration(folder: Path, port: int, upstreams: list[int]) -> Path:
    """nginx's main configuration around the deployment's ``server`` block, with the replicas'
    name replaced by this test's hosts and the port by a free one."""
    deployed = (ROOT / "deploy/nginx-hosts.conf").read_text(encoding="utf-8")
    assert "server web:8000;" in deployed and "listen 80;" in deployed
    block = deployed.replace("server web:8000;", " ".join(f"server 127.0.0.1:{p};" for p in upstreams)) \
                    .replace("listen 80;", f"listen 127.0.0.1:{port};")
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / name).mkdir()
    configuration = folder / "nginx.conf"
    configuration.write_text(f"""
user root;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    {block}
}}
""", encoding="utf-8")
    return configuration


def test_with_one_web_host_stopped_the_proxy_sends_everything_to_the_other(database_url, db, tmp_path):
    if not Path(NGINX).is_file():
        pytest.fail("nginx is needed for this test: apt-get install -y nginx (make install-test installs it)")
    user = factories.make_user("applicant")
    db.session.commit()
    # What every host is given alike (docs/deploy.md, "Several hosts"): the database, the secret
    # key and the audit key.
    environment = process_environment(DATABASE_URL=process_database_url(database_url, PG_SCHEMA),
                                      SECRET_KEY=TEST_SECRET_KEY, CERTIFY_BASE_URL="http://127.0.0.1",
                                      CERTIFY_AUDIT_KEY_FILE=str((load_key() or create_key()).path),
                                      CERTIFY_PROXY_FIX="1", CERTIFY_STORAGE_DIR=str(tmp_path / "storage"))
    with ExitStack() as everything:
        hosts = [ExitStack() for _ in range(2)]
        ports = [host.enter_context(served("wsgi:app", environment | {"CERTIFY_INSTANCE_PATH": str(tmp_path / name)},
                                           log=tmp_path / f"{name}.log"))
                 for host, name in zip(hosts, ("host-a", "host-b"), strict=True)]
        for host in hosts:
            everything.push(host)
        port = free_port()
        proxy = subprocess.Popen([NGINX, "-c", str(proxy_configuration(tmp_path, port, ports)), "-g", "daemon off;"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        everything.callback(proxy.wait, WAIT)
        everything.callback(proxy.terminate)
        site = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + WAIT
        while True:
            try:
                requests.get(f"{site}/healthz", timeout=WAIT)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and proxy.poll() is None, (tmp_path / "error.log").read_text()
                time.sleep(.1)

        browser = requests.Session()
        signed_in = browser.post(f"{site}/login", allow_redirects=False, timeout=WAIT, data={
            "csrf_token": token(browser, f"{site}/login"), "email": user.email, "password": factories.PASSWORD})
        assert signed_in.status_code == 302
        # Addresses the application builds are the proxy's, whichever host built them.
        assert all(str(p) not in signed_in.headers["Location"] for p in ports)

        hosts[0].close()  # host A is stopped: its port refuses connections from now on

        pages = [browser.get(f"{site}/workbench", timeout=WAIT, allow_redirects=False) for _ in range(10)]
        assert [page.status_code for page in pages] == [200] * 10, "every page answered, signed in"
        switched = browser.post(f"{site}/language", timeout=WAIT, allow_redirects=False,
                                data={"csrf_token": token(browser, f"{site}/workbench"), "language": "en"})
        assert switched.status_code in (302, 303)
        assert "Workbench" in browser.get(f"{site}/workbench", timeout=WAIT).text
