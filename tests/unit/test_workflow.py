"""The workflow table: every state × action × role, against the design's list of transitions."""

import itertools
from types import SimpleNamespace

import pytest

from certify.auth.models import Role
from certify.workflow import (
    Action,
    Status,
    TransitionNotAllowed,
    available_actions,
    check,
)

# The design's transitions, written out independently of the module's table:
# (from, action, who) -> to
EXPECTED = {
    ("draft", "submit", "applicant"): "submitted",
    ("draft", "withdraw", "applicant"): "withdrawn",
    ("submitted", "withdraw", "applicant"): "withdrawn",
    ("submitted", "assign", "admin"): "assigned",
    ("submitted", "return", "admin"): "draft",
    ("submitted", "return", "city"): "draft",  # the city bureau's pre-review
    ("assigned", "accept", "assessor"): "under_assessment",
    ("assigned", "decline", "assessor"): "submitted",
    ("assigned", "withdraw_assignment", "admin"): "submitted",
    ("under_assessment", "withdraw_assignment", "admin"): "submitted",
    ("under_assessment", "report", "assessor"): "assessed",
    ("assessed", "return", "admin"): "draft",
    ("assessed", "approve", "admin"): "approved",
    ("assessed", "reject", "admin"): "rejected",
    ("approved", "open_notice", "admin"): "in_notice",
    ("in_notice", "uphold_objection", "admin"): "assessed",
    ("in_notice", "announce", "admin"): "listed",
    ("listed", "revoke", "admin"): "revoked",
    ("listed", "expire", "system"): "expired",
}
ACTORS = {"applicant": SimpleNamespace(role=Role.APPLICANT),
          "assessor": SimpleNamespace(role=Role.ASSESSOR),
          "admin": SimpleNamespace(role=Role.ADMIN),
          "city": SimpleNamespace(role=Role.CITY),
          "system": None}
CASES = list(itertools.product(Status, Action, ACTORS))


@pytest.mark.parametrize("status, action, who", CASES, ids=lambda v: getattr(v, "value", v))
def test_each_action_is_allowed_only_where_the_design_allows_it(status, action, who):
    application = SimpleNamespace(status=status)
    expected = EXPECTED.get((status.value, action.value, who))
    if expected is None:
        with pytest.raises(TransitionNotAllowed):
            check(application, action, ACTORS[who])
    else:
        assert check(application, action, ACTORS[who]).target == Status(expected)


def test_the_table_checks_every_combination():
    assert len(CASES) == len(Status) * len(Action) * 5 == 900


def test_available_actions_lists_what_the_role_may_do_now():
    draft = SimpleNamespace(status=Status.DRAFT)
    assert available_actions(draft, ACTORS["applicant"]) == [Action.SUBMIT, Action.WITHDRAW]
    assert available_actions(draft, ACTORS["admin"]) == []
    assessed = SimpleNamespace(status=Status.ASSESSED)
    assert set(available_actions(assessed, ACTORS["admin"])) == {Action.RETURN, Action.APPROVE, Action.REJECT}


def test_a_refusal_says_what_was_refused_and_why(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(TransitionNotAllowed) as error:
            check(SimpleNamespace(status=Status.LISTED), Action.SUBMIT, ACTORS["applicant"])
        assert str(error.value.message) == "“Submit” is not possible while the application is “Listed”."
        with pytest.raises(TransitionNotAllowed) as error:
            check(SimpleNamespace(status=Status.ASSESSED), Action.APPROVE, ACTORS["assessor"])
        assert "Your role cannot" in str(error.value.message)
