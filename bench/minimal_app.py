"""The reference for ``bench.lists``: a minimal Flask endpoint that runs the SQL statements a
real list page ran (read from ``BENCH_STATEMENTS``, captured by the benchmark) on the same
database through SQLAlchemy, and shows the rows of the largest result in a bare HTML table.
No login, sessions, translations, security headers, ORM objects or layout: what the real page
costs beyond this is the product's own overhead."""

import json
import os

from flask import Flask, render_template_string
from sqlalchemy import create_engine

from certify.config import database_url

app = Flask(__name__)
engine = create_engine(database_url(os.environ["DATABASE_URL"]))
with open(os.environ["BENCH_STATEMENTS"], encoding="utf-8") as handle:
    STATEMENTS = [(sql, tuple(params) if isinstance(params, list) else params)
                  for sql, params in json.load(handle)]
TABLE = """<!doctype html><title>list</title><table>
{% for row in rows %}<tr>{% for cell in row[:8] %}<td>{{ cell }}</td>{% endfor %}</tr>{% endfor %}
</table>"""


@app.route("/page")
def page():
    results = []
    with engine.connect() as connection:
        for sql, params in STATEMENTS:
            results.append(connection.exec_driver_sql(sql, params).all())
    return render_template_string(TABLE, rows=max(results, key=len))
