"""Integers from client text: never a ValueError, however long the number."""

from hypothesis import given
from hypothesis import strategies as st

from onestack.http.numbers import SATURATED, decimal


def test_digits_are_numbers_and_anything_else_is_none():
    assert decimal("0042") == 42
    assert decimal("-7", signed=True) == -7
    assert decimal("-7") is None
    assert [decimal(text) for text in ("", "-", "4.2", " 4", "٣", "²", "0x10", "1e3")] == [None] * 8


def test_a_number_beyond_pythons_conversion_limit_saturates():
    assert decimal("9" * 5000) == SATURATED
    assert decimal("-" + "9" * 5000, signed=True) == -SATURATED
    assert decimal("0" * 5000 + "12") == 12  # leading zeros are not size


@given(st.integers(min_value=-10**39, max_value=10**39))
def test_every_integer_within_forty_digits_reads_back(number):
    assert decimal(str(number), signed=True) == number
