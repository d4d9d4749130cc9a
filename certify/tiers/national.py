"""The national recommendation package: the province puts provincially listed factories and parks
forward to the national round (工信厅节函〔2025〕390号: "拟申报单位需为省级绿色制造名单";
docs/sources/tiers-and-zero-carbon.md §1.2, §3).

The package is one zip: ``summary.xlsx`` (one row per unit, columns in the order
``CERTIFY_NATIONAL_SUMMARY_COLUMNS``) and, in a folder per unit, its certificate PDF and its
evaluation report PDF where certify has one. The national platform's own column order was not
found (sources §3): the default order is built from what certify keeps and is **provisional**;
the sheet and the README in the zip say so.

Each candidate carries the recommendation guard's figures (``guard.compare``): its key
indicators against the average of the other listed units of the same kind and industry class.
"""

import io
import re
import zipfile
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from certify import storage
from certify.applications.kinds import kind_of
from certify.applications.models import Application
from certify.assessment.models import AssessorRole, Assignment, AssignmentStatus, EvaluationReport, ScoreSheet
from certify.audit.services import record_event
from certify.auth.models import Role
from certify.certificates.models import Certificate
from certify.certificates.services import certificates_by_application
from certify.core.spreadsheets import to_xlsx
from certify.exceptions import PermissionDenied, ServiceError
from certify.extensions import db
from certify.management.services import certified_values_of, key_metrics
from certify.organisations.models import Organisation
from certify.organisations.reference import cities_by_code, industry_label
from certify.publication.models import Batch, BatchEntry
from certify.tiers import guard
from certify.tiers.models import CityDecision, CityReview
from certify.timeutil import local_date, utcnow
from certify.workflow import Status

# The kinds the national round takes (390号: factories and parks).
NATIONAL_KINDS = ("factory", "park")

PROVISIONAL_NOTE = ("注：本表列序为暂定（国家平台汇总表的列序未见公开文本），可通过 CERTIFY_NATIONAL_SUMMARY_COLUMNS 调整；"
                    "关键指标为认定时的核定值（评价机构核验值，无则为自评价值）。")


@dataclass
class Candidate:
    """A listed factory or park as the package and its page show it."""

    application: Application
    certificate: Certificate | None
    batch_title: str
    metrics: list = field(default_factory=list)   # the key indicators (scoring ``Indicator``)
    values: dict = field(default_factory=dict)    # indicator id -> {"value", "source"}
    comparisons: list = field(default_factory=list)  # guard.Comparison, in ``metrics`` order
    evaluation_total: object = None
    opinion: str = ""

    @property
    def organisation(self) -> Organisation:
        return self.application.organisation

    @property
    def flagged(self) -> list:
        return [c for c in self.comparisons if c.is_flagged]

    def metric(self, indicator_id: str):
        return next(m for m in self.metrics if m.id == indicator_id)


def _require_admin(user) -> None:
    if user is None or user.role != Role.ADMIN:
        raise PermissionDenied(_l("Only administrators can do this."))


def listed_applications(*, kind: str | None = None, city: str | None = None,
                        year: int | None = None) -> list[Application]:
    """The provincially listed factories and parks, filtered by kind, city and year of listing
    (the certificate's year), by city then name."""
    query = (select(Application).join(Organisation, Organisation.id == Application.organisation_id)
             .join(Certificate, Certificate.application_id == Application.id)
             .where(Application.status == Status.LISTED, Application.kind.in_(NATIONAL_KINDS)))
    if kind in NATIONAL_KINDS:
        query = query.where(Application.kind == kind)
    if city:
        query = query.where(Organisation.city_code == city)
    if year:
        query = query.where(Certificate.year == year)
    return list(db.session.execute(query.order_by(Organisation.city_code, Organisation.name,
                                                  Application.id)).scalars())


def _batch_titles(application_ids) -> dict[int, str]:
    """Application id -> the title of the announced batch (the provincial list) it is on."""
    rows = db.session.execute(
        select(BatchEntry.application_id, Batch.title).join(Batch, Batch.id == BatchEntry.batch_id)
        .where(BatchEntry.application_id.in_(application_ids), BatchEntry.removed_at.is_(None),
               Batch.announced_at.is_not(None))
        .order_by(Batch.announced_at)).all()
    return {application_id: title for application_id, title in rows}


def _recommendation_opinions(application_ids) -> dict[int, str]:
    """Application id -> the city bureau's latest recommending opinion."""
    rows = db.session.execute(
        select(CityReview.application_id, CityReview.opinion)
        .where(CityReview.application_id.in_(application_ids), CityReview.decision == CityDecision.RECOMMENDED)
        .order_by(CityReview.reviewed_at, CityReview.id)).all()
    return {application_id: opinion for application_id, opinion in rows}


def _evaluation_totals(application_ids) -> dict:
    """Application id -> the total of the lead assessor's last submitted score sheet (the
    evaluation's score)."""
    rows = db.session.execute(
        select(Assignment.application_id, ScoreSheet.total).join(ScoreSheet, ScoreSheet.assignment_id == Assignment.id)
        .where(Assignment.application_id.in_(application_ids), Assignment.role == AssessorRole.LEAD,
               Assignment.status == AssignmentStatus.SUBMITTED)
        .order_by(Assignment.application_id, Assignment.submission_number, Assignment.id)).all()
    return {application_id: total for application_id, total in rows}  # the last round's comes last


def _unit(application: Application, values: dict) -> guard.Unit:
    organisation = application.organisation
    return guard.Unit(application.id, organisation.city_code, organisation.industry_code,
                      {key: entry["value"] for key, entry in values.items()})


def guard_settings() -> tuple[str, int]:
    """The guard's region and minimum of peers (``CERTIFY_GUARD_REGION``, ``CERTIFY_GUARD_MIN_PEERS``)."""
    return (current_app.config.get("CERTIFY_GUARD_REGION", guard.PROVINCE),
            int(current_app.config.get("CERTIFY_GUARD_MIN_PEERS", 3)))


def candidates(applications: list[Application]) -> list[Candidate]:
    """``applications`` as candidates, each with its certificate, list, opinion and the guard's
    comparisons against the other listed units of its kind and industry class."""
    ids = [a.id for a in applications]
    certificates = certificates_by_application(ids)
    titles = _batch_titles(ids) if ids else {}
    opinions = _recommendation_opinions(ids) if ids else {}
    totals = _evaluation_totals(ids) if ids else {}
    region, min_peers = guard_settings()
    peers = _listed_peers({(a.kind, a.organisation.industry_code) for a in applications})
    peer_values = certified_values_of([peer for group in peers.values() for peer in group])
    others = [a for a in applications if a.id not in peer_values]  # candidates are listed: none, as a rule
    own_values = peer_values | (certified_values_of(others) if others else {})
    result = []
    for application in applications:
        values = own_values[application.id]
        metrics = key_metrics(application)
        group = peers[(application.kind, application.organisation.industry_code)]
        comparisons = guard.compare(
            _unit(application, values), [guard.Metric(m.id, m.better) for m in metrics],
            [_unit(peer, peer_values[peer.id]) for peer in group], region=region, min_peers=min_peers)
        result.append(Candidate(application, certificates.get(application.id), titles.get(application.id, ""),
                                metrics, values, comparisons, totals.get(application.id),
                                opinions.get(application.id, "")))
    return result


def _listed_peers(keys) -> dict[tuple[str, str | None], list[Application]]:
    """(kind, industry class) -> the listed units of that kind and class (parks: those without
    a class), for each of ``keys``; one query."""
    peers = {key: [] for key in keys}
    if not peers:
        return peers
    listed = db.session.execute(
        select(Application).join(Organisation, Organisation.id == Application.organisation_id)
        .options(contains_eager(Application.organisation))
        .where(Application.status == Status.LISTED, Application.kind.in_({kind for kind, _ in peers}))
        .order_by(Application.id)).scalars()
    for application in listed:
        group = peers.get((application.kind, application.organisation.industry_code))
        if group is not None:
            group.append(application)
    return peers


# ---- the summary sheet -------------------------------------------------------------------------

def _number(value) -> str:
    return "" if value is None else f"{value:f}" if hasattr(value, "is_finite") else str(value)


def _key_indicators(candidate: Candidate) -> str:
    parts = []
    for metric in candidate.metrics:
        value = candidate.values.get(metric.id, {}).get("value")
        unit = f" {metric.unit.zh}" if metric.unit is not None else ""
        parts.append(f"{metric.title.zh}：{'—' if value is None else value}{unit}")
    return "；".join(parts)


def _score(candidate: Candidate) -> str:
    own = _number(candidate.application.self_score_total) or "—"
    evaluated = _number(candidate.evaluation_total) or "—"
    return f"{own} / {evaluated}"


# Column key -> (heading, value of a candidate). Headings are in Chinese: the sheet goes to the
# national platform. The sheet numbers its rows itself (序号, the first column).
COLUMNS = {
    "organisation": ("单位名称", lambda c: c.organisation.name),
    "credit_code": ("统一社会信用代码", lambda c: c.organisation.credit_code or ""),
    "city": ("市（州）", lambda c: getattr(cities_by_code().get(c.organisation.city_code), "name_zh", "")),
    "industry": ("所属行业", lambda c: industry_label(c.organisation.industry_code, "zh")),
    "kind": ("类别", lambda c: kind_of(c.application.kind).title.zh),
    "subject": ("申报对象", lambda c: c.application.subject),
    "provincial_batch": ("省级名单批次", lambda c: c.batch_title),
    "certificate_number": ("证书编号", lambda c: c.certificate.number if c.certificate else ""),
    "valid_until": ("有效期至", lambda c: c.certificate.valid_until.isoformat() if c.certificate else ""),
    "score": ("自评价得分/评价得分", lambda c: _score(c)),
    "key_indicators": ("关键指标（核定值及单位）", lambda c: _key_indicators(c)),
    "opinion": ("推荐意见", lambda c: c.opinion),
}


def summary_columns() -> list[str]:
    """The configured columns, each a key of ``COLUMNS``; an unknown key is refused by name."""
    keys = list(current_app.config.get("CERTIFY_NATIONAL_SUMMARY_COLUMNS") or COLUMNS)
    unknown = [key for key in keys if key not in COLUMNS]
    if unknown:
        raise ServiceError(_l("CERTIFY_NATIONAL_SUMMARY_COLUMNS names columns certify does not know: "
                              "%(keys)s. Known: %(known)s.", keys=", ".join(unknown), known=", ".join(COLUMNS)))
    return keys


def summary_workbook(chosen: list[Candidate], columns: list[str]) -> bytes:
    """The summary sheet (``core.spreadsheets.to_xlsx``: cells that could be read as formulas are
    neutralised): the provisional note in the first row, the headings, then one numbered row
    per candidate (序号 first, then ``columns``)."""
    rows = [{key: COLUMNS[key][1](candidate) for key in columns} for candidate in chosen]
    return to_xlsx(rows, [(key, COLUMNS[key][0]) for key in columns], title=PROVISIONAL_NOTE,
                   sheet_name="推荐汇总")


# ---- the package -------------------------------------------------------------------------------

def _folder(position: int, candidate: Candidate) -> str:
    name = re.sub(r'[\\/:*?"<>|\s]+', "_", candidate.organisation.name).strip("_")[:60]
    return f"{position:02d}-{name}"


def _latest_report(application: Application) -> EvaluationReport | None:
    return db.session.execute(
        select(EvaluationReport).where(EvaluationReport.application_id == application.id)
        .order_by(EvaluationReport.generated_at.desc(), EvaluationReport.id.desc()).limit(1)
    ).scalar_one_or_none()


def _unit_files(candidate: Candidate) -> tuple[dict[str, str], list[str]]:
    """File name -> stored sha256 of the unit's PDFs, and what is missing."""
    files, missing = {}, []
    certificate = candidate.certificate
    if certificate is not None and certificate.pdf_sha256 and storage.exists(certificate.pdf_sha256):
        files[f"证书-{certificate.number}.pdf"] = certificate.pdf_sha256
    else:
        missing.append("证书PDF")
    report = _latest_report(candidate.application)
    if report is not None and storage.exists(report.sha256):
        files["评价报告.pdf"] = report.sha256
    else:
        missing.append("评价报告PDF")
    return files, missing


@dataclass(frozen=True)
class Package:
    filename: str
    data: bytes


def select_candidates(application_ids: list[int]) -> list[Application]:
    """The chosen applications, each a listed factory or park; anything else is refused."""
    ids = list(dict.fromkeys(application_ids))
    if not ids:
        raise ServiceError(_l("Choose at least one listed factory or park."), field="application_ids")
    found = {a.id: a for a in db.session.execute(select(Application).where(Application.id.in_(ids))).scalars()}
    wrong = [i for i in ids if i not in found or found[i].status != Status.LISTED
             or found[i].kind not in NATIONAL_KINDS]
    if wrong:
        raise ServiceError(_l("Only listed factories and parks can be put into the package."),
                           field="application_ids")
    return [found[i] for i in ids]


def build_package(admin, application_ids: list[int]) -> Package:
    """The zip of the chosen units, recorded in the audit log with what went into it."""
    _require_admin(admin)
    columns = summary_columns()
    chosen = candidates(select_candidates(application_ids))
    buffer = io.BytesIO()
    contents = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("summary.xlsx", summary_workbook(chosen, columns))
        for position, candidate in enumerate(chosen, start=1):
            folder = _folder(position, candidate)
            files, missing = _unit_files(candidate)
            for name, sha256 in files.items():
                with storage.open_file(sha256) as handle:
                    archive.writestr(f"{folder}/{name}", handle.read())
            contents.append({"application_id": candidate.application.id,
                             "reference": candidate.application.reference, "folder": folder,
                             "files": sorted(files), "missing": missing,
                             "flagged": [c.indicator_id for c in candidate.flagged]})
        archive.writestr("README.txt", _readme(columns, contents))
    today = local_date(utcnow())
    record_event("national_package.built", actor=admin, object_type="national_package",
                 details={"units": contents, "columns": columns})
    return Package(f"national-recommendation-{today:%Y%m%d}.zip", buffer.getvalue())


def _readme(columns: list[str], contents: list[dict]) -> str:
    lines = ["国家层面绿色制造推荐材料包", "",
             "summary.xlsx：推荐汇总表。" + PROVISIONAL_NOTE,
             "列序：" + "、".join(COLUMNS[key][0] for key in columns), "",
             "各单位文件夹："]
    for item in contents:
        line = f"- {item['folder']}：{'、'.join(item['files']) or '无文件'}"
        if item["missing"]:
            line += f"（缺：{'、'.join(item['missing'])}）"
        lines.append(line)
    return "\n".join(lines) + "\n"


def listing_years() -> list[int]:
    """The years with listed factories or parks, newest first (the page's year filter)."""
    return list(db.session.execute(
        select(Certificate.year).join(Application, Application.id == Certificate.application_id)
        .where(Application.status == Status.LISTED, Application.kind.in_(NATIONAL_KINDS))
        .distinct().order_by(Certificate.year.desc())).scalars())
