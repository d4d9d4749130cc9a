"""Choosing the rule set for a new application, and the deployment's threshold overrides."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from certify.rulesets.registry import Registry, RuleSetUnavailable, version_key


@pytest.fixture
def factory(rule_sets):
    """The factory rule set as an open-ended file (the shipped 2018 file ends on 2025-12-30)."""
    return replace(rule_sets["factory-gbt-36132-2018"], effective_until=None)


def test_the_newest_rule_set_in_force_is_chosen(factory):
    later = replace(factory, version="2.0", effective_from=date(2025, 12, 31))
    registry = Registry([factory, later])
    assert registry.in_force("factory", date(2025, 12, 30)) is factory
    assert registry.in_force("factory", date(2026, 1, 1)) is later


def test_an_industry_specific_rule_set_beats_the_general_one(factory):
    steel = replace(factory, id="factory-steel", industries=("31",))
    registry = Registry([factory, steel])
    assert registry.in_force("factory", date(2026, 1, 1), "3120") is steel
    assert registry.in_force("factory", date(2026, 1, 1), "30") is factory
    assert registry.in_force("factory", date(2026, 1, 1)) is factory


def test_a_rule_set_past_its_end_is_not_in_force(factory):
    ended = replace(factory, effective_until=date(2025, 12, 30))
    with pytest.raises(RuleSetUnavailable, match="no factory rule set is in force on 2026-01-01"):
        Registry([ended]).in_force("factory", date(2026, 1, 1))


def test_gb_t_36132_2025_takes_over_from_2018_on_2025_12_31(rule_sets):
    registry = Registry(rule_sets.values())
    assert registry.in_force("factory", date(2025, 12, 30)).id == "factory-gbt-36132-2018"
    assert registry.in_force("factory", date(2025, 12, 31)).id == "factory-gbt-36132-2025"
    assert registry.in_force("factory", date(2026, 12, 6), "3011").id == "factory-gbt-36132-2025"


def test_every_product_rule_set_in_force_is_a_candidate(rule_sets):
    registry = Registry(rule_sets.values())
    ids = {rs.id for rs in registry.candidates("product", date(2026, 1, 1))}
    assert ids == {
        "product-gbt-32161-2015",
        "product-room-air-conditioner-tcagp-0001-2016",
        "product-degradable-plastics-gbt-32163.2-2015",
        "product-optical-network-terminal-ydb-192-2017",
    }


def test_get_returns_the_highest_version_unless_asked(factory):
    versions = [replace(factory, version=v) for v in ("1.9", "1.10", "1.2")]
    registry = Registry(versions)
    assert registry.get(factory.id).version == "1.10"
    assert registry.get(factory.id, "1.2").version == "1.2"
    with pytest.raises(RuleSetUnavailable, match="version '3'"):
        registry.get(factory.id, "3")
    assert version_key("1.10") > version_key("1.9")


def test_a_province_sets_its_own_threshold(factory):
    registry = Registry([factory], {factory.id: "75"})
    assert registry.threshold(factory) == Decimal("75")
    result = registry.score(factory, {})
    assert result.threshold == Decimal("75")


def test_a_threshold_override_that_is_not_a_number_is_refused(factory):
    with pytest.raises(ValueError, match="CRITERIA_THRESHOLDS"):
        Registry([factory], {factory.id: "sixty"})
