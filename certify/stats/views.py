"""The statistics page (charts drawn in the browser from each chart's JSON) and the CSV of
every chart's data."""

import csv
import io

from flask import Blueprint, abort, jsonify, render_template

from certify.auth.models import Role
from certify.auth.permissions import roles_required
from certify.core.spreadsheets import neutralise
from certify.i18n import current_language
from certify.stats.queries import QUERIES
from certify.stats.tiers import TIER_QUERIES

bp = Blueprint("stats", __name__)

# Every table of the page, by key (the application charts, then the tiers and grades).
TABLES = {**QUERIES, **TIER_QUERIES}


def _table(key: str):
    query = TABLES.get(key)
    if query is None:
        abort(404)
    return query(current_language())


@bp.route("/admin/statistics")
@roles_required(Role.ADMIN)
def index():
    tables = [query(current_language()) for query in TABLES.values()]
    return render_template("admin/statistics.html", tables=tables)


@bp.route("/admin/statistics/<key>.json")
@roles_required(Role.ADMIN)
def chart_data(key: str):
    table = _table(key)
    return jsonify(key=table.key, title=str(table.title), chart=table.chart,
                   columns=[str(column) for column in table.columns], rows=table.rows)


@bp.route("/admin/statistics/<key>.csv")
@roles_required(Role.ADMIN)
def chart_csv(key: str):
    table = _table(key)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(column) for column in table.columns])
    writer.writerows([[neutralise(value) for value in row] for row in table.rows])
    return buffer.getvalue().encode("utf-8-sig"), 200, {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="certify-{table.key}.csv"'}
