"""Signature levels (ETSI baseline profiles) and a tenant's long-term settings.

    B-B    the signature and the signer's certificate (XAdES-BES, PAdES B-B)
    B-T    + a time stamp over the signature from a time-stamping authority (XAdES-T)
    B-LT   + the validation data: certificate chain and OCSP/CRL answers (XAdES-LT-ish values,
           the PDF's document security store), so the document verifies after the signing
           certificate expired or the CA's services are gone
    B-LTA  + a document time stamp over all of it (PDF only; the XML stays at LT)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hub.errors import ConfigurationError

__all__ = ["LEVELS", "LongTermSpec"]

LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")


@dataclass(frozen=True)
class LongTermSpec:
    """A tenant's level and the services it needs: a TSA (B-T and up), an OCSP responder and/or
    a CRL distribution point and the CA roots the chain ends in (B-LT and up)."""

    level: str = "B-B"
    tsa_url: str = ""
    ocsp_url: str = ""
    crl_url: str = ""
    trust_roots: Path | None = None
    timeout_s: float = 5.0
    # Revocation answers are fetched again once this share of their validity has passed.
    refresh_fraction: float = 0.5

    @property
    def timestamped(self) -> bool:
        return self.level != "B-B"

    @property
    def long_term(self) -> bool:
        return self.level in ("B-LT", "B-LTA")

    def problems(self) -> list[str]:
        """What is missing for the level asked (empty: usable)."""
        if self.level not in LEVELS:
            return [f"signature level {self.level!r} is not one of {', '.join(LEVELS)}"]
        problems = []
        if self.timestamped and not self.tsa_url:
            problems.append(f"level {self.level} needs a tsa_url")
        if self.long_term and not (self.ocsp_url or self.crl_url):
            problems.append(f"level {self.level} needs an ocsp_url or a crl_url")
        if self.long_term and self.trust_roots is None:
            problems.append(f"level {self.level} needs trust_roots (the CA root certificates)")
        return problems

    def check(self) -> None:
        if problems := self.problems():
            raise ConfigurationError("; ".join(problems))
