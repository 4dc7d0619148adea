"""The PDFs the simulated back ends deliver: civil-status acts and criminal-record extracts.

:class:`DocumentFactory` renders each document once (reportlab, deterministic bytes) and, unless
sealing is off, seals it (pyHanko). Rendering and sealing are blocking work: the SOAP endpoint
runs them in a worker thread, never on the event loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

from hub.devpki import KeyPair
from simulators.magda.documents.act_pdf import (
    COPY,
    EXTRACT,
    ActDelivery,
    act_file_name,
    render_act_pdf,
)
from simulators.magda.documents.extract_pdf import (
    ExtractDocument,
    extract_file_name,
    render_extract_pdf,
)
from simulators.magda.documents.seal import DocumentSealer, default_seal_pair, sealer_for
from simulators.population_acts import CivilAct

__all__ = [
    "COPY",
    "EXTRACT",
    "ActDelivery",
    "DocumentFactory",
    "ExtractDocument",
    "act_file_name",
    "extract_file_name",
]


class DocumentFactory:
    """Renders, seals and caches documents; safe to call from several threads."""

    def __init__(self, *, seal: bool = True, seal_pair: KeyPair | None = None) -> None:
        self.seal = seal
        self._pair = seal_pair
        self._cache: dict[Hashable, bytes] = {}
        self._lock = threading.Lock()

    def sealer(self) -> DocumentSealer | None:
        """The sealer in use (its ``pair`` holds the certificate), or None when not sealing."""
        if not self.seal:
            return None
        return sealer_for(self._pair or default_seal_pair())

    def act(self, act: CivilAct, delivery: ActDelivery) -> bytes:
        """The PDF of an act as delivered."""
        return self._once(("act", act.reference, delivery), lambda: render_act_pdf(act, delivery),
                          reason="Elektronisch zegel DABS", location=act.municipality)

    def extract(self, document: ExtractDocument) -> bytes:
        """The PDF of a criminal-record extract (one per Identificatienummer)."""
        return self._once(("extract", document.number), lambda: render_extract_pdf(document),
                          reason="Elektronisch zegel Centraal Strafregister", location="Brussel")

    def _once(self, key: Hashable, render: Callable[[], bytes], *, reason: str,
              location: str) -> bytes:
        with self._lock:
            done = self._cache.get(key)
        if done is not None:
            return done
        pdf = render()
        sealer = self.sealer()
        if sealer is not None:
            pdf = sealer.seal(pdf, reason=reason, location=location)
        with self._lock:
            # Two threads may have made it at once; both made the same bytes.
            return self._cache.setdefault(key, pdf)
