"""The SOAP endpoint every simulated MAGDA service shares.

Order, as at the MAGDA gateway: parse (hardened) -> signature -> schema (our service XSD, which
accepts exactly what MAGDA's request XSD accepts: a question without its required Bron, Taal or
Hoedanigheid, or with a second Vraag, gets MAGDA's fault 10001) -> latency and injected
faults -> the service's answer -> its documents (PDFs, made in a worker thread) -> reply
signature (over the Body with every document inline as base64) -> MTOM packaging when a
document travels as an attachment (after signing, so the signature covers the XOP-decoded
infoset, the attachments included, as at the gateway). Levels 1-3 of MAGDA errors
map to a SOAP Fault, a ``Repliek/Uitzonderingen`` and an ``Antwoord/Uitzonderingen``. Faults are
never signed.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial

from aiohttp import web
from lxml import etree

from simulators.magda.envelopes import (
    ERR_FORMAT,
    ERR_SIGNATURE,
    Uitzondering,
    fault_bytes,
    reply_context,
    sub,
    uitzonderingen,
)
from simulators.magda.faults import PADDING_CODE, FaultRule
from simulators.magda.mtom import Attachment, externalise, multipart_related
from simulators.magda.services import Answer, PendingDocument, Question
from simulators.magda.signing import render_reply, tamper_attachment
from simulators.magda.state import STATE, CallRecord, LoadedService, SimulatorState
from simulators.wssecurity import (
    SOAP11_NS,
    WSSE_NS,
    SignatureVerificationError,
    UnsafeXMLError,
    parse_untrusted_xml,
)

__all__ = ["ACCEPTED_CONTENT_TYPES", "soap_handler"]

ACCEPTED_CONTENT_TYPES = ("text/xml", "application/soap+xml")
_XML = "text/xml"
_PROXY_ERROR = "<html><body><h1>500 Internal Server Error</h1></body></html>"


@dataclass(frozen=True)
class _Facts:
    """What the calls log shows, read from the payload before it is trusted."""

    insz: str | None
    referte: str | None
    afzender_referte: str | None


@dataclass(frozen=True)
class _Reply:
    """The Response element, the outcome label, and the documents it still needs."""

    root: etree._Element
    outcome: str
    documents: tuple[PendingDocument, ...] = ()


def soap_handler(service: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The POST handler for one service's endpoint."""

    async def handle(request: web.Request) -> web.StreamResponse:
        state = request.app[STATE]
        state.in_progress += 1
        state.peak_in_progress = max(state.peak_in_progress, state.in_progress)
        try:
            return await _serve(state, state.services[service], request)
        finally:
            state.in_progress -= 1

    return handle


async def _serve(
    state: SimulatorState, loaded: LoadedService, request: web.Request
) -> web.StreamResponse:
    if request.content_type not in ACCEPTED_CONTENT_TYPES:
        return web.Response(status=415, text="expected text/xml or application/soap+xml")
    try:
        envelope = parse_untrusted_xml(await request.read())
    except UnsafeXMLError as exc:
        return _fault(ERR_FORMAT, str(exc))
    payload = _payload(envelope)
    if payload is None:
        return _fault(ERR_FORMAT, "expected a SOAP 1.1 Envelope with one element in its Body")
    spec = loaded.spec
    facts = _facts(payload, loaded)

    signed, refusal = _check_signature(state, envelope)
    if refusal is not None:
        _record(state, loaded, facts, signed=False, outcome="signature-refused")
        return _fault(ERR_SIGNATURE, refusal)

    if payload.tag != f"{{{spec.namespace}}}{spec.name}" or not loaded.schema.validate(payload):
        _record(state, loaded, facts, signed=signed, outcome="invalid-request")
        error = loaded.schema.error_log.last_error
        return _fault(ERR_FORMAT, str(error) if error else f"expected {spec.name}")

    await state.pause(state.latency_ms)
    rule = state.faults.take(spec.name, facts.insz)
    kind = None if rule is None else rule.kind
    if rule is not None and rule.kind != "magda-error":
        # Logged before acting, so a client that gives up on a timeout still finds its call.
        _record(state, loaded, facts, signed=signed, outcome=f"fault:{rule.kind}")
        if rule.kind == "http-500":
            return web.Response(status=500, text=_PROXY_ERROR, content_type="text/html")
        if rule.kind == "soap-fault":
            return _fault(rule.faultstring, None, faultcode="Server")
        if rule.kind == "timeout":
            # A late answer, as from a slow back end; the client decides whether to wait.
            await state.pause(rule.delay_ms)

    official = None if state.official is None else state.official.reply(spec, payload)
    reply = (_reply(state, loaded, payload, rule) if official is None
             else _Reply(official, "official"))
    attachments = await _make_documents(reply.documents)
    after_signing = partial(externalise, attachments) if attachments else None
    document = render_reply(reply.root, state.signer, kind, after_signing)
    if kind == "malformed-xml":
        # A reply cut in half, with a 200 status (the SOAP part only, for an MTOM reply).
        document = document[: len(document) // 2]
    if rule is None or rule.kind == "magda-error":
        _record(state, loaded, facts, signed=signed, outcome=reply.outcome)
    if attachments:
        if kind == "tampered-reply-attachment" and state.signer is not None:
            # Signed over the inline document, so a changed part no longer matches the Body.
            first = attachments[0]
            attachments[0] = replace(first, data=tamper_attachment(first.data))
        body, content_type = multipart_related(document, attachments)
        return web.Response(body=body, headers={"Content-Type": content_type})
    return _xml(document)


async def _make_documents(pending: Sequence[PendingDocument]) -> list[Attachment]:
    """Render every document off the event loop, inline as base64; return the attachments."""
    attachments: list[Attachment] = []
    for item in pending:
        data = await asyncio.to_thread(item.render)
        encoded = base64.b64encode(data).decode("ascii")
        # Where the xop:Include will stand: after the element's children (MAGDA's BestandType
        # has Naam, then the Include), so the signed form is the XOP-decoded form.
        children = [c for c in item.element if isinstance(c.tag, str)]
        if children:
            children[-1].tail = encoded
        else:
            item.element.text = encoded
        if item.content_id is not None:
            attachments.append(Attachment(item.element, item.content_id, item.content_type, data))
    return attachments


def _reply(
    state: SimulatorState, loaded: LoadedService, payload: etree._Element, rule: FaultRule | None
) -> _Reply:
    """The Response element, outcome and pending documents; ``rule`` may shape the answer."""
    spec = loaded.spec
    root = etree.Element(f"{{{spec.namespace}}}{spec.name}Response", nsmap={"ns": spec.namespace})
    repliek = sub(root, "Repliek")
    context = payload.find("Verzoek/Context")
    reply_context(repliek, context, spec.name, spec.version)
    vragen = payload.findall("Verzoek/Vragen/Vraag")
    injected = _injected(rule) if rule is not None and rule.kind == "magda-error" else None
    injected_outcome = "" if rule is None else f"magda-error:{rule.code}"

    if rule is not None and injected is not None and rule.level == "repliek":
        uitzonderingen(repliek, [injected])
        return _Reply(root, injected_outcome)
    # The schema allows exactly one Vraag (MAGDA's does too): a second one was a 10001 fault.
    vraag = vragen[0]
    client = None if context is None else context.findtext("Bericht/Afzender/Identificatie")
    question = Question(vraag, vraag.findtext("Referte") or "", spec.subject(vraag), client)
    registers = state.registers
    if injected is not None:
        # A FOUT carries no Inhoud; a WAARSCHUWING or INFORMATIE comes with the data.
        base = Answer() if injected.type == "FOUT" else spec.handler(question, registers)
        answer = replace(base, uitzonderingen=(injected, *base.uitzonderingen),
                         outcome=injected_outcome)
    else:
        answer = spec.handler(question, registers)
    extra = (_padding(rule.size_bytes),) if rule is not None and rule.kind == "huge-answer" else ()

    antwoord = sub(sub(repliek, "Antwoorden"), "Antwoord")
    sub(antwoord, "Referte", question.referte)
    if answer.inhoud is not None:
        antwoord.append(answer.inhoud)
    if answer.uitzonderingen or extra:
        uitzonderingen(antwoord, [*answer.uitzonderingen, *extra])
    return _Reply(root, answer.outcome, answer.documents)


def _padding(size: int) -> Uitzondering:
    # Padding a warning's Diagnose keeps the answer schema-valid and its data intact.
    prefix = "Gesimuleerd groot antwoord: "
    return Uitzondering(PADDING_CODE, prefix + "x" * max(0, size - len(prefix)),
                        type="WAARSCHUWING")


def _injected(rule: FaultRule) -> Uitzondering:
    return Uitzondering(rule.code, rule.diagnose, oorsprong=rule.oorsprong, type=rule.type)


def _payload(envelope: etree._Element) -> etree._Element | None:
    if envelope.tag != f"{{{SOAP11_NS}}}Envelope":
        return None
    bodies = envelope.findall(f"{{{SOAP11_NS}}}Body")
    if len(bodies) != 1:
        return None
    children = [child for child in bodies[0] if isinstance(child.tag, str)]
    return children[0] if len(children) == 1 else None


def _facts(payload: etree._Element, loaded: LoadedService) -> _Facts:
    vraag = payload.find("Verzoek/Vragen/Vraag")
    return _Facts(
        insz=None if vraag is None else loaded.spec.subject(vraag),
        referte=None if vraag is None else vraag.findtext("Referte"),
        afzender_referte=payload.findtext("Verzoek/Context/Bericht/Afzender/Referte"),
    )


def _check_signature(state: SimulatorState, envelope: etree._Element) -> tuple[bool, str | None]:
    """(signed, refusal reason); a reason only when a signature is required."""
    required = state.settings.require_signature
    if not required and envelope.find(f"{{{SOAP11_NS}}}Header/{{{WSSE_NS}}}Security") is None:
        return False, None
    try:
        state.verifier.verify(envelope)
    except SignatureVerificationError as exc:
        return False, exc.reason if required else None
    return True, None


def _record(
    state: SimulatorState, loaded: LoadedService, facts: _Facts, *, signed: bool, outcome: str
) -> None:
    state.calls.append(
        CallRecord(
            service=loaded.spec.name,
            insz=facts.insz,
            referte=facts.referte,
            afzender_referte=facts.afzender_referte,
            signed=signed,
            outcome=outcome,
        )
    )


def _xml(document: bytes) -> web.Response:
    return web.Response(body=document, content_type=_XML, charset="utf-8")


def _fault(faultstring: str, detail: str | None, *, faultcode: str = "Client") -> web.Response:
    return web.Response(
        status=500,
        body=fault_bytes(faultstring, faultcode=faultcode, detail=detail),
        content_type=_XML,
        charset="utf-8",
    )
