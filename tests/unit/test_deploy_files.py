"""The compose files say what docs/deploy.md says: every variable they give certify's processes is
one that certify, gunicorn or boto3 reads (a misspelt setting would be ignored in silence), and the
several-hosts file gives its web and worker replicas no shared disk, one bucket, one database with
a streaming replica, and the same secrets."""

import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from certify.config import Settings

ROOT = Path(__file__).resolve().parents[2]
CERTIFY_SERVICES = ("migrate", "web", "worker")
# Read outside ``Settings``: the secret key, the database and debug switch (config.flask_settings),
# the instance folder (certify.create_app), the proxies in front (wsgi.py).
OTHER_NAMES = {"SECRET_KEY", "DATABASE_URL", "FLASK_DEBUG", "CERTIFY_INSTANCE_PATH", "CERTIFY_PROXY_FIX"}
BOTO3_NAMES = {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID",
               "AWS_SECRET_ACCESS_KEY"}


def compose(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))


def read_names() -> set[str]:
    settings = {field.name.upper() for field in dataclasses.fields(Settings)}
    gunicorn = set(re.findall(r'os\.environ\.get\("([A-Z_]+)"', (ROOT / "gunicorn.conf.py").read_text()))
    return settings | gunicorn | OTHER_NAMES | BOTO3_NAMES


@pytest.mark.parametrize("name", ["compose.yaml", "compose.hosts.yaml"])
def test_every_variable_given_to_certify_is_one_it_reads(name):
    services = compose(name)["services"]
    given = {variable for service in CERTIFY_SERVICES for variable in services[service]["environment"]}
    assert given - read_names() == set()


def test_several_hosts_share_the_bucket_the_database_and_the_secrets_but_no_disk():
    document = compose("compose.hosts.yaml")
    services = document["services"]
    web, worker = services["web"], services["worker"]
    for service in (web, worker):
        environment = service["environment"]
        assert environment["CERTIFY_STORAGE_URL"].startswith("s3://")
        assert "CERTIFY_STORAGE_DIR" not in environment
        assert "volumes" not in service, "a replica shares no disk"
        assert environment["CERTIFY_AUDIT_KEY_FILE"].startswith("/run/secrets/")
        assert str(service["deploy"]["replicas"]).startswith("${")  # N and M set at start
    assert {key: web["environment"][key] for key in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL")} == \
        {key: worker["environment"][key] for key in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL")}
    replica = "\n".join(services["db-replica"]["command"])
    assert "pg_basebackup -h db -U replicator" in replica and " -R " in replica
    init = (ROOT / "deploy" / "postgres" / "primary-init.sh").read_text()
    assert "REPLICATION" in init and "host replication replicator" in init
    assert "web:8000" in (ROOT / "deploy" / "nginx-hosts.conf").read_text()
