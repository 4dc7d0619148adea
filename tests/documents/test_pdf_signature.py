"""PAdES on PDF certificates: checked by poppler's pdfsig and by pyHanko's validator."""

from __future__ import annotations

import shutil
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from reportlab.pdfgen.canvas import Canvas

from hub.devpki import generate_self_signed
from hub.documents.keys import SigningIdentity, SigningKeySpec, load_signing_identity
from hub.documents.pdf_render import render_certificate_pdf
from hub.documents.pdf_signature import PadesSigner, verify_pades
from tests.documents.factories import GENT, ISSUED, model

needs_pdfsig = pytest.mark.skipif(shutil.which("pdfsig") is None, reason="poppler not installed")


@pytest.fixture(scope="module")
def rendered() -> bytes:
    return render_certificate_pdf(model("household-composition"), tenant=GENT, reference="job-1",
                                  backend_reference="magda-1", issued_at=ISSUED)


@pytest.fixture(scope="module")
def signed(gent_identity: SigningIdentity, rendered: bytes) -> bytes:
    return PadesSigner(gent_identity).sign(rendered, reason="Uittreksel", location="Stad Gent",
                                           signing_time=ISSUED)


def _pdfsig(pdf: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False)
    return [line.strip() for line in done.stdout.splitlines()]


def _flip_inside_signed_range(pdf: bytes) -> bytes:
    # The middle of the rendered part: inside the first signed byte range, outside /Contents.
    at = len(pdf) // 3
    return pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1:]


@needs_pdfsig
def test_pdfsig_finds_a_valid_pades_signature(signed: bytes, tmp_path: Path) -> None:
    lines = _pdfsig(signed, tmp_path)
    assert "- Signature Field Name: LoketHubSignature" in lines
    assert "- Signer Certificate Common Name: Stad Gent document signing" in lines
    assert "- Signing Hash Algorithm: SHA-256" in lines
    assert "- Signature Type: ETSI.CAdES.detached" in lines
    assert "- Total document signed" in lines
    assert "- Signature Validation: Signature is Valid." in lines
    # A self-signed development certificate is, rightly, not trusted by poppler's NSS store.
    assert "- Certificate Validation: Certificate issuer isn't Trusted." in lines


@needs_pdfsig
def test_one_changed_byte_is_a_digest_mismatch(
    gent_identity: SigningIdentity, signed: bytes, tmp_path: Path
) -> None:
    tampered = _flip_inside_signed_range(signed)
    assert "- Signature Validation: Digest Mismatch." in _pdfsig(tampered, tmp_path)
    result = PadesSigner(gent_identity).verify(tampered)
    assert not result.intact and not result.ok


def test_pyhanko_validates_signer_time_and_coverage(
    gent_identity: SigningIdentity, signed: bytes
) -> None:
    result = PadesSigner(gent_identity).verify(signed)
    assert result.ok, result.summary
    assert result.signer_subject == gent_identity.subject
    assert result.signing_time == ISSUED


def test_another_signer_is_not_trusted(
    gent_identity: SigningIdentity, rendered: bytes, tmp_path: Path
) -> None:
    pair = generate_self_signed(tmp_path, "intruder", "Stad Gent document signing")
    intruder = load_signing_identity(SigningKeySpec(key=pair.key, cert=pair.cert), now=ISSUED)
    forged = PadesSigner(intruder).sign(rendered, reason="x", location=None, signing_time=ISSUED)
    result = verify_pades(forged, [gent_identity.certificate])
    assert result.intact and not result.trusted and not result.ok


def test_signing_appends_and_keeps_the_rendered_bytes(rendered: bytes, signed: bytes) -> None:
    # Byte-for-byte stable except for the signature: the rendered PDF is an exact prefix.
    assert signed.startswith(rendered) and len(signed) > len(rendered)


def test_sealing_a_back_end_pdf_keeps_its_bytes(
    gent_identity: SigningIdentity, tmp_path: Path
) -> None:
    path = tmp_path / "act.pdf"
    canvas = Canvas(str(path), invariant=1)
    canvas.drawString(72, 720, "Uittreksel uit de akte van geboorte (DABS)")
    canvas.save()
    original = path.read_bytes()
    sealed = PadesSigner(gent_identity).seal(original, signing_time=ISSUED)
    assert sealed.startswith(original)
    assert PadesSigner(gent_identity).verify(sealed).ok


def test_content_added_after_the_signature_is_reported(
    gent_identity: SigningIdentity, signed: bytes
) -> None:
    result = PadesSigner(gent_identity).verify(signed + b"\n% appended later\n")
    assert result.intact and not result.covers_whole_file and not result.ok


def _signed_attributes(pdf: bytes) -> dict[str, bytes]:
    from pyhanko.pdf_utils.reader import PdfFileReader

    signer_info = PdfFileReader(BytesIO(pdf)).embedded_signatures[-1].signer_info
    return {attr["type"].native: attr["values"].dump() for attr in signer_info["signed_attrs"]}


def test_signed_attributes_are_pyhankos_own_for_pades(
    gent_identity: SigningIdentity, rendered: bytes, signed: bytes
) -> None:
    # The signing-certificate attribute is encoded once per signer for speed: the signed
    # attributes must stay what pyHanko's default PAdES spec gives, the digest apart.
    default = PadesSigner(gent_identity)
    default._signer.signed_attr_prov_spec = None  # pyHanko chooses its own spec again
    reference = default.sign(bytes(rendered), reason="Uittreksel", location="Stad Gent",
                             signing_time=ISSUED)
    ours, theirs = _signed_attributes(signed), _signed_attributes(reference)
    assert set(ours) == set(theirs) == {
        "content_type", "message_digest", "signing_certificate_v2"
    }
    assert ours["signing_certificate_v2"] == theirs["signing_certificate_v2"]
    assert ours["content_type"] == theirs["content_type"]
