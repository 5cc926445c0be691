"""The unified social credit code validator (GB 32100-2015)."""

import pytest
from django.core.exceptions import ValidationError

from accounts.validators import (
    CREDIT_CODE_ALPHABET,
    credit_code_check_character,
    normalize_credit_code,
    validate_credit_code,
)
from tests.factories import valid_credit_code

# Published codes of real companies; each passes the check digit.
REAL_CODES = [
    "91350100M000100Y43",
    "9144030071526726XG",
    "914403001922038216",
    "91330100716105852F",
    "91110000802100433B",
    "91110108551385082Q",
]


def error_code(value: str) -> str:
    with pytest.raises(ValidationError) as caught:
        validate_credit_code(value)
    return caught.value.code


@pytest.mark.parametrize("code", REAL_CODES)
def test_it_accepts_real_codes(code):
    validate_credit_code(code)
    assert credit_code_check_character(code[:17]) == code[17]


@pytest.mark.parametrize("code", REAL_CODES)
def test_it_accepts_lowercase_and_surrounding_spaces(code):
    validate_credit_code(f"  {code.lower()} ")
    assert normalize_credit_code(f"  {code.lower()} ") == code


@pytest.mark.parametrize("code", REAL_CODES)
def test_it_rejects_every_single_character_change(code):
    accepted = []
    for position in range(18):
        for char in CREDIT_CODE_ALPHABET:
            if char == code[position]:
                continue
            corrupted = code[:position] + char + code[position + 1 :]
            try:
                validate_credit_code(corrupted)
            except ValidationError as error:
                assert error.code == "checksum"
            else:
                accepted.append(corrupted)
    assert accepted == []


@pytest.mark.parametrize("code", REAL_CODES)
def test_it_rejects_swapped_neighbours(code):
    for position in range(16):
        a, b = code[position], code[position + 1]
        if a == b:
            continue
        swapped = code[:position] + b + a + code[position + 2 :]
        assert error_code(swapped) == "checksum", swapped


@pytest.mark.parametrize(
    "value", [REAL_CODES[0][:17], REAL_CODES[0] + "0", "", "9135010", REAL_CODES[0] * 2]
)
def test_it_rejects_the_wrong_length(value):
    with pytest.raises(ValidationError) as caught:
        validate_credit_code(value)
    assert caught.value.code == "length"
    assert caught.value.params == {"count": len(value)}


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_it_rejects_the_forbidden_letters(letter):
    # A code that would otherwise be well-formed, with the letter in the organisation code.
    first17 = REAL_CODES[0][:10] + letter + REAL_CODES[0][11:17]
    with pytest.raises(ValidationError) as caught:
        validate_credit_code(first17 + "0")
    assert caught.value.code == "charset"
    assert caught.value.params == {"chars": letter}


@pytest.mark.parametrize(
    "value", ["91350100M000100Y4!", "91350100M000100Y4 3", "９１350100M000100Y43"]
)
def test_it_rejects_punctuation_and_full_width_digits(value):
    assert error_code(value) in {"charset", "length"}


def test_it_names_every_bad_character_once():
    with pytest.raises(ValidationError) as caught:
        validate_credit_code("91350100MOOO100Y4S")
    assert caught.value.params == {"chars": "O S"}


def test_the_alphabet_has_the_31_characters_of_the_standard():
    assert len(CREDIT_CODE_ALPHABET) == 31
    assert not set("IOZSV") & set(CREDIT_CODE_ALPHABET)


def test_the_factory_generates_valid_distinct_codes():
    codes = {valid_credit_code(n) for n in range(200)}
    assert len(codes) == 200
    for code in codes:
        validate_credit_code(code)
