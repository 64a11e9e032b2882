import pytest

from gridkit import codes
from gridkit.errors import CodeError


@pytest.mark.parametrize("code", ["110101", "110101001", "110101001001", "330903100200"])
def test_valid_codes(code):
    assert codes.code_problem(code) is None


@pytest.mark.parametrize("code,reason", [
    ("11010100100", "11 characters"),
    ("11010A", "not all digits"),
    ("110100", "province or prefecture"),
    ("990101", "outside GB/T 2260"),
    ("110101700", "outside GB/T 10114"),
    ("110101001700", "community/village part 700"),
    (None, "missing"),
    ("", "the code is blank"),  # was "code '' is not all digits"
    ("   ", "the code is blank"),
])
def test_invalid_codes_say_why(code, reason):
    assert reason in codes.code_problem(code)


def test_full_width_digits_are_read_as_digits_and_named_where_refused():
    """A Chinese input method in full-width mode types １１０１０１: the same code."""
    assert codes.half_width("１１０１０１００１") == "110101001" and codes.half_width(None) is None
    assert codes.code_problem("１１０１０１") == "code '１１０１０１' is not all digits (its digits are full-width: type 110101)"
    with pytest.raises(CodeError, match="is not 15 digits \\(its digits are full-width: type 110101001001001\\)$"):
        codes.parse_grid_id("１１０１０１００１００１００１")
    with pytest.raises(CodeError, match="is not 15 digits$"):
        codes.parse_grid_id("11010100100100")


def test_provisional_ranges_only_when_asked():
    assert codes.code_problem("110101900600") is not None
    assert codes.code_problem("110101900600", provisional=True) is None
    assert codes.code_problem("990101", provisional=True) is None
    assert codes.is_provisional_code("110101900600")
    assert not codes.is_provisional_code("110101001001")


def test_grid_ids_and_parse_round_trip():
    ids = codes.grid_ids(["110101001001"] * 3, [1, 2, 999])
    assert ids.tolist() == ["110101001001001", "110101001001002", "110101001001999"]
    parsed = codes.parse_grid_id("110101001001002")
    assert parsed == {"county": "110101", "street": "110101001", "community": "110101001001",
                      "sequence": 2, "provisional": False}


def test_more_than_999_cells_is_an_error():
    with pytest.raises(CodeError, match="at most 999"):
        codes.grid_ids(["110101001001"], [1000])


def test_provisional_code_builders_stop_at_the_range_end():
    assert codes.provisional_street_code("110101", 0) == "110101900"
    assert codes.provisional_community_code("110101900", 399) == "110101900999"
    with pytest.raises(CodeError, match="supply community boundaries"):
        codes.provisional_community_code("110101900", 400)
