import pytest

from hub.identifiers import (
    IdentifierError,
    insz_century,
    is_valid_insz,
    mask_insz,
    normalize_association_number,
    normalize_insz,
    normalize_kbo,
)


@pytest.mark.parametrize(
    ("insz", "century"),
    [("85073003328", 1900), ("93051822361", 1900), ("00012556777", 2000), ("17073003384", 2000)],
)
def test_valid_insz_in_both_centuries(insz: str, century: int) -> None:
    assert is_valid_insz(insz)
    assert insz_century(insz) == century


def test_bis_numbers_and_magda_test_persons_are_valid() -> None:
    # Month 61-72 (MAGDA test persons) and month + 20/40 (bis) must not be refused.
    from simulators.population_data import WELL_KNOWN

    assert is_valid_insz(WELL_KNOWN["household_head"])
    base = "854730001"  # month 47 = bis number with known sex
    check = 97 - int(base) % 97
    assert is_valid_insz(f"{base}{check:02d}")


@pytest.mark.parametrize("bad", ["46061400106", "8507300332", "850730033288", "8507300332x", ""])
def test_invalid_insz_refused_with_code(bad: str) -> None:
    assert not is_valid_insz(bad)
    with pytest.raises(IdentifierError) as info:
        normalize_insz(bad)
    assert info.value.code == "INVALID_INSZ"


def test_insz_separators_are_accepted_and_removed() -> None:
    assert normalize_insz("85.07.30-033.28") == "85073003328"


def test_kbo_accepts_dots_spaces_and_prefix() -> None:
    assert normalize_kbo("BE 0566.988.259") == "0566988259"
    assert normalize_kbo("566988259") == "0566988259"
    with pytest.raises(IdentifierError) as info:
        normalize_kbo("0566.988.258")
    assert info.value.code == "INVALID_KBO"
    with pytest.raises(IdentifierError):
        normalize_kbo("2566988259")


def test_association_number() -> None:
    assert normalize_association_number("v0001001") == "V0001001"
    for bad in ("V0001000", "V123", "X0001001"):
        with pytest.raises(IdentifierError) as info:
            normalize_association_number(bad)
        assert info.value.code == "INVALID_ASSOCIATION_NUMBER"


def test_mask_keeps_only_year_and_check_digits() -> None:
    assert mask_insz("85073003328") == "85*******28"
