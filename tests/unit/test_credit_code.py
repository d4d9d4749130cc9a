"""The unified social credit code check (GB 32100-2015)."""

import pytest

from certify.organisations.credit_code import (
    ALPHABET,
    CreditCodeError,
    is_valid_credit_code,
    normalise_credit_code,
)

# Codes published on real business licences.
REAL_CODES = [
    "914403001922038216",
    "91330100716105852F",
    "9144030071526726XG",
    "91110000802100433B",
]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_accepted(code):
    assert normalise_credit_code(code) == code


def test_lower_case_and_spaces_are_normalised():
    assert normalise_credit_code(" 9144030071526726xg ") == "9144030071526726XG"


@pytest.mark.parametrize("code", REAL_CODES)
def test_every_single_character_corruption_is_refused_with_a_reason(code):
    refused = 0
    for position in range(18):
        for replacement in ALPHABET:
            if replacement == code[position]:
                continue
            corrupted = code[:position] + replacement + code[position + 1:]
            with pytest.raises(CreditCodeError) as error:
                normalise_credit_code(corrupted)
            message = str(error.value.message)
            if position in range(2, 8) and not replacement.isdigit():
                assert "3–8" in message
            else:
                assert "check character" in message
            refused += 1
    assert refused == 18 * 30


@pytest.mark.parametrize("letter", "IOSVZ")
def test_letters_outside_the_alphabet_are_named(letter):
    code = REAL_CODES[0][:10] + letter + REAL_CODES[0][11:]
    with pytest.raises(CreditCodeError) as error:
        normalise_credit_code(code)
    assert f"Character 11 (“{letter}”)" in str(error.value.message)


@pytest.mark.parametrize("code", ["", "91440300192203821", "9144030019220382160"])
def test_wrong_lengths_are_refused_with_the_count(code):
    with pytest.raises(CreditCodeError) as error:
        normalise_credit_code(code)
    assert f"this one has {len(code)}" in str(error.value.message)


def test_is_valid_credit_code():
    assert is_valid_credit_code(REAL_CODES[1])
    assert not is_valid_credit_code(REAL_CODES[1][:-1] + "0")
