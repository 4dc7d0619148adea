"""Issue 20: long-term signatures (B-T, B-LT, B-LTA) against the PKI simulator, checked by
pdfsig, xmlsec1 and pyHanko's validator; verification after the signing certificate expired;
a TSA that is down makes the job retry."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from lxml import etree
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from hub.devca import DevCa, generate_dev_ca
from hub.devpki import generate_self_signed
from hub.documents import external
from hub.documents.keys import SigningIdentity, SigningKeySpec, load_signing_identity
from hub.documents.levels import LongTermSpec
from hub.documents.longterm import LongTerm, asn1_cert
from hub.documents.pdf_render import render_certificate_pdf
from hub.documents.pdf_signature import PadesSigner
from hub.documents.pool import DocumentWorkers
from hub.documents.render import render_certificate_xml
from hub.documents.verify import verify_document
from hub.documents.xades import XADES_NS, XadesSigner
from hub.errors import RevocationUnavailable, SignatureError, TimestampUnavailable
from simulators.pki import PkiSimulator, PkiSimulatorSettings, start_pki_simulator
from tests.documents.factories import GENT, model

needs_tools = pytest.mark.skipif(not external.available(), reason="xmlsec1/pdfsig not installed")
DS = "http://www.w3.org/2000/09/xmldsig#"


@dataclasses.dataclass
class Authority:
    ca: DevCa
    simulator: PkiSimulator
    loop: asyncio.AbstractEventLoop

    def spec(self, level: str) -> LongTermSpec:
        base = self.simulator.base_url
        return LongTermSpec(level=level, tsa_url=f"{base}/tsa", ocsp_url=f"{base}/ocsp",
                            crl_url=f"{base}/crl/issuing.crl", trust_roots=self.ca.root)

    @property
    def root(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.ca.root.read_bytes())


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Authority]:
    """A development CA made now and the PKI simulator for it, in a thread of its own."""
    ca = generate_dev_ca(tmp_path_factory.mktemp("ca"), {"gent": "Stad Gent"})
    loop = asyncio.new_event_loop()
    started = threading.Event()
    box: list[PkiSimulator] = []

    def serve() -> None:
        asyncio.set_event_loop(loop)
        box.append(loop.run_until_complete(
            start_pki_simulator(PkiSimulatorSettings(ca_dir=ca.directory, port=0))))
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(10)
    yield Authority(ca, box[0], loop)
    asyncio.run_coroutine_threadsafe(box[0].close(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


@pytest.fixture(scope="module")
def gent(authority: Authority) -> SigningIdentity:
    key, cert = authority.ca.signing["gent"]
    return load_signing_identity(SigningKeySpec(key=key, cert=cert), now=dt.datetime.now(dt.UTC))


def _now() -> dt.datetime:
    # Signed now: the CA and its answers are made at run time (see tests/conftest.py, clock).
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _pdf(identity: SigningIdentity, long_term: LongTerm | None) -> bytes:
    issued = _now()
    rendered = render_certificate_pdf(model("household-composition"), tenant=GENT,
                                      reference="job-1", backend_reference="magda-1",
                                      issued_at=issued, signer=identity.signer_name)
    return PadesSigner(identity, long_term).sign(rendered, reason="Gezinssamenstelling",
                                                 location="Gent", signing_time=issued)


def _xml(identity: SigningIdentity, long_term: LongTerm | None) -> bytes:
    issued = _now()
    root = render_certificate_xml(model("household-composition"), tenant=GENT,
                                  reference="job-1", backend_reference="magda-1",
                                  issued_at=issued)
    return XadesSigner(identity, long_term).sign(root, signing_time=issued)


def _pdfsig(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    return external.pdfsig_verify(path)[1]


@needs_tools
@pytest.mark.parametrize("level", ["B-T", "B-LT", "B-LTA"])
def test_pdfsig_and_pyhanko_see_the_pades_level_and_a_valid_time_stamp(
    level: str, authority: Authority, gent: SigningIdentity, tmp_path: Path
) -> None:
    signed = _pdf(gent, LongTerm(authority.spec(level), gent))
    report = _pdfsig(signed, tmp_path)
    first = report.split("Signature #2")[0]
    assert "- Signature Type: ETSI.CAdES.detached" in first  # PAdES baseline
    assert "- Signature Validation: Signature is Valid." in first
    assert ("Signature #2:" in report) == (level == "B-LTA")
    if level == "B-LTA":  # the document time stamp, signed by the TSA
        assert "- Signature Field Name: LoketHubArchiveTimestamp" in report
        assert "- Signer Certificate Common Name: loket-hub dev time-stamping authority" in report
    reader = PdfFileReader(BytesIO(signed), strict=False)
    embedded = reader.embedded_regular_signatures[0]
    roots = [asn1_cert(authority.root)]
    status = validate_pdf_signature(embedded, ValidationContext(trust_roots=roots),
                                    ts_validation_context=ValidationContext(trust_roots=roots))
    assert status.intact and status.valid and status.trusted
    stamp = status.timestamp_validity
    assert stamp is not None and stamp.intact and stamp.valid and stamp.trusted
    assert abs(stamp.timestamp - _now()) < dt.timedelta(minutes=5)
    assert ("/DSS" in reader.root) == (level != "B-T")
    verified = verify_document(signed, certificates=[authority.root])
    assert (verified.valid, verified.level) == (True, level), verified.reason
    assert verified.timestamp == stamp.timestamp


def _store(pdf: bytes) -> tuple[set[bytes], set[bytes], set[bytes]]:
    from pyhanko.sign.validation import DocumentSecurityStore

    dss = DocumentSecurityStore.read_dss(PdfFileReader(BytesIO(pdf), strict=False))

    def streams(refs: list[Any]) -> set[bytes]:
        return {ref.get_object().data for ref in refs}
    return ({c.dump() for c in dss.load_certs()}, streams(dss.ocsps), streams(dss.crls))


@pytest.mark.parametrize("level", ["B-LT", "B-LTA"])
def test_a_pdf_signed_in_one_pass_carries_what_pyhanko_would_write(
    level: str, authority: Authority, gent: SigningIdentity
) -> None:
    # hub.documents.pdf_increment signs a PDF the hub drew without pyHanko's PdfSigner: the
    # same validation data, the same level, as pyHanko's signature of the same bytes.
    long_term = LongTerm(authority.spec(level), gent)
    issued = _now()
    rendered = render_certificate_pdf(model("household-composition"), tenant=GENT,
                                      reference="job-1", backend_reference="magda-1",
                                      issued_at=issued, signer=gent.signer_name)
    signer = PadesSigner(gent, long_term)
    ours, theirs = (signer.sign(pdf, reason="Gezinssamenstelling", location="Gent",
                                signing_time=issued) for pdf in (rendered, bytes(rendered)))
    assert ours.startswith(rendered) and len(ours) < len(theirs) + 4096
    assert _store(ours) == _store(theirs)
    certs, ocsps, crls = _store(ours)
    assert len(certs) >= 3 and ocsps and crls  # signer, issuing CA, TSA (root: a trust anchor)
    assert _fields(ours) == _fields(theirs)
    assert len(_fields(ours)[1]) == (2 if level == "B-LTA" else 1)
    for pdf in (ours, theirs):
        verified = verify_document(pdf, certificates=[authority.root])
        assert (verified.valid, verified.level) == (True, level), verified.reason


def _fields(pdf: bytes) -> tuple[int, list[tuple[dict[str, Any], dict[str, Any]]]]:
    """The revisions, and each signature field with its value, as plain entries."""
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    fields = []
    for ref in reader.root["/AcroForm"]["/Fields"]:
        field = ref.get_object()
        value = field["/V"].get_object()
        fields.append(({k: v for k, v in field.items() if k not in ("/V", "/P")},
                       {k: v for k, v in value.items()
                        if k not in ("/Contents", "/ByteRange", "/M")}))
    return reader.xrefs.total_revisions, fields


@needs_tools
def test_xmlsec1_checks_the_signer_through_x509data_and_fails_a_foreign_ca(
    authority: Authority, gent: SigningIdentity, tmp_path: Path
) -> None:
    signed = _xml(gent, LongTerm(authority.spec("B-LT"), gent))
    path = tmp_path / "certificate.xml"
    path.write_bytes(signed)
    certs = etree.fromstring(signed).findall(
        f"{{{DS}}}Signature/{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509Certificate")
    assert len(certs) == 2  # the signing certificate and its issuing CA
    ok, said = external.xmlsec1_verify(path, authority.ca.root)
    assert ok, said
    assert said.splitlines()[:2] == ["OK", "SignedInfo References (ok/all): 3/3"]
    foreign = generate_dev_ca(tmp_path / "foreign", {"gent": "Stad Gent"})
    ok, said = external.xmlsec1_verify(path, foreign.root)
    assert not ok and "certificate verification failed" in said
    stranger = generate_self_signed(tmp_path, "stranger", "Stad Gent document signing")
    assert not external.xmlsec1_verify(path, stranger.cert)[0]


def test_the_xml_carries_a_time_stamp_and_its_validation_data(
    authority: Authority, gent: SigningIdentity
) -> None:
    signed = _xml(gent, LongTerm(authority.spec("B-LT"), gent))
    unsigned = etree.fromstring(signed).find(f".//{{{XADES_NS}}}UnsignedSignatureProperties")
    assert unsigned is not None
    names = [etree.QName(child).localname for child in unsigned]
    assert names == ["SignatureTimeStamp", "CertificateValues", "RevocationValues"]
    ocsp = unsigned.findall(f".//{{{XADES_NS}}}EncapsulatedOCSPValue")
    assert len(ocsp) == 3  # the signer, its issuing CA and the TSA
    report = verify_document(signed, certificates=[authority.root])
    assert (report.valid, report.level) == (True, "B-LT"), report.reason
    assert report.timestamp is not None and abs(report.timestamp - _now()) < dt.timedelta(minutes=5)
    tampered = signed.replace(b"<ds:SignatureValue>", b"<ds:SignatureValue>AAAA", 1)
    assert not verify_document(tampered, certificates=[authority.root]).valid


def test_a_long_term_document_verifies_after_the_signing_certificate_expired(
    authority: Authority, gent: SigningIdentity
) -> None:
    later = gent.not_after + dt.timedelta(days=30)  # a validation time, not the wall clock
    long_term = LongTerm(authority.spec("B-LT"), gent)
    for document in (_pdf(gent, long_term), _xml(gent, long_term)):
        report = verify_document(document, certificates=[authority.root], at=later)
        assert (report.valid, report.level) == (True, "B-LT"), report.reason
    for document in (_pdf(gent, None), _xml(gent, None)):  # B-B: nothing proves its age
        report = verify_document(document, certificates=[authority.root], at=later)
        assert not report.valid, report


def test_loket_hub_verify_at_a_date_after_expiry(
    authority: Authority, gent: SigningIdentity, tmp_path: Path
) -> None:
    path = tmp_path / "certificate.pdf"
    path.write_bytes(_pdf(gent, LongTerm(authority.spec("B-LTA"), gent)))
    later = (gent.not_after + dt.timedelta(days=1)).date().isoformat()
    done = subprocess.run(
        [sys.executable, "-m", "hub.cli", "verify", str(path), "--trust", str(authority.ca.root),
         "--at", later], capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "level: B-LTA" in done.stdout and "signed by: CN=Stad Gent" in done.stdout


def test_a_tsa_that_is_down_is_a_retryable_error_never_an_unstamped_document(
    authority: Authority, gent: SigningIdentity
) -> None:
    long_term = LongTerm(authority.spec("B-LT"), gent)
    long_term.material()  # the validation data is cached: only the time stamp is missing
    authority.simulator.set_down("tsa")
    try:
        for sign in (_pdf, _xml):
            with pytest.raises(TimestampUnavailable) as info:
                sign(gent, long_term)
            assert info.value.code == "TIMESTAMP_UNAVAILABLE" and info.value.retryable
    finally:
        authority.simulator.set_down("tsa", False)
    assert verify_document(_pdf(gent, long_term), certificates=[authority.root]).level == "B-LT"


async def test_the_document_workers_raise_it_for_the_job(
    authority: Authority, gent: SigningIdentity
) -> None:
    key, cert = authority.ca.signing["gent"]
    spec = SigningKeySpec(key=key, cert=cert, long_term=authority.spec("B-T"))
    workers = DocumentWorkers(1, {"gent": spec}, mode="thread")
    authority.simulator.set_down("tsa")
    try:
        with pytest.raises(TimestampUnavailable):
            await workers.render_and_sign(model("household-composition"), GENT, "job-1", None,
                                          _now(), "gent")
    finally:
        authority.simulator.set_down("tsa", False)
        workers.close()


def test_revocation_answers_are_fetched_once_and_a_revoked_signer_stops_signing(
    authority: Authority, gent: SigningIdentity
) -> None:
    long_term = LongTerm(authority.spec("B-LT"), gent)
    before = authority.simulator.stats.get("ocsp", 0)
    for _ in range(3):
        _pdf(gent, long_term)
    assert authority.simulator.stats["ocsp"] - before == 3  # once per certificate, not per PDF
    authority.simulator.revoke(gent.certificate.serial_number)
    try:
        with pytest.raises(SignatureError, match="revoked"):
            LongTerm(authority.spec("B-LT"), gent).material()
    finally:
        authority.simulator.revoke(gent.certificate.serial_number, revoked=False)


def test_revocation_services_that_are_down_are_a_retryable_error(
    authority: Authority, gent: SigningIdentity
) -> None:
    """No OCSP answer and no CRL for the chain: B-LT cannot be made now, so the job retries
    (REVOCATION_UNAVAILABLE) instead of getting a document without its validation data."""
    authority.simulator.set_down("ocsp")
    authority.simulator.set_down("crl")
    try:
        with pytest.raises(RevocationUnavailable) as info:
            LongTerm(authority.spec("B-LT"), gent).material()
        assert info.value.code == "REVOCATION_UNAVAILABLE" and info.value.retryable
    finally:
        authority.simulator.set_down("ocsp", False)
        authority.simulator.set_down("crl", False)
    assert LongTerm(authority.spec("B-LT"), gent).material() is not None


def test_a_level_without_its_services_is_refused_at_start(gent: SigningIdentity) -> None:
    with pytest.raises(Exception, match="needs a tsa_url"):
        LongTerm(LongTermSpec(level="B-T"), gent)
    with pytest.raises(Exception, match="not one of"):
        LongTerm(LongTermSpec(level="B-X"), gent)


def test_the_pdf_names_the_signer_of_its_certificate(gent: SigningIdentity, tmp_path: Path) -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed")
    pdf = render_certificate_pdf(model("household-composition"), tenant=dataclasses.replace(
        GENT, name="Gemeente Elders"), reference="job-1", backend_reference=None,
        issued_at=_now(), signer=gent.signer_name)
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "digitaal ondertekend door Stad Gent" in " ".join(text.split())


def test_sealing_a_pdf_with_a_dss_of_its_own_keeps_its_validation_data(
    authority: Authority, gent: SigningIdentity
) -> None:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign.validation import DocumentSecurityStore

    from hub.documents.pdf_signature import _add_dss

    long_term = LongTerm(authority.spec("B-LT"), gent)
    rendered = render_certificate_pdf(model("household-composition"), tenant=GENT,
                                      reference="job-1", backend_reference=None,
                                      issued_at=_now())
    foreign = generate_dev_ca(Path(str(authority.ca.directory) + "-other"), {"x": "Elders"})
    writer = IncrementalPdfFileWriter(BytesIO(rendered), strict=False)
    other = dataclasses.replace(long_term.material(), certs=(
        x509.load_pem_x509_certificate(foreign.root.read_bytes()),), ocsps=(), crls=())
    _add_dss(writer, other)  # what a back end's own long-term signature would have left
    out = BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]
    sealed = PadesSigner(gent, long_term).seal(out.getvalue(), signing_time=_now())
    dss = DocumentSecurityStore.read_dss(PdfFileReader(BytesIO(sealed), strict=False))
    assert foreign.root.read_bytes() != authority.ca.root.read_bytes()
    assert len(dss.certs) == len(long_term.material().certs) + 1  # merged, not replaced
    report = verify_document(sealed, certificates=[authority.root])
    assert (report.valid, report.level) == (True, "B-LT"), report.reason
