"""Settings of the DOSIS simulator.

Every default is a fact of ``../shared/domain/dosis.md`` (its id in brackets); where the
evidence disagrees with itself the simulator serves both readings by default and a setting
narrows it to one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "CONNECTOR_UPLOAD_PATH",
    "DEFAULT_PHASES",
    "RESULT_PATH",
    "TOKEN_PATH",
    "WIKI_UPLOAD_PATH",
    "DosisSimulatorSettings",
]

CONNECTOR_UPLOAD_PATH = "/api/v2/dossiers"
"""The upload path of the public client [F13]."""
WIKI_UPLOAD_PATH = "/api/v2/dosis/dossiers"
"""The upload path of the public API page [F14]."""
RESULT_PATH = "/api/v1/dosis/resultaten/perUploadId"
"""The read-back of one upload [F15]."""
TOKEN_PATH = "/authorization/ws/oauth/v2/token"
"""The token endpoint's path on the authorisation server [F01]."""

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
    "Beslissing": ("InWacht", "Beslist", "Goedgekeurd", "Stopgezet", "Stopzetting", "Geweigerd"),
    "Beroep": ("InWacht", "Beslist", "Goedgekeurd", "Stopgezet", "Stopzetting", "Geweigerd"),
    "Uitvoering": ("KlaarVoorBetaling", "Betaald", "DeelsUitbetaald", "Uitgevoerd"),
    "Afgerond": ("ErkendVergund", "DeelsGoedgekeurd"),
}
"""VlaamsFase → the VlaamsCode row the connector lists for it [F40, F41].

The evidence does not pair a code with its phase (the connector draws them independently, the
DBS sample has ``Afgerond``/``Goedgekeurd``) [F42]: by default any listed code goes with any
listed phase; ``enforce_pairing`` makes the rows binding.
"""


def _default_phases() -> dict[str, tuple[str, ...]]:
    return dict(DEFAULT_PHASES)


@dataclass(frozen=True)
class DosisSimulatorSettings:
    """Where the simulator listens, which clients it knows, and how it behaves.

    ``clients`` maps a client_id to the PEM certificate whose key signs that client's JWT client
    assertions; ``client_kids`` optionally pins the ``kid`` each client's assertions must carry
    (any non-empty ``kid`` otherwise) [F08]. ``upload_paths`` are the paths uploads are served
    on (both readings of the evidence by default [F13, F14]). ``identification_keys`` is how the
    ``Identificatie`` object's keys must be spelt: ``connector`` (``bron``/``dossierNummer``,
    what the public client writes), ``annotated`` (``Bron``/``DossierNummer``) or ``either``
    [F18]. ``phases`` is the accepted VlaamsFase → VlaamsCode set; ``enforce_pairing`` refuses
    a code outside its phase's row. ``process_delay_ms`` is how long an accepted upload reads
    404 before its result shows (0: at once) [F58]. ``token_ttl_s`` is the lifetime of an
    access token (0: expired at once). ``notifications`` serves the Mijn Burgerprofiel
    notification endpoint (not part of the public evidence; kept for the hub's optional
    notifications). ``port`` 0 picks a free port; the started simulator reports the real one.
    """

    host: str = "127.0.0.1"
    port: int = 8702
    clients: dict[str, Path] = field(default_factory=dict)
    client_kids: dict[str, str] = field(default_factory=dict)
    upload_paths: tuple[str, ...] = (CONNECTOR_UPLOAD_PATH, WIKI_UPLOAD_PATH)
    result_path: str = RESULT_PATH
    token_path: str = TOKEN_PATH
    identification_keys: str = "either"
    phases: dict[str, tuple[str, ...]] = field(default_factory=_default_phases)
    enforce_pairing: bool = False
    process_delay_ms: int = 0
    token_ttl_s: int = 300
    notifications: bool = True
