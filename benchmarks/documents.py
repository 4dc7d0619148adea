"""CPU time of one certificate's documents, part by part, in this process.

    .venv/bin/python -m benchmarks.documents [--documents 100] [--kind household-composition]

The parts a document worker does for every certificate job: the XML rendered and signed
(XAdES), the PDF rendered (reportlab) and signed (PAdES, pyHanko). Each part is timed with
``time.process_time`` over ``--documents`` runs after one warm-up, so another process on the
machine does not count. The development signing key (RSA-2048) is made in a temporary folder.
Prints one line per part and the total (``ms documents: 20.8``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from hub.devpki import generate_self_signed
from hub.documents.keys import SigningKeySpec, load_signing_identity
from hub.documents.pdf_render import render_certificate_pdf
from hub.documents.pdf_signature import PadesSigner
from hub.documents.render import render_certificate_xml
from hub.documents.xades import XadesSigner
from tests.documents.factories import GENT as TENANT
from tests.documents.factories import model as certificate_model


def _cpu_ms(part: Callable[[], object], runs: int) -> float:
    part()  # warm-up: imports, fonts, caches
    started = time.process_time()
    for _ in range(runs):
        part()
    return (time.process_time() - started) / runs * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=100)
    parser.add_argument("--kind", default="household-composition")
    parser.add_argument("--members", type=int, default=4, help="people in the household")
    args = parser.parse_args()

    issued = dt.datetime.now(dt.UTC).replace(microsecond=0)
    pair = generate_self_signed(Path(tempfile.mkdtemp()), "bench", "Benchmark document signing")
    identity = load_signing_identity(SigningKeySpec(key=pair.key, cert=pair.cert), now=issued)
    xades, pades = XadesSigner(identity), PadesSigner(identity)
    model = certificate_model(args.kind, members=args.members)  # as the adapter builds it
    render_xml = functools.partial(render_certificate_xml, model, tenant=TENANT,
                                   reference="bench-1", backend_reference="magda-1",
                                   issued_at=issued)
    render_pdf = functools.partial(render_certificate_pdf, model, tenant=TENANT,
                                   reference="bench-1", backend_reference="magda-1",
                                   issued_at=issued)
    pdf = render_pdf()

    parts: dict[str, Callable[[], object]] = {
        "xml render": render_xml,
        "xades sign": lambda: xades.sign(render_xml(), signing_time=issued),
        "pdf render": render_pdf,
        "pades sign": lambda: pades.sign(pdf, reason=model.title, location=TENANT.name,
                                         signing_time=issued),
    }
    costs = {name: _cpu_ms(part, args.documents) for name, part in parts.items()}
    # "xades sign" renders its XML again: count the render once.
    total = costs["xades sign"] + costs["pdf render"] + costs["pades sign"]
    print(f"{args.documents} {args.kind} certificates, {len(pdf)} bytes of PDF unsigned")
    for name, cost in costs.items():
        print(f"ms {name}: {cost:.2f}")
    print(f"ms documents: {total:.1f}")


if __name__ == "__main__":
    main()
