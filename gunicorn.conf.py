"""gunicorn settings for certify: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Sync workers: on the measured machine they always balanced the load, where gthread workers with
keep-alive sometimes sent every connection to one process (see docs/deploy.md). Every value can
be set from the environment.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# One process per core is the usual start for pages that wait little on the database.
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count())
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 2
# Recycle each worker after a number of requests (jittered, so they do not all restart at
# once): a long-lived process never keeps memory it grew on an unusual request. 0 turns it off.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", str(max_requests // 10)))
# The access log goes to standard output unless GUNICORN_ACCESS_LOG names a file, or is empty.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
errorlog = "-"
# The application is built in each worker after the fork, so no database connection is shared.
preload_app = False
# Addresses whose X-Forwarded-Proto gunicorn itself trusts; the application reads the proxy's
# headers through ProxyFix when CERTIFY_PROXY_FIX is set (see wsgi.py).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
