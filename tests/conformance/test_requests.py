"""Every request the hub sends MAGDA is MAGDA's own shape; the repertorium done right.

The requests are the ones the real adapters send, end to end over HTTP to the running MAGDA
simulator, captured on the wire (a wrapper around our aiohttp transport's ``post``); each is
checked against MAGDA's published request XSD of its service and version
(``../shared/magda-reference``). Then the other way round: the simulator refuses what MAGDA's
XSD refuses (fault 10001), answers RegistreerInschrijving in MAGDA's answer structure, and the
hub reads MAGDA's own official RegistreerInschrijving answers (``Resultaat``) as MAGDA means them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import structlog
from lxml import etree

from adapters.civil_status import CivilStatusAdapter
from adapters.criminal_record import CriminalRecordAdapter
from adapters.magda import MagdaAnswer, MagdaException
from adapters.magda.connection import hoedanigheid_problems
from adapters.magda.envelope import RequestIdentity
from adapters.magda.transport import AiohttpTransport, HttpResponse
from adapters.population import PopulationAdapter
from adapters.population.catalogue import load_catalogue
from adapters.population.client import check_registration, inschrijving
from adapters.population.errors import RegistrationRefused
from adapters.prefill import PrefillAdapter
from hub.config import (
    BackendSettings,
    MagdaSettings,
    TenantMagdaSettings,
    TenantSettings,
    load_tenants,
)
from hub.contract import Job, Requester, Subject
from hub.devpki import KeyPair
from hub.errors import HubError
from hub.ports import AdapterAnswer, CallContext, Continuation
from hub.store import OutcomeStore, open_store
from simulators.magda import MagdaSimulatorSettings, start_magda_simulator
from simulators.magda.services import SERVICES as SIMULATED
from simulators.population_data import WELL_KNOWN, WELL_KNOWN_ACTS
from tests.conformance.reference import SERVICES, official_answers, reference_dir, schema_errors

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
REPERTORIUM_NS = (
    "http://webservice.registreerinschrijvingdienst-02_01.repertorium-02_01.vip.vlaanderen.be"
)
HOEDANIGHEID = "1300"
TENANT = TenantSettings("gent", "Stad Gent", "44021", "urn://gent.be/cs-connector/loket-hub",
                        register_link=True)


@pytest.fixture(autouse=True)
def _reference() -> None:
    reference_dir()  # skips (fails under CI) without MAGDA's material


@pytest.fixture(autouse=True)
def logs() -> Iterator[list[dict[str, Any]]]:
    """The hub's log events during a test (whatever logging an earlier test configured);
    none may carry an INSZ unmasked."""
    with structlog.testing.capture_logs() as captured:
        yield captured
    unmasked = [event for event in captured
                if any(insz in str(event) for insz in WELL_KNOWN.values())]
    assert unmasked == []


@dataclasses.dataclass
class Sent:
    """One request as it left the hub: the service's root element in the SOAP Body."""

    payload: etree._Element

    @property
    def service(self) -> str:
        return etree.QName(self.payload).localname


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> list[Sent]:
    """Every request body the hub posts, captured just before it leaves."""
    sent: list[Sent] = []
    original = AiohttpTransport.post

    async def capture(self: AiohttpTransport, address: str, message: bytes,
                      headers: Mapping[str, str]) -> HttpResponse:
        envelope = etree.fromstring(message)
        body = envelope.find(f"{{{SOAP}}}Body")
        assert body is not None and len(body) == 1
        sent.append(Sent(body[0]))
        return await original(self, address, message, headers)

    monkeypatch.setattr(AiohttpTransport, "post", capture)
    return sent


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[OutcomeStore]:
    opened = await open_store(f"sqlite:///{tmp_path}/audit.db")
    yield opened
    await opened.close()


@pytest.fixture
def magda(simulator: Any, pki: dict[str, KeyPair]) -> MagdaSettings:
    pair = pki["magda-client"]
    return dataclasses.replace(MagdaSettings(), base_url=simulator.base_url,
                               signing_key=pair.key, signing_cert=pair.cert,
                               hoedanigheid=HOEDANIGHEID)


def _job(job_type: str, insz: str, parameters: dict[str, Any], *, job_id: str) -> Job:
    return Job(job_id=job_id, type=job_type, tenant="gent",
               requester=Requester("person", insz, True), subject=Subject("person", insz),
               product_id=1, dossier_id="D-1", parameters=parameters)


async def _run(adapter: Any, job: Job, store: OutcomeStore) -> AdapterAnswer | HubError:
    """Run the adapter as the pipeline does, steps (continuations) included; errors returned."""
    journal: dict[str, Any] = {}
    for _ in range(10):
        context = CallContext(job=job, tenant=TENANT, attempt=1, audit=store, journal=journal)
        try:
            answer = await adapter.handle(context)
        except HubError as error:
            return error
        if not isinstance(answer, Continuation):
            return answer
        journal = dict(answer.journal)
    raise AssertionError("the adapter never finished")


def _errors(sent: list[Sent]) -> dict[str, list[str]]:
    return {f"{s.service} #{i}": errors for i, s in enumerate(sent)
            if (errors := schema_errors(s.payload, s.service, "request"))}


def _services(sent: list[Sent]) -> list[str]:
    return [s.service for s in sent]


# ----- every job kind, every service: what the hub sends is valid for MAGDA -----

async def test_every_population_attest_sends_magda_valid_requests(
    magda: MagdaSettings, wire: list[Sent], store: OutcomeStore
) -> None:
    adapter = PopulationAdapter(magda, BackendSettings(), {"gent": TENANT})
    await adapter.start()
    try:
        for attest in load_catalogue():
            for language in ("nl", "fr"):
                await _run(adapter, _job("population.attest", WELL_KNOWN["single"],
                                         {"attest": attest, "language": language},
                                         job_id=f"conformance-{attest}-{language}"), store)
    finally:
        await adapter.close()
    # GeefPersoon / GeefHistoriekPersoon first meet 40003, so the hub registers (PERS).
    assert {"GeefGezinssamenstelling", "GeefPersoon", "GeefHistoriekPersoon",
            "RegistreerInschrijving"} <= set(_services(wire))
    assert _errors(wire) == {}
    for sent in wire:
        if sent.service != "RegistreerInschrijving":
            assert sent.payload.findtext("Verzoek/Vragen/Vraag/Inhoud/Taal") in ("nl", "fr")


async def test_prefill_sends_magda_valid_requests(
    magda: MagdaSettings, wire: list[Sent], store: OutcomeStore
) -> None:
    adapter = PrefillAdapter(magda, BackendSettings(), {"gent": TENANT})
    await adapter.start()
    try:
        await _run(adapter, _job("prefill.form", WELL_KNOWN["mover"], {
            "question_ids": ["person_requester_1_street", "person_requester_1_nationality"],
            "claims": {},
        }, job_id="conformance-prefill"), store)
    finally:
        await adapter.close()
    assert _services(wire) == ["GeefPersoon", "RegistreerInschrijving", "GeefPersoon"]
    assert _errors(wire) == {}


async def test_civil_status_sends_magda_valid_requests(
    magda: MagdaSettings, wire: list[Sent], store: OutcomeStore
) -> None:
    adapter = CivilStatusAdapter(magda, BackendSettings(), {"gent": TENANT})
    await adapter.start()
    try:
        for form in ("extract", "copy"):
            outcome = await _run(adapter, _job("civil-status.act", WELL_KNOWN["single"], {
                "act": "birth", "form": form, "language": "nl",
            }, job_id=f"conformance-act-{form}"), store)
            assert isinstance(outcome, AdapterAnswer), outcome
    finally:
        await adapter.close()
    assert _services(wire) == ["ZoekAktenBurgerlijkeStand", "GeefAkteBurgerlijkeStand"] * 2
    assert _errors(wire) == {}
    fetches = [s.payload for s in wire if s.service == "GeefAkteBurgerlijkeStand"]
    assert fetches[0].find("Verzoek/Vragen/Vraag/Inhoud/Criteria/CriteriaUittreksel") is not None
    assert fetches[1].find("Verzoek/Vragen/Vraag/Inhoud/Criteria/CriteriaAfschrift") is not None


async def test_an_act_named_by_reference_is_found_among_the_person_s_acts_of_its_type(
    magda: MagdaSettings, wire: list[Sent], store: OutcomeStore
) -> None:
    """MAGDA's search has no DocumentReferte: the hub searches by type and INSZ and picks it."""
    adapter = CivilStatusAdapter(magda, BackendSettings(), {"gent": TENANT})
    await adapter.start()
    try:
        outcome = await _run(adapter, _job("civil-status.act", WELL_KNOWN["cohabitant"], {
            "act": "recognition", "act_reference": WELL_KNOWN_ACTS["recognition_cohabitant_2"],
        }, job_id="conformance-act-by-reference"), store)
    finally:
        await adapter.close()
    assert isinstance(outcome, AdapterAnswer), outcome
    assert _errors(wire) == {}
    search, fetch = (s.payload for s in wire)
    criteria = search.find("Verzoek/Vragen/Vraag/Inhoud/Criteria")
    assert criteria is not None
    assert [c.tag for c in criteria] == ["DocumentType", "INSZ", "ZoekInRijksregister"]
    assert fetch.findtext("Verzoek/Vragen/Vraag/Inhoud/Criteria/CriteriaUittreksel/"
                          "DocumentReferte") == WELL_KNOWN_ACTS["recognition_cohabitant_2"]


@pytest.mark.parametrize(("model", "activity"), [("595", None), ("596.1", "TAXI")])
async def test_criminal_record_sends_magda_valid_requests(
    magda: MagdaSettings, wire: list[Sent], store: OutcomeStore, model: str,
    activity: str | None,
) -> None:
    adapter = CriminalRecordAdapter(magda, BackendSettings(), {"gent": TENANT})
    parameters: dict[str, Any] = {"model": model, "language": "nl"}
    if activity:
        parameters["activity"] = activity
    await adapter.start()
    try:
        outcome = await _run(adapter, _job("criminal-record.extract", WELL_KNOWN["single"],
                                           parameters, job_id=f"conformance-{model}"), store)
        assert isinstance(outcome, AdapterAnswer), outcome
    finally:
        await adapter.close()
    services = _services(wire)
    assert services[0] == services[-1] == "GeefUittrekselStrafregister"
    assert "GeefStatusUittrekselStrafregister" in services
    assert _errors(wire) == {}
    request, fetch = wire[0].payload, wire[-1].payload
    assert request.findtext("Verzoek/Vragen/Vraag/Inhoud/Criteria/TypeUittreksel") == (
        f"{model}-{activity}" if activity else model)
    assert fetch.find("Verzoek/Vragen/Vraag/Inhoud/Criteria/INSZ") is None
    assert fetch.findtext("Verzoek/Vragen/Vraag/Inhoud/Gemeente/Aanvrager") == (
        WELL_KNOWN["single"])


def test_every_service_the_hub_calls_has_magda_s_namespace() -> None:
    """The simulator's root element namespace (ours) is MAGDA's target namespace."""
    for name, spec in SIMULATED.items():
        path = (reference_dir() / "xsd" / SERVICES[name].folder / "WebService"
                / f"{name}.xsd")
        target = etree.parse(str(path)).getroot().get("targetNamespace")
        assert spec.namespace == target, name


# ----- the simulator is as strict as MAGDA -----

def _envelope(payload: etree._Element) -> bytes:
    envelope = etree.Element(f"{{{SOAP}}}Envelope")
    etree.SubElement(envelope, f"{{{SOAP}}}Body").append(payload)
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def _drop(payload: etree._Element, path: str) -> etree._Element:
    copy = etree.fromstring(etree.tostring(payload))
    element = copy.find(path)
    assert element is not None, path
    parent = element.getparent()
    assert parent is not None
    parent.remove(element)
    return copy


@pytest.fixture
async def lenient_simulator() -> AsyncIterator[Any]:
    """A simulator that does not require a signature: only the schema decides here."""
    sim = await start_magda_simulator(MagdaSimulatorSettings(port=0, require_signature=False))
    try:
        yield sim
    finally:
        await sim.close()


async def test_the_simulator_refuses_what_magda_s_xsd_refuses(
    magda: MagdaSettings, wire: list[Sent], store: OutcomeStore, lenient_simulator: Any
) -> None:
    adapter = PopulationAdapter(magda, BackendSettings(), {"gent": TENANT})
    await adapter.start()
    try:
        for attest in ("household-composition", "main-residence", "main-residence-history"):
            await _run(adapter, _job("population.attest", WELL_KNOWN["single"],
                                     {"attest": attest}, job_id=f"strict-{attest}"), store)
    finally:
        await adapter.close()
    first = {s.service: s.payload for s in reversed(wire)}
    broken = {
        "GeefPersoon without Bron": ("GeefPersoon", "Verzoek/Vragen/Vraag/Inhoud/Bron"),
        "GeefPersoon without Taal": ("GeefPersoon", "Verzoek/Vragen/Vraag/Inhoud/Taal"),
        "GeefHistoriekPersoon without Bron":
            ("GeefHistoriekPersoon", "Verzoek/Vragen/Vraag/Inhoud/Bron"),
        "GeefGezinssamenstelling without Taal":
            ("GeefGezinssamenstelling", "Verzoek/Vragen/Vraag/Inhoud/Taal"),
        "RegistreerInschrijving without Hoedanigheid":
            ("RegistreerInschrijving", "Verzoek/Vragen/Vraag/Inhoud/Inschrijving/Hoedanigheid"),
    }
    async with aiohttp.ClientSession() as http:
        for case, (service, path) in broken.items():
            payload = _drop(first[service], path)
            assert schema_errors(payload, service, "request"), f"MAGDA accepts {case}?"
            url = f"{lenient_simulator.base_url}/{service}Dienst-{SERVICES[service].version}" \
                  "/soap/WebService"
            async with http.post(url, data=_envelope(payload),
                                 headers={"Content-Type": "text/xml"}) as reply:
                body = await reply.read()
                assert reply.status == 500, case
                assert b"10001" in body, (case, body[:300])
            # And the unbroken request passes the same gate.
            async with http.post(url, data=_envelope(first[service]),
                                 headers={"Content-Type": "text/xml"}) as reply:
                assert reply.status == 200, (case, (await reply.read())[:300])


# ----- the repertorium -----

def _identity(hoedanigheid: str = HOEDANIGHEID) -> RequestIdentity:
    return RequestIdentity("kb.vlaanderen.be/aiv/loket-hub-dev", hoedanigheid,
                           "vip.vlaanderen.be")


async def test_the_registration_says_pers_for_a_person_in_magda_s_namespace(
    magda: MagdaSettings, wire: list[Sent], store: OutcomeStore
) -> None:
    adapter = PopulationAdapter(magda, BackendSettings(), {"gent": TENANT})
    await adapter.start()
    try:
        outcome = await _run(adapter, _job("population.attest", WELL_KNOWN["single"],
                                           {"attest": "main-residence"}, job_id="rep-1"), store)
    finally:
        await adapter.close()
    (registration,) = [s.payload for s in wire if s.service == "RegistreerInschrijving"]
    assert etree.QName(registration).namespace == REPERTORIUM_NS
    inschrijving_ = registration.find("Verzoek/Vragen/Vraag/Inhoud/Inschrijving")
    assert inschrijving_ is not None
    assert inschrijving_.findtext("Hoedanigheid") == HOEDANIGHEID
    assert inschrijving_.findtext("BetrokkenSubject/Type") == "PERS"
    assert inschrijving_.findtext("BetrokkenSubject/Subjecten/Subject/Type") == "PERS"
    assert inschrijving_.findtext("BetrokkenSubject/Subjecten/Subject/Sleutel") == (
        WELL_KNOWN["single"])
    begin = inschrijving_.findtext("Periode/Begin")
    assert begin is not None and begin == inschrijving_.findtext("Periode/Einde")
    dt.date.fromisoformat(begin)
    context = registration.find("Verzoek/Context/Bericht")
    assert context is not None and context.findtext("Afzender/Hoedanigheid") == HOEDANIGHEID
    assert not isinstance(outcome, HubError) or outcome.code != "REPERTORIUM_REGISTRATION_REFUSED"


def test_a_company_registers_as_ond_with_its_kbo_number() -> None:
    day = dt.date(2030, 6, 1)
    inhoud = inschrijving(_identity(), "0566988259", subject="OND", today=day)
    subject = inhoud["Inschrijving"]
    assert isinstance(subject, dict)
    assert subject["BetrokkenSubject"] == {
        "Type": "OND", "Subjecten": {"Subject": [{"Type": "OND", "Sleutel": "0566988259"}]}}
    assert subject["Periode"] == {"Begin": "2030-06-01", "Einde": "2030-06-01"}
    assert subject["Hoedanigheid"] == HOEDANIGHEID


def _answer(root: etree._Element) -> MagdaAnswer:
    antwoord = root.find("Repliek/Antwoorden/Antwoord")
    assert antwoord is not None
    warnings = tuple(
        MagdaException(u.findtext("Identificatie") or "", u.findtext("Oorsprong") or "",
                       u.findtext("Type") or "", u.findtext("Diagnose") or "")
        for u in antwoord.findall("Uitzonderingen/Uitzondering"))
    return MagdaAnswer(antwoord.find("Inhoud"), warnings, "our-referte", "their-referte")


def _official_registrations() -> Iterator[tuple[str, etree._Element]]:
    for official in official_answers("RegistreerInschrijving"):
        yield official.key, official.root()


def test_magda_s_own_registration_answers_read_as_magda_means_them() -> None:
    seen = {"1": 0, "0": 0}
    for key, root in _official_registrations():
        assert schema_errors(root, "RegistreerInschrijving", "response") == [], key
        if root.find("Repliek/Antwoorden/Antwoord/Inhoud/Resultaat") is None:
            continue  # an answer-level or message-level FOUT: the client raises it itself
        code = root.findtext("Repliek/Antwoorden/Antwoord/Inhoud/Resultaat")
        assert code is not None
        seen[code.strip()] += 1
        answer = _answer(root)
        if code.strip() == "1":
            assert check_registration(answer).already_registered is False, key
        else:
            with pytest.raises(RegistrationRefused) as refused:
                check_registration(answer)
            assert refused.value.retryable is False
            assert refused.value.details["beschrijving"] == "Niet geslaagd", key
            assert "Niet geslaagd" in refused.value.message
    assert seen["1"] >= 1 and seen["0"] >= 1, seen


def test_already_registered_stays_a_success() -> None:
    root = next(r for k, r in _official_registrations() if k.endswith("success"))
    answer = _answer(root)
    warned = dataclasses.replace(answer, warnings=(
        MagdaException("40143", "MAGDA", "WAARSCHUWING", "Reeds ingeschreven"),))
    assert check_registration(warned).already_registered is True
    # Even with Resultaat 0: 40143 means the subject is in our repertorium.
    inhoud = etree.fromstring('<Inhoud><Resultaat Beschrijving="Niet geslaagd">0</Resultaat>'
                              "</Inhoud>")
    assert check_registration(dataclasses.replace(warned, inhoud=inhoud)).already_registered


async def test_the_simulator_answers_registrations_in_magda_s_structure(
    magda: MagdaSettings, store: OutcomeStore, wire: list[Sent]
) -> None:
    adapter = PopulationAdapter(magda, BackendSettings(), {"gent": TENANT})
    await adapter.start()
    try:
        await _run(adapter, _job("population.attest", WELL_KNOWN["single"],
                                 {"attest": "main-residence"}, job_id="rep-2"), store)
    finally:
        await adapter.close()
    (registration,) = [s.payload for s in wire if s.service == "RegistreerInschrijving"]
    sim = await start_magda_simulator(MagdaSimulatorSettings(port=0, require_signature=False))
    url = f"{sim.base_url}/RegistreerInschrijvingDienst-02.01/soap/WebService"
    refused = etree.fromstring(etree.tostring(registration))
    subject_type = refused.find(
        "Verzoek/Vragen/Vraag/Inhoud/Inschrijving/BetrokkenSubject/Subjecten/Subject/Type")
    assert subject_type is not None
    subject_type.text = "OND"  # a person's INSZ as a company: MAGDA does not register that
    try:
        async with aiohttp.ClientSession() as http:
            for payload, expected in ((registration, "1"), (registration, "1"), (refused, "0")):
                async with http.post(url, data=_envelope(payload),
                                     headers={"Content-Type": "text/xml"}) as reply:
                    assert reply.status == 200
                    envelope = etree.fromstring(await reply.read())
                body = envelope.find(f"{{{SOAP}}}Body")
                assert body is not None
                answer = body[0]
                assert schema_errors(answer, "RegistreerInschrijving", "response") == []
                resultaat = answer.find("Repliek/Antwoorden/Antwoord/Inhoud/Resultaat")
                assert resultaat is not None and resultaat.text == expected
                assert resultaat.get("Beschrijving") == (
                    "Wel geslaagd" if expected == "1" else "Niet geslaagd")
    finally:
        await sim.close()


# ----- Hoedanigheid is required configuration -----

def test_check_config_names_where_the_hoedanigheid_is_missing() -> None:
    own = dataclasses.replace(TENANT, slug="leuven", magda=TenantMagdaSettings(hoedanigheid="77"))
    without = dataclasses.replace(TENANT, slug="gent")
    problems = hoedanigheid_problems(MagdaSettings(), {"gent": without, "leuven": own})
    assert len(problems) == 1
    assert "magda.hoedanigheid" in problems[0] and "gent" in problems[0]
    assert "leuven" not in problems[0]
    assert hoedanigheid_problems(MagdaSettings(hoedanigheid="1300"), {"gent": without}) == []
    assert hoedanigheid_problems(MagdaSettings(), {"leuven": own}) == []
    assert hoedanigheid_problems(MagdaSettings(), {}) != []
    assert "24" in hoedanigheid_problems(MagdaSettings(hoedanigheid="x" * 25), {})[0]


def test_the_adapters_refuse_to_start_without_a_hoedanigheid(magda: MagdaSettings) -> None:
    empty = dataclasses.replace(magda, hoedanigheid="")
    for adapter_type in (PopulationAdapter, CivilStatusAdapter, CriminalRecordAdapter):
        problems = adapter_type(empty, BackendSettings(), {"gent": TENANT}).check_config()
        assert any("hoedanigheid" in p for p in problems), adapter_type


def test_the_shipped_tenants_have_a_hoedanigheid(repo_root: Path) -> None:
    tenants = load_tenants(repo_root / "mappings" / "tenants")
    assert tenants
    assert hoedanigheid_problems(MagdaSettings(), tenants) == []


def _check_config(config: Path) -> int:
    """``loket-hub --config CONFIG check-config --offline``, in this process."""
    from hub.cli import main

    # The command line sets up logging on this test's captured streams: put it back after.
    structlog_config = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        return main(["--config", str(config), "check-config", "--offline"])
    finally:
        structlog.configure(**structlog_config)
        root.handlers[:] = handlers
        root.setLevel(level)


def test_the_shipped_example_configuration_passes_check_config(
    repo_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _check_config(repo_root / "examples" / "loket-hub.toml") == 0, capsys.readouterr()


def test_check_config_refuses_a_configuration_without_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], repo_root: Path
) -> None:
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    (tenants / "gent.toml").write_text(
        'name = "Stad Gent"\nnis_code = "44021"\n'
        'connector_urn = "urn://gent.be/cs-connector/loket-hub"\n', encoding="utf-8")
    config = tmp_path / "loket-hub.toml"
    config.write_text(f'tenants_dir = "{tenants}"\n', encoding="utf-8")
    assert _check_config(config) != 0
    printed = capsys.readouterr()
    assert "magda.hoedanigheid is empty" in printed.out + printed.err
    assert "gent" in printed.out + printed.err


@pytest.fixture
def official_registration(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """RegistreerInschrijving answered by one of MAGDA's own official answers (set ``answer``),
    with our question's Referte put in; every other service goes to the simulator."""
    served: dict[str, bytes] = {}
    original = AiohttpTransport.post

    async def serve(self: AiohttpTransport, address: str, message: bytes,
                    headers: Mapping[str, str]) -> HttpResponse:
        if "/RegistreerInschrijvingDienst-" not in address:
            return await original(self, address, message, headers)
        question = etree.fromstring(message)
        referte = question.findtext(f"{{{SOAP}}}Body/*/Verzoek/Vragen/Vraag/Referte")
        answer = etree.fromstring(served["answer"])
        for element in answer.iterfind("Repliek/Antwoorden/Antwoord/Referte"):
            element.text = referte
        envelope = etree.Element(f"{{{SOAP}}}Envelope")
        etree.SubElement(envelope, f"{{{SOAP}}}Body").append(answer)
        return HttpResponse(200, etree.tostring(envelope), {"Content-Type": "text/xml"})

    monkeypatch.setattr(AiohttpTransport, "post", serve)
    return served


@pytest.mark.parametrize(
    ("key", "retryable", "code"),
    [("PERS/89610532179", False, "REPERTORIUM_REGISTRATION_REFUSED"),
     ("PERS/91610100275", False, "REPERTORIUM_REGISTRATION_REFUSED"),
     ("PERS/91610100176", True, "BACKEND_UNAVAILABLE")],
)
async def test_a_failed_registration_is_an_error_not_a_success(
    magda: MagdaSettings, store: OutcomeStore, official_registration: dict[str, bytes],
    key: str, retryable: bool, code: str,
) -> None:
    """End to end with MAGDA's own answers: "Niet geslaagd" stops the job with MAGDA's reason
    (before, it counted as registered); 99996 at message level is retried."""
    (official,) = [a for a in official_answers("RegistreerInschrijving") if a.key == key]
    official_registration["answer"] = official.path.read_bytes()
    # The stand-in serves MAGDA's mock answers as published, unsigned: reply signatures off.
    adapter = PopulationAdapter(magda, BackendSettings(reply_signature="off"), {"gent": TENANT})
    await adapter.start()
    try:
        outcome = await _run(adapter, _job("population.attest", WELL_KNOWN["single"],
                                           {"attest": "main-residence"},
                                           job_id=f"official-{key}"), store)
    finally:
        await adapter.close()
    assert isinstance(outcome, HubError)
    assert (outcome.code, outcome.retryable) == (code, retryable)
    if not retryable:
        assert isinstance(outcome, RegistrationRefused)
        assert outcome.details["beschrijving"] == "Niet geslaagd"
        assert outcome.details["resultaat"] == "0"
