"""CPU time of one certificate's documents, part by part, in this process, and its floor.

    .venv/bin/python -m benchmarks.documents [--documents 100] [--kind household-composition]

The parts a document worker does for every certificate job: the XML rendered and signed
(XAdES), the PDF rendered and signed (PAdES, pyHanko). Each part is timed with
``time.process_time`` over ``--documents`` runs after one warm-up, so another process on the
machine does not count. ``ms documents`` is the whole job of a document worker
(``hub.documents.pool``: XML and PDF rendered and signed) timed as one; ``ms documents
(platypus)`` the same parts with the PDF laid out by platypus, as every PDF was before the
direct writer (``hub.documents.pdf_draw``).

The floor is what no renderer can save: three RSA-2048 signatures (PKCS#1 v1.5, SHA-256) and
one SHA-256 over the signed documents' bytes, timed in the same run; ``ratio documents/floor``
is the whole job over it. The development signing key (RSA-2048) is made in a temporary folder.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import hashlib
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15

from hub.devpki import generate_self_signed
from hub.documents.keys import SigningKeySpec, load_signing_identity
from hub.documents.pdf_render import render_certificate_pdf
from hub.documents.pdf_signature import PadesSigner
from hub.documents.pool import _render_and_sign
from hub.documents.render import render_certificate_xml
from hub.documents.xades import XadesSigner
from tests.documents.factories import GENT as TENANT
from tests.documents.factories import model as certificate_model

__all__ = ["FLOOR_SIGNATURES", "measure"]

FLOOR_SIGNATURES = 3


def _cpu_ms(part: Callable[[], object], runs: int) -> float:
    part()  # warm-up: imports, fonts, caches
    started = time.process_time()
    for _ in range(runs):
        part()
    return (time.process_time() - started) / runs * 1000


def measure(runs: int, kind: str = "household-composition", members: int = 4) -> dict[str, float]:
    """Milliseconds of CPU per certificate: each part, the whole job, its floor and the ratio."""
    issued = dt.datetime.now(dt.UTC).replace(microsecond=0)
    pair = generate_self_signed(Path(tempfile.mkdtemp()), "bench", "Benchmark document signing")
    identity = load_signing_identity(SigningKeySpec(key=pair.key, cert=pair.cert), now=issued)
    xades, pades = XadesSigner(identity), PadesSigner(identity)
    model = certificate_model(kind, members=members)  # as the adapter builds it
    render_xml = functools.partial(render_certificate_xml, model, tenant=TENANT,
                                   reference="bench-1", backend_reference="magda-1",
                                   issued_at=issued)
    render_pdf = functools.partial(render_certificate_pdf, model, tenant=TENANT,
                                   reference="bench-1", backend_reference="magda-1",
                                   issued_at=issued)
    render_platypus = functools.partial(render_pdf, engine="platypus")
    pdf, platypus_pdf = render_pdf(), render_platypus()
    whole = functools.partial(_render_and_sign, model, TENANT, "bench-1", "magda-1", issued,
                              "bench", {"bench": (xades, pades)})
    signed_xml, signed_pdf = whole()
    digest = hashlib.sha256(b"loket-hub floor").digest()

    def floor() -> None:
        for _ in range(FLOOR_SIGNATURES):
            identity.key.sign(digest, PKCS1v15(), hashes.SHA256())
        hashlib.sha256(signed_xml + signed_pdf).digest()

    def sign(document: bytes) -> Callable[[], object]:
        return lambda: pades.sign(document, reason=model.title, location=TENANT.name,
                                  signing_time=issued)

    parts: dict[str, Callable[[], object]] = {
        "xml render": render_xml,
        "xades sign": lambda: xades.sign(render_xml(), signing_time=issued),
        "pdf render": render_pdf,
        "pades sign": sign(pdf),
        "pdf render (platypus)": render_platypus,
        "pades sign (platypus pdf)": sign(platypus_pdf),
        "documents": whole,
        "floor": floor,
    }
    costs = {name: _cpu_ms(part, runs) for name, part in parts.items()}
    # "xades sign" renders its XML again: count the render once.
    costs["documents (platypus)"] = (costs["xades sign"] + costs["pdf render (platypus)"]
                                     + costs["pades sign (platypus pdf)"])
    costs["ratio documents/floor"] = costs["documents"] / costs["floor"]
    costs["pdf bytes"], costs["pdf bytes (platypus)"] = len(pdf), len(platypus_pdf)
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=100)
    parser.add_argument("--kind", default="household-composition")
    parser.add_argument("--members", type=int, default=4, help="people in the household")
    args = parser.parse_args()
    costs = measure(args.documents, args.kind, args.members)
    print(f"{args.documents} {args.kind} certificates, {costs.pop('pdf bytes'):.0f} bytes of "
          f"PDF unsigned ({costs.pop('pdf bytes (platypus)'):.0f} with platypus)")
    ratio = costs.pop("ratio documents/floor")
    for name, cost in costs.items():
        print(f"ms {name}: {cost:.2f}")
    print(f"ratio documents/floor: {ratio:.2f}")


if __name__ == "__main__":
    main()
