"""Settings of the DOSIS simulator."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["DEFAULT_PHASES", "DosisSimulatorSettings"]

DEFAULT_PHASES: dict[str, tuple[str, ...]] = {
    "Samenstelling": ("Geinitieerd", "Aangevraagd", "Ingediend"),
    "Behandeling": (
        "DossierOnvolledig",
        "DossierVolledig",
        "Ontvankelijk",
        "OnOntvankelijk",
        "InBehandeling",
        "KlaarVoorBeslissing",
    ),
    "Beslissing": ("InWacht", "Beslist", "Goedgekeurd", "Stopgezet", "Geweigerd"),
    "Uitvoering": ("Uitgevoerd",),
    "Afgerond": ("Goedgekeurd", "DeelsGoedgekeurd", "Geweigerd", "Stopgezet"),
}
"""VlaamsFase → accepted VlaamsCode values, as seen in integrators' data (magda.md §4).

There is no public normative list, hence a setting. The key order is the phase order: an upload
whose phase comes before the dossier's current phase is refused (Geweigerd) asynchronously.
"""


def _default_phases() -> dict[str, tuple[str, ...]]:
    return dict(DEFAULT_PHASES)


@dataclass(frozen=True)
class DosisSimulatorSettings:
    """Where the simulator listens, which clients it knows, and how it behaves.

    ``clients`` maps a client_id to the PEM certificate whose key signs that client's JWT client
    assertions. ``phases`` is the accepted VlaamsFase → VlaamsCode set, in phase order.
    ``process_delay_ms`` is how long an accepted upload stays ``InVerwerking`` before its result
    shows (0: at once). ``token_ttl_s`` is the lifetime of an access token (0: expired at once).
    ``port`` 0 picks a free port; the started simulator reports the real one.
    """

    host: str = "127.0.0.1"
    port: int = 8702
    clients: dict[str, Path] = field(default_factory=dict)
    phases: dict[str, tuple[str, ...]] = field(default_factory=_default_phases)
    process_delay_ms: int = 0
    token_ttl_s: int = 300
