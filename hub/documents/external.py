"""Checks by independent tools: ``xmlsec1`` for XML, ``pdfsig`` (poppler) for PDF.

The hub's own verification (:mod:`hub.documents.verify`) uses the same libraries that signed;
these commands are what a citizen or an auditor would run, so the demo and the tests use them too.

    xmlsec1 --verify --enabled-key-data x509 --trusted-pem CA_OR_CERT \\
        --id-attr:Id "http://uri.etsi.org/01903/v1.3.2#:SignedProperties" FILE

(``--enabled-key-data x509``: the key is the certificate in the signature's ``X509Data``, and
xmlsec1 checks its chain up to the trusted CA; a signature by anyone else fails.)
    pdfsig FILE     (prints "Signature Validation: Signature is Valid." for an intact signature)
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

__all__ = ["XADES_ID_ATTR", "available", "pdfsig_verify", "xmlsec1_verify"]

# XAdES signs its SignedProperties by Id; xmlsec1 must be told which attribute that is.
XADES_ID_ATTR = "--id-attr:Id", "http://uri.etsi.org/01903/v1.3.2#:SignedProperties"


def available() -> bool:
    return shutil.which("xmlsec1") is not None and shutil.which("pdfsig") is not None


def xmlsec1_verify(path: Path, trusted_cert: Path) -> tuple[bool, str]:
    """(valid, what xmlsec1 said): signed by a certificate that chains to ``trusted_cert``."""
    done = subprocess.run(
        ["xmlsec1", "--verify", "--enabled-key-data", "x509", "--trusted-pem",
         str(trusted_cert), *XADES_ID_ATTR, str(path)],
        capture_output=True, text=True, check=False, timeout=30,
    )
    return done.returncode == 0, done.stderr.strip()


def pdfsig_verify(path: Path) -> tuple[bool, str]:
    """(valid, what pdfsig said). pdfsig exits 0 either way, so its report is read."""
    done = subprocess.run(
        ["pdfsig", str(path)], capture_output=True, text=True, check=False, timeout=30
    )
    report = done.stdout.strip()
    return "Signature Validation: Signature is Valid." in report, report
