"""Belgian identifiers: INSZ (national or bis number), KBO enterprise number, association number.

Pure functions with no dependencies, shared by the hub, the adapters and the simulators.

INSZ is validated as MAGDA validates it: eleven digits and the mod-97 check in either century.
The month and day fields are deliberately *not* checked, because bis numbers (month + 20/40) and
MAGDA's test persons (month 61-72) are valid inputs.
"""

from __future__ import annotations

import re

__all__ = [
    "INSZ_PATTERN",
    "IdentifierError",
    "insz_century",
    "is_valid_insz",
    "mask_insz",
    "normalize_association_number",
    "normalize_insz",
    "normalize_kbo",
]

_SEP = r"[.\s-]?"
INSZ_PATTERN = re.compile(
    rf"(?<!\d)(\d{{2}}){_SEP}(\d{{2}}){_SEP}(\d{{2}}){_SEP}(\d{{3}}){_SEP}(\d{{2}})(?!\d)"
)
_SEPARATORS = re.compile(r"[.\s\-/]")
_ASSOCIATION = re.compile(r"^V\d{7}$")


class IdentifierError(ValueError):
    """An identifier is malformed; ``code`` is the stable contract error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _insz_check_ok(digits: str, century_prefix: str) -> bool:
    base = int(century_prefix + digits[:9])
    return 97 - (base % 97) == int(digits[9:])


def insz_century(insz: str) -> int:
    """Return 1900 or 2000 depending on which century the check digits were computed for."""
    digits = _SEPARATORS.sub("", insz)
    if _insz_check_ok(digits, ""):
        return 1900
    if _insz_check_ok(digits, "2"):
        return 2000
    raise IdentifierError("INVALID_INSZ", "INSZ check digits do not match")


def is_valid_insz(value: str) -> bool:
    """True when ``value`` (separators allowed) is eleven digits with a valid mod-97 check."""
    digits = _SEPARATORS.sub("", value)
    if len(digits) != 11 or not digits.isdigit():
        return False
    return _insz_check_ok(digits, "") or _insz_check_ok(digits, "2")


def normalize_insz(value: str) -> str:
    """Return the eleven digits of a valid INSZ, or raise :class:`IdentifierError`."""
    digits = _SEPARATORS.sub("", value)
    if len(digits) != 11 or not digits.isdigit():
        raise IdentifierError("INVALID_INSZ", "an INSZ has exactly 11 digits")
    if not (_insz_check_ok(digits, "") or _insz_check_ok(digits, "2")):
        raise IdentifierError("INVALID_INSZ", "INSZ check digits do not match (mod 97)")
    return digits


def normalize_kbo(value: str) -> str:
    """Return the ten digits of a valid KBO enterprise number (dots, spaces, BE prefix allowed)."""
    cleaned = _SEPARATORS.sub("", value.strip().upper())
    cleaned = cleaned.removeprefix("BE")
    if len(cleaned) == 9 and cleaned.isdigit():
        cleaned = "0" + cleaned
    if len(cleaned) != 10 or not cleaned.isdigit() or cleaned[0] not in "01":
        raise IdentifierError(
            "INVALID_KBO", "a KBO number has 10 digits and starts with 0 or 1"
        )
    if 97 - (int(cleaned[:8]) % 97) != int(cleaned[8:]):
        raise IdentifierError("INVALID_KBO", "KBO number check digits do not match (mod 97)")
    return cleaned


def normalize_association_number(value: str) -> str:
    """Return a valid association number (``V`` + 7 digits, from V0001001)."""
    cleaned = value.strip().upper()
    if not _ASSOCIATION.match(cleaned) or int(cleaned[1:]) < 1001:
        raise IdentifierError(
            "INVALID_ASSOCIATION_NUMBER",
            "an association number is V followed by 7 digits, from V0001001",
        )
    return cleaned


def mask_insz(insz: str) -> str:
    """Mask an INSZ for display: keep the birth date part's year and the last two digits."""
    digits = _SEPARATORS.sub("", insz)
    if len(digits) != 11:
        return "***********"
    return f"{digits[:2]}*******{digits[9:]}"
