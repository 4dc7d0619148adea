"""CPU time of one certificate's documents, part by part, in this process, and its floor.

    .venv/bin/python -m benchmarks.documents [--documents 100] [--kind household-composition]

The parts a document worker does for every certificate job: the XML rendered and signed
(XAdES), the PDF rendered and signed (PAdES, pyHanko), at B-B and at the shipped tenants' level
B-LT (a signature time stamp from the TSA and the validation data embedded; B-LTA adds a
document time stamp to the PDF). Each part is timed with ``time.process_time`` over
``--documents`` runs after one warm-up, so another process on the machine does not count: the
PKI simulator (TSA, OCSP, CRL, ``simulators/pki.py``) runs in a process of its own, for a CA made
in a temporary folder. ``ms time stamp`` is one TSA round trip on our side; ``ms documents`` is
the whole job of a document worker at B-LT (``hub.documents.pool``: XML and PDF rendered and
signed) timed as one, ``ms documents (B-B)`` the same without time stamps and validation data;
``ms documents (platypus)`` the B-B parts with the PDF laid out by platypus and signed by
pyHanko's ``PdfSigner``, as every PDF was before the direct writer (``hub.documents.pdf_draw``)
and the one-pass signature (``hub.documents.pdf_increment``). The two whole jobs and the floor take
turns run by run, so that a slow spell of the shared machine falls on all three alike. The OCSP
and CRL answers are cached per identity (``hub.documents.longterm``): fetched in the warm-up,
not per document.

The floor is what no renderer can save: three RSA-2048 signatures (PKCS#1 v1.5, SHA-256) and
one SHA-256 over the signed documents' bytes, timed in the same run; ``ratio documents/floor``
is the whole job (B-LT) over it. The signing key (RSA-2048) is made in a temporary folder.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import functools
import hashlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15

from hub.devca import generate_dev_ca
from hub.documents.keys import SigningKeySpec, load_signing_identity
from hub.documents.levels import LongTermSpec
from hub.documents.longterm import LongTerm
from hub.documents.pdf_render import render_certificate_pdf
from hub.documents.pdf_signature import PadesSigner
from hub.documents.pool import _render_and_sign
from hub.documents.render import render_certificate_xml
from hub.documents.xades import XadesSigner
from tests.documents.factories import GENT as TENANT
from tests.documents.factories import model as certificate_model

__all__ = ["FLOOR_SIGNATURES", "measure", "pki_service"]

FLOOR_SIGNATURES = 3


def _alternating_cpu_ms(parts: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """Like :func:`_cpu_ms`, the parts taking turns run by run, so that a slow spell of the
    shared machine falls on all of them alike."""
    spent = dict.fromkeys(parts, 0.0)
    for part in parts.values():
        part()
    for _ in range(runs):
        for name, part in parts.items():
            started = time.process_time()
            part()
            spent[name] += time.process_time() - started
    return {name: total / runs * 1000 for name, total in spent.items()}


def _cpu_ms(part: Callable[[], object], runs: int) -> float:
    part()  # warm-up: imports, fonts, caches
    started = time.process_time()
    for _ in range(runs):
        part()
    return (time.process_time() - started) / runs * 1000


@contextmanager
def pki_service(ca_dir: Path) -> Iterator[str]:
    """The PKI simulator for the CA in ``ca_dir``, in a process of its own; yields its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "simulators.pki", "--ca-dir", str(ca_dir), "--port", "0"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        yield process.stdout.readline().rsplit(" ", 1)[-1].strip()
    finally:
        process.terminate()
        process.wait(10)


def measure(runs: int, kind: str = "household-composition", members: int = 4) -> dict[str, float]:
    """Milliseconds of CPU per certificate: each part, the whole job, its floor and the ratio."""
    ca = generate_dev_ca(Path(tempfile.mkdtemp()), {"bench": "Benchmark"})
    with pki_service(ca.directory) as url:
        return _measure(runs, kind, members, ca.signing["bench"], LongTermSpec(
            level="B-LT", tsa_url=f"{url}/tsa", ocsp_url=f"{url}/ocsp",
            crl_url=f"{url}/crl/issuing.crl", trust_roots=ca.root))


def _measure(
    runs: int, kind: str, members: int, pair: tuple[Path, Path], spec: LongTermSpec
) -> dict[str, float]:
    issued = dt.datetime.now(dt.UTC).replace(microsecond=0)
    identity = load_signing_identity(SigningKeySpec(key=pair[0], cert=pair[1]), now=issued)
    xades, pades = XadesSigner(identity), PadesSigner(identity)
    long_term = LongTerm(spec, identity)
    lta = LongTerm(dataclasses.replace(spec, level="B-LTA"), identity)
    xades_lt, pades_lt = XadesSigner(identity, long_term), PadesSigner(identity, long_term)
    model = certificate_model(kind, members=members)  # as the adapter builds it
    render_xml = functools.partial(render_certificate_xml, model, tenant=TENANT,
                                   reference="bench-1", backend_reference="magda-1",
                                   issued_at=issued)
    render_pdf = functools.partial(render_certificate_pdf, model, tenant=TENANT,
                                   reference="bench-1", backend_reference="magda-1",
                                   issued_at=issued)
    render_platypus = functools.partial(render_pdf, engine="platypus")
    pdf, platypus_pdf = render_pdf(), render_platypus()
    whole_bb = functools.partial(_render_and_sign, model, TENANT, "bench-1", "magda-1", issued,
                                 "bench", {"bench": (xades, pades)})
    whole = functools.partial(_render_and_sign, model, TENANT, "bench-1", "magda-1", issued,
                              "bench", {"bench": (xades_lt, pades_lt)})
    signed_xml, signed_pdf = whole_bb()
    digest = hashlib.sha256(b"loket-hub floor").digest()

    def floor() -> None:
        for _ in range(FLOOR_SIGNATURES):
            identity.key.sign(digest, PKCS1v15(), hashes.SHA256())
        hashlib.sha256(signed_xml + signed_pdf).digest()

    def sign(document: bytes, signer: PadesSigner = pades) -> Callable[[], object]:
        return lambda: signer.sign(document, reason=model.title, location=TENANT.name,
                                   signing_time=issued)

    parts: dict[str, Callable[[], object]] = {
        "xml render": render_xml,
        "xades sign": lambda: xades.sign(render_xml(), signing_time=issued),
        "xades sign (B-LT)": lambda: xades_lt.sign(render_xml(), signing_time=issued),
        "pdf render": render_pdf,
        "pades sign": sign(pdf),
        "pades sign (B-LT)": sign(pdf, pades_lt),
        "pades sign (B-LTA)": sign(pdf, PadesSigner(identity, lta)),
        "time stamp": lambda: long_term.stamp(digest),
        "pdf render (platypus)": render_platypus,
        "pades sign (platypus pdf)": sign(platypus_pdf),
    }
    costs = {name: _cpu_ms(part, runs) for name, part in parts.items()}
    # The whole job at both levels and the floor, taking turns (their ratios are the figures).
    costs |= _alternating_cpu_ms({"documents (B-B)": whole_bb, "documents": whole,
                                  "floor": floor}, runs)
    # "xades sign" renders its XML again: count the render once.
    costs["documents (platypus)"] = (costs["xades sign"] + costs["pdf render (platypus)"]
                                     + costs["pades sign (platypus pdf)"])
    costs["ratio documents/floor"] = costs["documents"] / costs["floor"]
    costs["pdf bytes"], costs["pdf bytes (platypus)"] = len(pdf), len(platypus_pdf)
    for closing in (long_term, lta):
        closing.close()
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
