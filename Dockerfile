# certify: one image for the web processes and the job workers (see docs/deploy.md).
# Only what the README's commands use: Debian's python:3.11, the Makefile's SYSTEM_PACKAGES,
# `pip install .`, compiled translations, the Chinese PDF font prepared once, `flask db upgrade`.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    FLASK_APP=certify PYTHONPATH=/app \
    CERTIFY_STORAGE_DIR=/data/storage GUNICORN_BIND=0.0.0.0:8000

# The same packages as SYSTEM_PACKAGES in the Makefile (Chinese PDF output), plus the
# PostgreSQL client that `flask backup create` runs (pg_dump).
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-noto-cjk libharfbuzz-subset0 \
        libpango-1.0-0 libpangoft2-1.0-0 postgresql-client \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY . .
# The application reads templates/, criteria/ and migrations/ beside the package, so it runs
# from /app (PYTHONPATH); `pip install .` brings in its dependencies.
RUN pip install . \
 && pybabel compile -d certify/translations \
 && SECRET_KEY=build-only-not-used-at-run-time flask pdf prepare-fonts \
 && useradd --system --home /app certify \
 && mkdir -p /data/storage && chown -R certify /data /app/instance

USER certify
EXPOSE 8000
# Web by default; the worker service runs `flask worker` with the same image.
CMD ["sh", "-c", "flask db upgrade && exec gunicorn -c gunicorn.conf.py wsgi:app"]
