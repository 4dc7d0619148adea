"""An electronic seal on the simulator's PDFs (PAdES B-B with pyHanko), as DABS and the criminal
record seal theirs.

The seal is an incremental update: the unsealed PDF stays a prefix of the sealed one. Bytes are
deterministic for one key: the signing time is fixed (a minute after the certificate's start, so
it always lies in the certificate's validity) and the trailer /ID is derived, not random.
Without a configured key, one is generated once per process into a temporary folder.

pyHanko runs its own event loop inside ``sign_pdf``: call :meth:`DocumentSealer.seal` from a
worker thread, never on the simulator's event loop.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
from datetime import datetime, timedelta
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from cryptography import x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from hub.devpki import KeyPair, generate_self_signed

__all__ = ["SEAL_FIELD", "DocumentSealer", "default_seal_pair", "sealer_for"]

SEAL_FIELD = "MagdaSimulatorZegel"
# Room for the CMS blob (hex, so twice its size): RSA-2048 signature, certificate, attributes.
_RESERVED = 16_384
_lock = threading.Lock()
_default: tuple[tempfile.TemporaryDirectory[str], KeyPair] | None = None


def default_seal_pair() -> KeyPair:
    """The simulator's own seal key, generated on first use and kept for the process."""
    global _default
    with _lock:
        if _default is None:
            # Kept referenced so the folder lives as long as the process, and is removed after.
            folder = tempfile.TemporaryDirectory(prefix="magda-sim-seal-")
            pair = generate_self_signed(Path(folder.name), "seal", "MAGDA simulator seal")
            _default = (folder, pair)
        return _default[1]


class _DerivedIdWriter(IncrementalPdfFileWriter):
    """pyHanko gives every update a random second /ID; ours derives it from the first."""

    @classmethod
    def _handle_id(cls, prev: Any) -> Any:
        # pyHanko leaves this hook unannotated.
        ids = super()._handle_id(prev)  # type: ignore[no-untyped-call]
        first = bytes(ids[0])
        ids[1] = generic.ByteStringObject(hashlib.sha256(first + b"|seal").digest()[:16])
        return ids


class _FixedTimeSigner(signers.PdfSigner):
    """pyHanko takes the signing time from the clock; a fixed one keeps the bytes stable."""

    def __init__(self, *args: Any, signing_time: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._signing_time = signing_time

    def init_signing_session(self, *args: Any, **kwargs: Any) -> Any:
        session = super().init_signing_session(*args, **kwargs)
        session.system_time = self._signing_time
        return session


class DocumentSealer:
    """Seals PDFs with one key pair, read once."""

    def __init__(self, pair: KeyPair) -> None:
        signer = signers.SimpleSigner.load(  # type: ignore[no-untyped-call]  # unannotated
            str(pair.key), str(pair.cert))
        if signer is None:
            raise ValueError(f"cannot load the seal key {pair.key} with {pair.cert}")
        self._signer = signer
        self.pair = pair
        cert = x509.load_pem_x509_certificate(pair.cert.read_bytes())
        self._signing_time = min(cert.not_valid_before_utc + timedelta(minutes=1),
                                 cert.not_valid_after_utc)

    def seal(self, pdf: bytes, *, reason: str, location: str) -> bytes:
        """``pdf`` with a PAdES B-B seal appended."""
        meta = signers.PdfSignatureMetadata(
            field_name=SEAL_FIELD,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            reason=reason,
            location=location,
        )
        signer = _FixedTimeSigner(meta, self._signer, signing_time=self._signing_time,
                                  new_field_spec=fields.SigFieldSpec(sig_field_name=SEAL_FIELD))
        writer = _DerivedIdWriter(BytesIO(pdf), strict=False)
        output: BytesIO = signer.sign_pdf(writer, output=BytesIO(), bytes_reserved=_RESERVED)
        return output.getvalue()


@lru_cache(maxsize=8)
def sealer_for(pair: KeyPair) -> DocumentSealer:
    """One sealer per key pair and process: loading the key is the slow part."""
    return DocumentSealer(pair)
