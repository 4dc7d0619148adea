"""Civil-status acts (DABS, through MAGDA): extracts and copies for ``civil-status.act``."""

from adapters.civil_status.adapter import CivilStatusAdapter

__all__ = ["CivilStatusAdapter"]
