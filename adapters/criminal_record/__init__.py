"""Criminal-record extracts (through MAGDA), asynchronous: ``criminal-record.extract``."""

from adapters.criminal_record.adapter import CriminalRecordAdapter

__all__ = ["CriminalRecordAdapter"]
