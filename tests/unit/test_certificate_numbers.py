"""Certificate numbers read the same however they are typed, and validity ends the day before
the anniversary."""

from datetime import date

import pytest

from certify.certificates.numbers import check_prefix, format_number, normalise_number
from certify.certificates.services import last_valid_day


@pytest.mark.parametrize("kind, year, sequence, number", [
    ("factory", 2026, 1, "SC-GF-2026-0001"),
    ("product", 2026, 42, "SC-GP-2026-0042"),
    ("park", 2027, 9999, "SC-GI-2027-9999"),
    ("supply_chain", 2027, 10000, "SC-GS-2027-10000"),
])
def test_numbers_have_prefix_kind_code_year_and_a_sequence_of_at_least_four_digits(app, kind, year, sequence, number):
    with app.app_context():  # the kinds' codes come from criteria/vocabulary/kinds.yaml
        assert format_number("SC", kind, year, sequence) == number


@pytest.mark.parametrize("typed", [
    "SC-GF-2026-0001", "  sc-gf-2026-0001 ", "ＳＣ－ＧＦ－２０２６－０００１", "SC–GF—2026‐0001",
    "SC - GF - 2026 - 0001", "sc\u3000gf-2026-0001".replace("\u3000", "-"),
])
def test_a_typed_number_is_trimmed_upper_cased_and_full_width_folded(typed):
    assert normalise_number(typed) == "SC-GF-2026-0001"


def test_nothing_typed_normalises_to_nothing():
    assert normalise_number(None) == "" == normalise_number("   ")


@pytest.mark.parametrize("prefix", ["", "sc", "S-C", "TOOLONGPREFIX", "四川"])
def test_a_prefix_must_be_short_capital_letters_or_digits(prefix):
    with pytest.raises(ValueError, match="CERTIFY_CERTIFICATE_PREFIX"):
        check_prefix(prefix)


@pytest.mark.parametrize("first_day, years, last_day", [
    (date(2026, 12, 1), 3, date(2029, 11, 30)),
    (date(2026, 1, 1), 3, date(2028, 12, 31)),
    (date(2028, 2, 29), 3, date(2031, 2, 28)),
    (date(2028, 2, 29), 4, date(2032, 2, 28)),
    (date(2026, 3, 1), 1, date(2027, 2, 28)),
])
def test_validity_ends_the_day_before_the_anniversary(first_day, years, last_day):
    assert last_valid_day(first_day, years) == last_day
