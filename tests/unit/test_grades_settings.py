"""The cohort-grade and removal settings: defaults as documented, bad values refused by name."""

from decimal import Decimal

import pytest

from certify.config import SettingError, load_settings


def test_the_defaults_are_the_published_shares_and_the_provisional_choices():
    settings = load_settings({}, {})
    assert settings.certify_grade_cohort == "industry,province"
    assert settings.certify_grade_minimum_cohort == 20
    assert (settings.certify_grade_top_share, settings.certify_grade_second_share) == (Decimal("0.05"), Decimal("0.35"))
    assert settings.certify_grade_kinds == ("factory",)
    assert (settings.certify_removal_bottom_share, settings.certify_removal_consecutive_years,
            settings.certify_removal_kinds) == (Decimal("0.05"), 3, ("park",))


@pytest.mark.parametrize(("name", "value"), [
    ("CERTIFY_GRADE_COHORT", "industry,planet"),
    ("CERTIFY_GRADE_MINIMUM_COHORT", "0"),
    ("CERTIFY_GRADE_TOP_SHARE", "0.7"),       # with A's 0.35: more than everyone
    ("CERTIFY_REMOVAL_BOTTOM_SHARE", "1.5"),
    ("CERTIFY_REMOVAL_CONSECUTIVE_YEARS", "zero"),
])
def test_a_bad_value_is_refused_naming_the_variable(name, value):
    with pytest.raises(SettingError, match=name):
        load_settings({}, {name: value})
