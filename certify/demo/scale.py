"""Volume data: ``flask demo load --scale N`` adds N applications in every state, with the rows
each state implies, fast enough for 100,000: the bulk path beside the services (inserts in
chunks, ids chosen here), for what the services would take hours to make one by one.

What each state carries, as the workflow leaves it (``tests/integration/test_demo_data.py``
checks this against applications the services took to the same state, table by table and
column by column, so the two cannot drift apart unnoticed):

- ``draft``: part of the self-assessment answered; ``withdrawn``: half of them were submitted;
- ``submitted`` and beyond: a submission (answers, self-score), the pledge;
- ``assigned``: a pending lead assignment; ``under_assessment``: accepted, a score sheet being
  filled; ``assessed`` and beyond: the sheet submitted with a recommendation, an evaluation report;
- ``approved`` / ``rejected``: the administrator's decision;
- ``in_notice``: on a batch whose notice is running; ``listed`` / ``revoked`` / ``expired``: on an
  announced batch, with a certificate (revoked or expired as the state says) numbered after the
  existing counters, which are moved on;
- in the audit log, each application's history along the workflow's own table (``STEPS``,
  checked against it before loading): opened, each transition, the assignment, the submitted
  sheet, the certificate issued and rendered, revoked or expired; and each batch's events. The
  chain stays whole and keyed: ``flask audit verify`` passes.

Simplifications, documented: evaluation reports share one placeholder PDF and each certificate
has a one-page PDF of its own naming its number, instead of being rendered; evidence files are
left out. Every organisation gets one applicant account (password ``certify-demo``); the demo's
administrator and assessors (``load_demo``) do the rest. Running it again adds N more.
"""

from __future__ import annotations

import random
import secrets
import time
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import func, insert, select, text, update

from certify import storage
from certify.applications.kinds import kind_of
from certify.applications.models import Application, Submission
from certify.assessment.models import (
    AssessorRole,
    Assignment,
    AssignmentStatus,
    EvaluationReport,
    Recommendation,
    ScoreSheet,
)
from certify.audit.services import record_event, record_events
from certify.auth.models import Role, User
from certify.certificates.models import (
    Certificate,
    CertificateCounter,
    CertificateStatus,
    RenderState,
    RevocationReason,
)
from certify.certificates.numbers import format_number, number_prefix
from certify.certificates.services import last_valid_day, validity_years
from certify.demo.builders import best_answer
from certify.extensions import db
from certify.organisations.credit_code import ALPHABET, check_character
from certify.organisations.models import Organisation, OrganisationKind
from certify.organisations.reference import cities
from certify.publication.models import Batch, BatchEntry, BatchStatus, Decision, DecisionOutcome
from certify.rulesets import current_registry
from certify.rulesets.applied import freeze
from certify.rulesets.forms import for_engine
from certify.scoring import applicable_indicators, score
from certify.timeutil import LOCAL_TIMEZONE, local_today, utcnow
from certify.workflow import ANNOUNCED, DECIDED, Action, Status, find

CHUNK = 2000
APPLICATIONS_PER_ORGANISATION = 5
BATCH_SIZE = 500
VARIANTS = 6
# Share of the applications in each state (sums to 1).
STATUS_SHARES = {
    Status.DRAFT: .10, Status.SUBMITTED: .05, Status.ASSIGNED: .04, Status.UNDER_ASSESSMENT: .05,
    Status.ASSESSED: .05, Status.APPROVED: .04, Status.REJECTED: .05, Status.IN_NOTICE: .03,
    Status.LISTED: .45, Status.REVOKED: .02, Status.EXPIRED: .07, Status.WITHDRAWN: .05,
}
KIND_SHARES = {"factory": .55, "product": .25, "supply_chain": .15}
# GB/T 4754-2017 classes: steelmaking, caustic soda, cement, turbines, motors, paper, rice,
# liquor, computers, metal structures.
INDUSTRIES = ("3120", "2612", "3011", "3413", "3811", "2221", "1311", "1512", "3911", "3311")
WORDS = ("绿源", "天府", "蜀能", "川江", "青峰", "锦城", "嘉陵", "岷山", "峨眉", "金沙", "凉山", "巴蜀",
         "安宁", "雅砻", "沱江", "龙泉", "翠屏", "长宁", "宏达", "恒昌", "瑞丰", "鑫源", "华西", "新川")
TRADES = {"3120": "钢铁", "2612": "化工", "3011": "建材", "3413": "机械", "3811": "电气", "2221": "纸业",
          "1311": "食品", "1512": "酒业", "3911": "电子", "3311": "金属制品"}
# The workflow's actions that lead to each state (a withdrawn application was withdrawn as a
# draft, or after its submission); checked against the workflow's table before loading.
STEPS = {
    Status.DRAFT: (),
    Status.WITHDRAWN: (Action.WITHDRAW,),
    Status.SUBMITTED: (Action.SUBMIT,),
    Status.ASSIGNED: (Action.SUBMIT, Action.ASSIGN),
    Status.UNDER_ASSESSMENT: (Action.SUBMIT, Action.ASSIGN, Action.ACCEPT),
    Status.ASSESSED: (Action.SUBMIT, Action.ASSIGN, Action.ACCEPT, Action.REPORT),
    Status.APPROVED: (Action.SUBMIT, Action.ASSIGN, Action.ACCEPT, Action.REPORT, Action.APPROVE),
    Status.REJECTED: (Action.SUBMIT, Action.ASSIGN, Action.ACCEPT, Action.REPORT, Action.REJECT),
    Status.IN_NOTICE: (Action.SUBMIT, Action.ASSIGN, Action.ACCEPT, Action.REPORT, Action.APPROVE,
                       Action.OPEN_NOTICE),
    Status.LISTED: (Action.SUBMIT, Action.ASSIGN, Action.ACCEPT, Action.REPORT, Action.APPROVE,
                    Action.OPEN_NOTICE, Action.ANNOUNCE),
    Status.REVOKED: (Action.SUBMIT, Action.ASSIGN, Action.ACCEPT, Action.REPORT, Action.APPROVE,
                     Action.OPEN_NOTICE, Action.ANNOUNCE, Action.REVOKE),
    Status.EXPIRED: (Action.SUBMIT, Action.ASSIGN, Action.ACCEPT, Action.REPORT, Action.APPROVE,
                     Action.OPEN_NOTICE, Action.ANNOUNCE, Action.EXPIRE),
}
AFTER_SUBMISSION = frozenset(STATUS_SHARES) - {Status.DRAFT, Status.WITHDRAWN}
ASSESSED_OR_LATER = DECIDED | {Status.ASSESSED}
# A one-page PDF that stands in for every volume evaluation report.
PLACEHOLDER_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 842 595]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def _volume_certificate_pdf(number: str) -> bytes:
    """A one-page PDF of its own for each volume certificate, naming its number (rendering
    tens of thousands of real certificates would take hours; one is rendered for real with
    ``flask certificates render`` after marking it pending)."""
    text = f"BT /F1 24 Tf 72 500 Td (Volume demonstration certificate {number}) Tj ET".encode("ascii")
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
            b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 842 595]/Contents 4 0 R"
            b"/Resources<</Font<</F1 5 0 R>>>>>>endobj\n"
            + f"4 0 obj<</Length {len(text)}>>stream\n".encode("ascii") + text + b"\nendstream endobj\n"
            b"5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\n"
            b"trailer<</Root 1 0 R>>\n%%EOF\n")


def _next_id(model) -> int:
    return (db.session.execute(select(func.max(model.id))).scalar() or 0) + 1


def _insert(model, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        db.session.execute(insert(model), rows[start:start + CHUNK])


def _statuses(count: int, rnd: random.Random, shares: dict) -> list[Status]:
    statuses = [status for status, share in shares.items() for _ in range(round(count * share))]
    statuses = (statuses + [next(iter(shares))] * count)[:count]
    rnd.shuffle(statuses)
    return statuses


def _credit_code(city_code: str, serial: int) -> str:
    digits = []
    for _ in range(6):
        serial, rest = divmod(serial, len(ALPHABET))
        digits.append(ALPHABET[rest])
    first17 = f"91{city_code}MAD{''.join(reversed(digits))}"
    return first17 + check_character(first17)


class _Answers:
    """A few answer sets per (rule set, industry), scored once, shared by many applications."""

    def __init__(self, rnd: random.Random):
        self.rnd = rnd
        self._cache = {}

    def pick(self, rule_set, industry):
        key = (rule_set.id, industry)
        if key not in self._cache:
            self._cache[key] = [self._variant(rule_set, industry, n) for n in range(VARIANTS)]
        return self.rnd.choice(self._cache[key])

    def _variant(self, rule_set, industry, n):
        rnd = random.Random(f"{rule_set.id}:{industry}:{n}")
        answers = {indicator.id: _answer(indicator, rnd, weak=n / VARIANTS)
                   for indicator in applicable_indicators(rule_set, industry)}
        terms = current_registry().terms(rule_set)
        result = score(rule_set, for_engine(rule_set, answers), industry=industry, threshold=terms.threshold)
        return answers, result.total, result.passed, freeze(result, terms)


def _answer(indicator, rnd: random.Random, weak: float):
    poor = rnd.random() < weak * 0.6
    if indicator.type == "veto":
        return False
    if indicator.type == "requirement":
        return not (poor and rnd.random() < 0.2)
    if indicator.type == "choice":
        options = sorted(indicator.options, key=lambda option: option.points)
        return (rnd.choice(options) if poor else options[-1]).key
    if indicator.is_computed or indicator.scoring == "limit":
        return best_answer(indicator)
    if indicator.type == "metric":
        if indicator.bands:
            band = rnd.choice(indicator.bands) if poor else max(indicator.bands, key=lambda b: b.points)
            return str(band.at)
        return str(indicator.leading)
    top, step = Decimal(indicator.max), Decimal(indicator.step or 1)
    return str(step * rnd.randint(0, int(top / step)) if poor else top)


def _rule_sets(on: date) -> dict:
    registry = current_registry()
    found = {}
    for kind in KIND_SHARES | {"park": 0}:
        sets = registry.candidates(kind, on) if kind_of(kind).rule_set_per_subject else [registry.in_force(kind, on)]
        if sets:
            found[kind] = sets
    return found


def _local_date(moment: datetime) -> date:
    return moment.astimezone(LOCAL_TIMEZONE).date()


def load_scale(count: int, *, seed: int = 9, echo=print, shares: dict | None = None,
               batch_size: int = BATCH_SIZE, kinds: dict | None = None, rule_sets_on: date | None = None) -> dict:
    """Add ``count`` applications (and their organisations, accounts, assessments, decisions,
    batches and certificates) in bulk; the caller commits. Returns counts of what was added.
    ``shares`` maps states to their share (default ``STATUS_SHARES``); batches hold
    ``batch_size`` entries. ``kinds`` maps kinds to their share (default ``KIND_SHARES``, and one
    organisation in twenty a park); ``rule_sets_on`` is the day whose rule sets the applications
    were opened under (default today). Needs ``load_demo()`` first (its administrator and
    assessors)."""
    started = time.perf_counter()
    check_steps()
    rnd = random.Random(seed + _next_id(Application))
    admin = db.session.execute(select(User).where(User.role == Role.ADMIN).order_by(User.id)).scalars().first()
    assessors = db.session.execute(select(User).where(User.role == Role.ASSESSOR, User.is_active.is_(True))
                                   .order_by(User.id)).scalars().all()
    if admin is None or not assessors:
        raise RuntimeError("Load the ordinary demo data first (an administrator and assessors).")
    now = utcnow()
    today = local_today()
    rule_sets = _rule_sets(rule_sets_on or today)
    kind_shares = {kind: share for kind, share in (kinds or KIND_SHARES).items() if kind != "park"}
    park_share = 0.05 if kinds is None else kinds.get("park", 0)
    answers = _Answers(rnd)
    frozen = {rule_set.id: rule_set.to_dict() for sets in rule_sets.values() for rule_set in sets}
    placeholder = storage.store_bytes(PLACEHOLDER_PDF)
    from certify.auth.services import hash_password
    from certify.demo import DEMO_PASSWORD

    password_hash = hash_password(DEMO_PASSWORD)
    city_list = cities()

    # ---- organisations and their applicant accounts ----------------------------------------
    organisation_count = max(1, -(-count // APPLICATIONS_PER_ORGANISATION))
    first_org, first_user = _next_id(Organisation), _next_id(User)
    organisations, users = [], []
    for n in range(organisation_count):
        org_id, city = first_org + n, rnd.choice(city_list)
        is_park = rnd.random() < park_share
        industry = None if is_park else rnd.choice(INDUSTRIES)
        word = rnd.choice(WORDS) + rnd.choice(WORDS)
        name = (f"{city.name_zh}{word}经济开发区管理委员会" if is_park
                else f"{city.name_zh}{word}{TRADES[industry]}有限公司")
        organisations.append({
            "id": org_id, "name": f"{name}（{org_id}）", "city_code": city.code,
            "kind": OrganisationKind.PARK_COMMITTEE if is_park else OrganisationKind.ENTERPRISE,
            "credit_code": _credit_code(city.code, org_id), "industry_code": industry,
            "address": f"{city.name_zh}工业园区{rnd.randint(1, 300)}号", "contact_name": "联系人",
            "contact_phone": f"028-{rnd.randint(80000000, 89999999)}", "is_active": True,
            "created_at": now - timedelta(days=rnd.randint(400, 2000)),
        })
        users.append({
            "id": first_user + n, "email": f"org{org_id}@scale.example.com", "name": f"申报人{org_id}",
            "password_hash": password_hash, "role": Role.APPLICANT, "organisation_id": org_id,
            "is_active": True, "session_token": secrets.token_urlsafe(24),
            "created_at": organisations[-1]["created_at"],
        })
    _insert(Organisation, organisations)
    _insert(User, users)
    echo(f"  {len(organisations)} organisations and accounts ({time.perf_counter() - started:.0f} s)")

    # ---- applications and what each state implies --------------------------------------------
    rows = defaultdict(list)
    ids = {model: _next_id(model) for model in (Application, Submission, Assignment, ScoreSheet,
                                                  EvaluationReport, Decision)}

    def new_id(model):
        ids[model] += 1
        return ids[model] - 1

    listed, in_notice = [], []
    for status in _statuses(count, rnd, shares or STATUS_SHARES):
        n = rnd.randrange(organisation_count)
        organisation, user = organisations[n], users[n]
        if organisation["kind"] == OrganisationKind.PARK_COMMITTEE:
            kind = "park"
        else:
            kind = rnd.choices(list(kind_shares), weights=list(kind_shares.values()))[0]
        if kind not in rule_sets:
            continue
        rule_set = rnd.choice(rule_sets[kind])
        industry = organisation["industry_code"]
        answered, total, passed, self_score = answers.pick(rule_set, industry)
        created = now - timedelta(days=rnd.randint(0 if status == Status.DRAFT else 60, 1500),
                                  minutes=rnd.randint(0, 1440))
        if status in ANNOUNCED:
            # Announced lists run back four years; expired ones are the oldest.
            age = rnd.randint(3 * 365 + 40, 4 * 365) if status == Status.EXPIRED else rnd.randint(30, 3 * 365 - 30)
            created = now - timedelta(days=age + 120)
        app_id = new_id(Application)
        submitted = status in AFTER_SUBMISSION or (status == Status.WITHDRAWN and rnd.random() < .5)
        if status == Status.DRAFT:
            answered = dict(list(answered.items())[:rnd.randint(0, len(answered))])
        submitted_at = created + timedelta(days=rnd.randint(5, 40)) if submitted else None
        suffix = {"factory": "生产基地", "product": f"{rnd.choice(WORDS)}系列产品",
                  "supply_chain": "绿色供应链", "park": "园区"}[kind]
        rows[Application].append({
            "id": app_id, "organisation_id": organisation["id"], "kind": kind,
            "subject": organisation["name"].split("（")[0] + suffix, "subject_detail": "",
            "industry_code": industry, "status": status, "version": 1,
            "rule_set_id": rule_set.id, "rule_set_version": rule_set.version,
            "rule_set_sha256": rule_set.sha256, "rule_set_frozen": frozen[rule_set.id],
            "threshold": self_score["threshold"], "threshold_source": self_score["threshold_source"],
            "answers": answered, "answer_texts": {}, "not_applicable": {}, "remarks": {},
            "self_score_total": total if submitted else None,
            "self_score_passed": passed if submitted else None,
            "self_result": self_score if submitted and status != Status.DRAFT else None,
            "pledge_name": user["name"] if submitted else None,
            "pledge_accepted_at": submitted_at, "return_note": None, "returned_at": None,
            "created_by_id": user["id"], "created_at": created,
            "updated_at": submitted_at or created, "submitted_at": submitted_at,
        })
        if not submitted:
            continue
        rows[Submission].append({
            "id": new_id(Submission), "application_id": app_id, "number": 1, "submitted_at": submitted_at,
            "submitted_by_id": user["id"], "answers": answered, "remarks": {}, "evidence": [],
            "self_score": self_score, "pledge_name": user["name"]})
        if status in (Status.SUBMITTED, Status.WITHDRAWN):
            continue
        assessor = rnd.choice(assessors)
        assigned_at = submitted_at + timedelta(days=rnd.randint(1, 10))
        assessment_status = (AssignmentStatus.PENDING if status == Status.ASSIGNED else
                             AssignmentStatus.ACCEPTED if status == Status.UNDER_ASSESSMENT else
                             AssignmentStatus.SUBMITTED)
        reported_at = assigned_at + timedelta(days=rnd.randint(10, 30))
        assignment_id = new_id(Assignment)
        rows[Assignment].append({
            "id": assignment_id, "application_id": app_id, "assessor_id": assessor.id,
            "agency_id": assessor.organisation_id, "role": AssessorRole.LEAD, "submission_number": 1,
            "status": assessment_status, "assigned_by_id": admin.id, "assigned_at": assigned_at,
            "assigned_on": _local_date(assigned_at), "due_on": _local_date(assigned_at) + timedelta(days=30),
            "responded_at": None if status == Status.ASSIGNED else assigned_at + timedelta(days=1),
            "decline_reason": None,
            "submitted_at": reported_at if assessment_status == AssignmentStatus.SUBMITTED else None,
            "ended_at": None})
        if status == Status.ASSIGNED:
            continue
        is_assessed = status in ASSESSED_OR_LATER
        rejected = status == Status.REJECTED
        rows[ScoreSheet].append({
            "id": new_id(ScoreSheet), "assignment_id": assignment_id, "answers": answered, "answer_texts": {},
            "notes": {}, "not_applicable": {},
            "site_visit_on": _local_date(assigned_at) + timedelta(days=7), "site_visit_participants": "",
            "site_visit_findings": "现场核查与自评价一致。" if is_assessed else "",
            "recommendation": (Recommendation.REJECT if rejected else Recommendation.APPROVE) if is_assessed else None,
            "return_questions": "", "conclusion": "符合评价要求。" if is_assessed and not rejected else "",
            "highlights": None, "total": total, "passed": passed,
            "result": self_score if is_assessed else None, "created_at": assigned_at,
            "updated_at": reported_at, "submitted_at": reported_at if is_assessed else None, "version": 1})
        if not is_assessed:
            continue
        rows[EvaluationReport].append({
            "id": new_id(EvaluationReport), "application_id": app_id, "sha256": placeholder.sha256,
            "size": placeholder.size, "generated_at": reported_at})
        if status not in DECIDED:
            continue
        decided_at = reported_at + timedelta(days=rnd.randint(3, 20))
        rows[Decision].append({
            "id": new_id(Decision), "application_id": app_id,
            "outcome": DecisionOutcome.REJECTED if rejected else DecisionOutcome.APPROVED,
            "reason": "评价得分未达到要求。" if rejected else "评价报告结论为符合要求。",
            "decided_by_id": admin.id, "decided_at": decided_at})
        if status in ANNOUNCED:
            listed.append((rows[Application][-1], decided_at, organisation, status))
        elif status == Status.IN_NOTICE:
            in_notice.append(rows[Application][-1])

    batches, entries, certificates = _batches(listed, in_notice, admin, now, today, placeholder, batch_size)
    for model in (Application, Submission, Assignment, ScoreSheet, EvaluationReport, Decision):
        _insert(model, rows[model])
    _insert(Batch, batches)
    _insert(BatchEntry, entries)
    _insert(Certificate, certificates)
    _move_counters(certificates)
    _advance_sequences()
    events = _record_histories(rows, batches, entries, certificates, admin)
    summary = {"organisations": len(organisations), "applications": len(rows[Application]),
               "batches": len(batches), "certificates": len(certificates), "events": events}
    record_event("demo.scale_loaded", actor=None, object_type="system", details=summary)
    echo(f"  {summary['applications']} applications, {len(batches)} batches, "
         f"{len(certificates)} certificates ({time.perf_counter() - started:.0f} s)")
    return summary


def check_steps() -> None:
    """Refuse to load when the workflow's table no longer leads along ``STEPS`` to each state
    (the volume data would hold histories the system cannot make)."""
    for status, steps in STEPS.items():
        for actions in (steps, (Action.SUBMIT, Action.WITHDRAW)) if status == Status.WITHDRAWN else (steps,):
            reached = Status.DRAFT
            for action in actions:
                step = find(reached, action)
                if step is None:
                    raise RuntimeError(f"the workflow no longer allows {action.value} from {reached.value} "
                                       f"on the way to {status.value}: update STEPS in {__name__}")
                reached = step.target
            if reached != status:
                raise RuntimeError(f"STEPS to {status.value} end at {reached.value}: update {__name__}")


def _event(action, at, actor_id, object_type, object_id, **details) -> dict:
    return {"action": action, "created_at": at, "actor_id": actor_id, "object_type": object_type,
            "object_id": object_id, "details": details}


def _step(action, app, assignment, sheets, decision, batch, certificate, admin) -> tuple:
    """When ``action`` was taken on ``app``, by whom, and what its event adds."""
    if action == Action.SUBMIT:
        return app["submitted_at"], app["created_by_id"], {}
    if action == Action.WITHDRAW:
        return app["updated_at"] + timedelta(days=3), app["created_by_id"], {}
    if action == Action.ASSIGN:
        return assignment["assigned_at"], admin.id, {
            "lead_id": assignment["assessor_id"], "second_id": None, "due_on": assignment["due_on"].isoformat()}
    if action == Action.ACCEPT:
        return assignment["responded_at"], assignment["assessor_id"], {}
    if action == Action.REPORT:
        return assignment["submitted_at"], assignment["assessor_id"], {"sheets": [sheets[assignment["id"]]["id"]]}
    if action in (Action.APPROVE, Action.REJECT):
        return decision["decided_at"], admin.id, {}
    if action in (Action.OPEN_NOTICE, Action.ANNOUNCE):
        moment = batch["notice_opened_at"] if action == Action.OPEN_NOTICE else batch["announced_at"]
        return moment, admin.id, {"batch_id": batch["id"]}
    if action == Action.REVOKE:
        return certificate["revoked_at"], admin.id, {"certificate": certificate["number"]}
    return certificate["expired_at"], None, {"certificate": certificate["number"]}


def _record_histories(rows, batches, entries, certificates, admin) -> int:
    """Each application's history in the audit log, as the services would have recorded it:
    opened, every transition of its path (``STEPS``) with the assignment, the submitted sheet,
    the certificate issued and rendered, revoked or expired; and each batch's own events.
    Appended to the chain (keyed like any event) a few thousand applications at a time."""
    assignments = {row["application_id"]: row for row in rows[Assignment]}
    sheets = {row["assignment_id"]: row for row in rows[ScoreSheet]}
    decisions = {row["application_id"]: row for row in rows[Decision]}
    batch_of = {entry["application_id"]: entry["batch_id"] for entry in entries}
    batch_rows = {batch["id"]: batch for batch in batches}
    issued = {certificate["application_id"]: certificate for certificate in certificates}
    count = 0
    for batch in batches:
        events = [_event("batch.created", batch["created_at"], admin.id, "batches", batch["id"],
                         title=batch["title"], kinds=batch["kinds"]),
                  _event("batch.notice_opened", batch["notice_opened_at"], admin.id, "batches", batch["id"],
                         notice=[batch["notice_starts_on"].isoformat(), batch["notice_ends_on"].isoformat()])]
        if batch["announced_at"]:
            events.append(_event("batch.announced", batch["announced_at"], admin.id, "batches", batch["id"]))
        count += record_events(events)
    events = []
    for app in rows[Application]:
        app_id, applicant = app["id"], app["created_by_id"]
        assignment = assignments.get(app_id)
        decision, certificate = decisions.get(app_id), issued.get(app_id)
        batch = batch_rows.get(batch_of.get(app_id))
        events.append(_event("application.opened", app["created_at"], applicant, "applications", app_id,
                             kind=app["kind"], subject=app["subject"],
                             rule_set={"id": app["rule_set_id"], "version": app["rule_set_version"],
                                       "sha256": app["rule_set_sha256"]}))
        steps = STEPS[app["status"]]
        if app["status"] == Status.WITHDRAWN and app["submitted_at"]:
            steps = (Action.SUBMIT, Action.WITHDRAW)
        reached = Status.DRAFT
        for action in steps:
            target = find(reached, action).target
            at, actor, extra = _step(action, app, assignment, sheets, decision, batch, certificate, admin)
            reason = decision["reason"] if action in (Action.APPROVE, Action.REJECT) else ""
            if action == Action.ASSIGN:
                events.append(_event("assignment.created", at, admin.id, "assignments", assignment["id"],
                                     application_id=app_id, assessor_id=assignment["assessor_id"], role="lead"))
            events.append(_event(f"application.{action.value}", at, actor, "applications", app_id,
                                 **{"from": reached.value, "to": target.value, "reason": reason}, **extra))
            if action == Action.REPORT:
                sheet = sheets[assignment["id"]]
                events.insert(-1, _event("score_sheet.submitted", at, actor, "score_sheets", sheet["id"],
                                         assignment_id=assignment["id"], application_id=app_id, role="lead",
                                         total=str(sheet["total"]), passed=sheet["passed"]))
            if action == Action.ANNOUNCE:
                events += [
                    _event("certificate.issued", at, admin.id, "certificates", certificate["id"],
                           number=certificate["number"], application_id=app_id),
                    _event("certificate.rendered", certificate["rendered_at"], None, "certificates",
                           certificate["id"], number=certificate["number"], sha256=certificate["pdf_sha256"],
                           size=certificate["pdf_size"], signed=False)]
            if action in (Action.REVOKE, Action.EXPIRE):
                events.append(_event(f"certificate.{target.value}", at, actor, "certificates", certificate["id"],
                                     number=certificate["number"]))
            reached = target
        if len(events) >= CHUNK:
            count += record_events(events)
            events = []
    return count + record_events(events)


def _batches(listed, in_notice, admin, now, today, placeholder, batch_size):
    batch_id, entry_id, certificate_id = _next_id(Batch), _next_id(BatchEntry), _next_id(Certificate)
    batches, entries, certificates = [], [], []
    sequences = _current_counters()
    prefix, years = number_prefix(), validity_years()
    listed.sort(key=lambda item: item[1])  # by decision date: batches follow one another

    def add_batch(apps, *, announced_at):
        nonlocal batch_id, entry_id
        starts = _local_date(announced_at) - timedelta(days=20) if announced_at else today - timedelta(days=3)
        title = (f"{starts.year}年四川省绿色制造名单（第{batch_id}批）"
                 + ("" if announced_at else "公示"))
        batches.append({
            "id": batch_id, "title": title, "kinds": sorted({a["kind"] for a in apps}),
            "status": BatchStatus.ANNOUNCED if announced_at else BatchStatus.IN_NOTICE,
            "notice_starts_on": starts, "notice_ends_on": starts + timedelta(days=14),
            "created_by_id": admin.id, "created_at": datetime.combine(starts, datetime.min.time(), timezone.utc) - timedelta(days=5),
            "notice_opened_at": datetime.combine(starts, datetime.min.time(), timezone.utc),
            "announced_at": announced_at, "announced_by_id": admin.id if announced_at else None, "version": 1,
            "kind_counts": dict(Counter(a["kind"] for a in apps)) if announced_at else None})
        for app in apps:
            entries.append({"id": entry_id, "batch_id": batch_id, "application_id": app["id"],
                            "added_at": batches[-1]["created_at"], "removed_at": None, "removal_reason": None})
            entry_id += 1
        batch_id += 1

    for start in range(0, len(listed), batch_size):
        group = listed[start:start + batch_size]
        announced_at = max(decided for _, decided, _, _ in group) + timedelta(days=25)
        if any(status == Status.EXPIRED for *_, status in group):
            announced_at = min(announced_at, now - timedelta(days=3 * 365 + 10))
        else:
            announced_at = min(announced_at, now - timedelta(days=2))
        add_batch([app for app, *_ in group], announced_at=announced_at)
        first_day = _local_date(announced_at)
        for app, _, organisation, status in group:
            sequences[(app["kind"], first_day.year)] += 1
            sequence = sequences[(app["kind"], first_day.year)]
            standard = app["rule_set_frozen"].get("standard") or {}
            revoked = status == Status.REVOKED
            pdf = storage.store_bytes(_volume_certificate_pdf(
                format_number(prefix, app["kind"], first_day.year, sequence)))
            certificates.append({
                "id": certificate_id, "application_id": app["id"], "kind": app["kind"], "year": first_day.year,
                "sequence": sequence, "number": format_number(prefix, app["kind"], first_day.year, sequence),
                "organisation_name": organisation["name"], "credit_code": organisation["credit_code"],
                "subject": app["subject"], "rule_set_id": app["rule_set_id"],
                "rule_set_version": app["rule_set_version"], "standard_code": standard.get("code", ""),
                "standard_title_zh": (standard.get("title") or {}).get("zh", ""),
                "standard_title_en": (standard.get("title") or {}).get("en", ""),
                "issued_at": announced_at, "issued_by_id": admin.id, "valid_from": first_day,
                "valid_until": last_valid_day(first_day, years),
                "status": (CertificateStatus.REVOKED if revoked else CertificateStatus.EXPIRED
                           if status == Status.EXPIRED else CertificateStatus.VALID),
                "revoked_at": min(announced_at + timedelta(days=200), now - timedelta(days=1)) if revoked else None,
                "revocation_reason": RevocationReason.NO_LONGER_CONFORMING if revoked else None,
                "revocation_note": "年度复核不再符合要求。" if revoked else None,
                "revoked_by_id": admin.id if revoked else None,
                "expired_at": now if status == Status.EXPIRED else None,
                "render_state": RenderState.RENDERED, "render_error": None, "rendered_at": announced_at,
                "pdf_sha256": pdf.sha256, "pdf_size": pdf.size, "is_signed": False,
                "signer_subject": None, "signer_fingerprint": None})
            certificate_id += 1
    for start in range(0, len(in_notice), batch_size):
        add_batch(in_notice[start:start + batch_size], announced_at=None)
    return batches, entries, certificates


def _current_counters() -> dict:
    counters = defaultdict(int)
    for kind, year, last in db.session.execute(
            select(CertificateCounter.kind, CertificateCounter.year, CertificateCounter.last)):
        counters[(kind, year)] = last
    return counters


def _move_counters(certificates) -> None:
    """Move each (kind, year) counter past the numbers given here, so issuing carries on."""
    last = defaultdict(int)
    for certificate in certificates:
        key = (certificate["kind"], certificate["year"])
        last[key] = max(last[key], certificate["sequence"])
    existing = set(_current_counters())
    for (kind, year), sequence in last.items():
        if (kind, year) in existing:
            db.session.execute(update(CertificateCounter).where(
                CertificateCounter.kind == kind, CertificateCounter.year == year).values(last=sequence))
        else:
            db.session.execute(insert(CertificateCounter).values(kind=kind, year=year, last=sequence))


def _advance_sequences() -> None:
    """On PostgreSQL, ids were chosen here: move each table's id sequence past them."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for model in (Organisation, User, Application, Submission, Assignment, ScoreSheet,
                  EvaluationReport, Decision, Batch, BatchEntry, Certificate):
        table = model.__tablename__
        # Table names of our own models, no user input.
        db.session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
            f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
