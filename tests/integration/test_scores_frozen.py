"""A submitted result cannot silently change: the threshold is pinned when an application is
opened and frozen with the whole result when it is submitted, an assessor's sheet freezes its
result the same way, and only an administrator's audited re-score scores them again."""

import contextlib
import dataclasses
import io
import json
import re
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import select

from certify import rulesets, storage
from certify.assessment.reports import latest_report
from certify.audit.models import AuditEvent
from certify.rulesets.applied import self_result, sheet_result, terms_of
from certify.rulesets.models import Rescore
from certify.rulesets.registry import Registry
from certify.workflow import Status
from tests import factories
from tests.integration.test_assessment import EN, client_for
from tests.integration.test_assessment_scoring import accepted, score_all, submit

SUPPLY_CHAIN = "supply-chain-miit-2016"


@contextlib.contextmanager
def deployment_thresholds(app, thresholds: dict, *, rule_set_changes: dict | None = None):
    """The deployment as restarted with other ``CRITERIA_THRESHOLDS`` (and, with
    ``rule_set_changes``, with the supply-chain rule file edited in place)."""
    before = app.extensions[rulesets.EXTENSION]
    rule_sets = [dataclasses.replace(rs, **rule_set_changes) if rule_set_changes and rs.id == SUPPLY_CHAIN else rs
                 for rs in before.all()]
    app.extensions[rulesets.EXTENSION] = Registry(rule_sets, thresholds, vocabulary=before.vocabulary)
    try:
        yield
    finally:
        app.extensions[rulesets.EXTENSION] = before


def text_of(pdf: bytes) -> str:
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


def assessed_at_94(app, db):
    """A supply-chain application that passed at exactly 94.00 under a threshold of 94, assessed
    by a lead assessor who found the same; its report rendered."""
    with deployment_thresholds(app, {SUPPLY_CHAIN: "94"}):
        applicant = factories.make_user("applicant")
        application = factories.complete_application(applicant)
        application.answers = dict(application.answers) | {"X11": "2"}  # 100 - 6 = 94
        db.session.commit()
        browser = client_for(app, applicant)
        response = browser.post(f"/applications/{application.id}/submit",
                                data={"pledge_accepted": "y", "pledge_name": "周丽", "version": application.version})
        assert response.status_code == 302
        assert application.status == Status.SUBMITTED
        lead = factories.make_assessor()
        factories.assign(application, lead)
        db.session.commit()
        assessor_browser, assignment = accepted(app, application, lead)
        score_all(assessor_browser, assignment, dict(application.answers))
        assert submit(assessor_browser, assignment).status_code == 302
    assert application.status == Status.ASSESSED
    return application, assignment


def shown(app, application, admin):
    """What an administrator is shown of the application's results, as text."""
    browser = client_for(app, admin)
    pages = {
        "application": browser.get(f"/applications/{application.id}", headers=EN),
        "decision": browser.get(f"/admin/decisions/{application.id}", headers=EN),
        "assessment": browser.get(f"/assessment/applications/{application.id}", headers=EN),
        "statistics": browser.get("/admin/statistics/sections.json"),
    }
    assert all(page.status_code == 200 for page in pages.values()), {k: p.status_code for k, p in pages.items()}
    return {key: page.get_data(as_text=True) for key, page in pages.items()}


def score_panel(html: str) -> str:
    """The score as a page shows it: the self-score panel, or the decision page's assessed result."""
    return re.search(r'<aside class="score-panel".*?</aside>|<section class="assessed-result.*?</section>', html, re.S)[0]


@pytest.mark.renders_reports
def test_a_threshold_raised_after_submission_changes_no_shown_result_report_or_statistic(app, db):
    application, assignment = assessed_at_94(app, db)
    admin = factories.make_user("admin")
    db.session.commit()
    frozen_self, frozen_sheet = self_result(application).to_dict(), sheet_result(assignment.sheet).to_dict()
    assert (frozen_self["total"], frozen_self["passed"], frozen_self["threshold"]) == ("94.00", True, "94.00")
    assert terms_of(application).source == SUPPLY_CHAIN
    before = shown(app, application, admin)
    assert "94.00" in score_panel(before["decision"]) and "badge-ok" in score_panel(before["decision"])
    assert "Would pass" in score_panel(before["application"])
    report_before = text_of(storage.path_of(latest_report(application).sha256).read_bytes())
    assert "94.00/100.00" in report_before and "合格线94.00" in report_before

    with deployment_thresholds(app, {SUPPLY_CHAIN: "95", f"{SUPPLY_CHAIN}@1.2": "95"}):
        after = shown(app, application, admin)
        assert self_result(application).to_dict() == frozen_self
        assert sheet_result(assignment.sheet).to_dict() == frozen_sheet
        for key in ("application", "decision"):
            assert score_panel(after[key]) == score_panel(before[key]), key
        assert json.loads(after["statistics"]) == json.loads(before["statistics"])
        assert "Today's settings would give a pass mark of 95" in after["assessment"]
        # the report rendered again is the same report
        browser = client_for(app, admin)
        browser.post(f"/assessment/applications/{application.id}/report")
        db.session.expire_all()
        report_after = text_of(storage.path_of(latest_report(application).sha256).read_bytes())
    assert "94.00/100.00" in report_after and "合格线94.00" in report_after and "不通过" not in report_after


def test_no_threshold_or_rule_file_change_after_submission_changes_a_result(app, db):
    application, assignment = assessed_at_94(app, db)
    admin = factories.make_user("admin")
    db.session.commit()
    frozen_self, frozen_sheet = self_result(application).to_dict(), sheet_result(assignment.sheet).to_dict()
    panel = score_panel(shown(app, application, admin)["decision"])
    browser = client_for(app, admin)

    @settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(threshold=st.decimals(0, 100, places=2), key=st.sampled_from([SUPPLY_CHAIN, f"{SUPPLY_CHAIN}@1.2"]),
           file_threshold=st.decimals(0, 100, places=0))
    def check(threshold, key, file_threshold):
        with deployment_thresholds(app, {key: str(threshold)}, rule_set_changes={"threshold": file_threshold}):
            db.session.expire_all()
            assert self_result(application).to_dict() == frozen_self
            assert sheet_result(assignment.sheet).to_dict() == frozen_sheet
            page = browser.get(f"/admin/decisions/{application.id}", headers=EN).get_data(as_text=True)
            assert score_panel(page) == panel

    check()


def test_an_exact_version_override_applies_to_drafts_and_a_bare_id_to_applications_opened_after_it(app, db):
    applicant = factories.make_user("applicant")
    draft = factories.make_application(applicant)
    db.session.commit()
    assert (terms_of(draft).threshold, terms_of(draft).source) == (Decimal(70), "file")
    with deployment_thresholds(app, {SUPPLY_CHAIN: "80"}):
        # a bare id does not reach an application opened before it took effect ...
        assert terms_of(draft).threshold == Decimal(70)
        # ... but applies to one opened after
        later = factories.make_application(applicant)
        assert (terms_of(later).threshold, terms_of(later).source) == (Decimal(80), SUPPLY_CHAIN)
    with deployment_thresholds(app, {f"{SUPPLY_CHAIN}@1.2": "85"}):
        # id@version reaches every application of that version not yet submitted
        assert (terms_of(draft).threshold, terms_of(draft).source) == (Decimal(85), f"{SUPPLY_CHAIN}@1.2")
        assert terms_of(later).threshold == Decimal(85)


def test_an_administrator_rescores_with_todays_settings_and_the_earlier_result_is_kept(app, db):
    application, assignment = assessed_at_94(app, db)
    admin = factories.make_user("admin")
    db.session.commit()
    browser = client_for(app, admin)
    with deployment_thresholds(app, {f"{SUPPLY_CHAIN}@1.2": "95"}):
        refused = browser.post(f"/assessment/applications/{application.id}/rescore", data={"reason": "  "})
        assert refused.status_code == 302
        assert db.session.execute(select(Rescore)).first() is None
        response = browser.post(f"/assessment/applications/{application.id}/rescore",
                                data={"reason": "省厅 2026 年第 3 号通知调整合格线为 95 分"})
        assert response.status_code == 302
        db.session.expire_all()
        result = self_result(application)
        assert (str(result.total), result.threshold, result.passed) == ("94.00", Decimal(95), False)
        assert sheet_result(assignment.sheet).passed is False and application.self_score_passed is False
        rescores = db.session.execute(select(Rescore).order_by(Rescore.id)).scalars().all()
        assert [(r.score_sheet_id, r.previous["passed"], r.current["passed"]) for r in rescores] == [
            (None, True, False), (assignment.sheet.id, True, False)]
        event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "application.rescored")).scalar_one()
        assert event.actor_id == admin.id and event.details["terms"] == {"threshold": "95", "source": f"{SUPPLY_CHAIN}@1.2"}
        page = browser.get(f"/assessment/applications/{application.id}", headers=EN).get_data(as_text=True)
        assert "省厅 2026 年第 3 号通知调整合格线为 95 分" in page and "pass mark 94.00" in page and "pass mark 95" in page


def test_a_result_frozen_before_whole_results_were_kept_is_shown_as_recorded(app, db):
    # Applications submitted before results were frozen whole kept only the engine's summary.
    application = factories.make_submitted_application()
    db.session.commit()
    application.self_result = {key: application.self_result[key] for key in ("total", "max", "passed", "grade", "sections")}
    application.self_result["passed"] = False  # as recorded then, whatever today's threshold says
    db.session.commit()
    db.session.expire_all()
    result = self_result(application)
    assert (str(result.total), result.passed) == ("100.00", False)
