"""WSGI entry point: ``gunicorn wsgi:app``.

Behind a TLS proxy, set ``CERTIFY_PROXY_FIX`` to the number of proxies in front (usually 1):
the application then takes the client's address, scheme and host from their ``X-Forwarded-*``
headers (rate limits per client, ``https`` links). Never set it without such a proxy: anyone
could then claim any address.
"""

import os

from werkzeug.middleware.proxy_fix import ProxyFix

from certify import create_app

app = create_app()

_proxies = int(os.environ.get("CERTIFY_PROXY_FIX", "0") or 0)
if _proxies:
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=_proxies, x_proto=_proxies, x_host=_proxies,
                            x_port=_proxies)
