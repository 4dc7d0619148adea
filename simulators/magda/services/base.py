"""What a simulated service provides: a spec (name, version, WSDL) and a handler per Vraag."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree

from simulators.magda.documents import DocumentFactory
from simulators.magda.envelopes import Uitzondering
from simulators.magda.repertorium import Repertorium
from simulators.magda.strafregister import Strafregister
from simulators.population_data import Population

__all__ = [
    "Answer",
    "PendingDocument",
    "Question",
    "Registers",
    "ServiceHandler",
    "ServiceSpec",
    "criteria_insz",
]


@dataclass(frozen=True)
class Question:
    """One schema-valid Vraag: the element, its Referte, its subject INSZ, the calling client.

    ``client`` is the request's ``Context/Bericht/Afzender/Identificatie``.
    """

    element: etree._Element
    referte: str
    insz: str | None
    client: str | None = None


@dataclass(frozen=True)
class PendingDocument:
    """An empty ``Document`` element in an Inhoud, and how to make its bytes.

    The endpoint calls ``render`` in a worker thread (PDF work must not block the event loop),
    puts the bytes in the element as base64, and signs the reply that way. With a
    ``content_id`` the bytes then travel as an MTOM/XOP attachment with that Content-ID (without
    angle brackets) and the element holds an ``xop:Include``.
    """

    element: etree._Element
    render: Callable[[], bytes]
    content_id: str | None = None
    content_type: str = "application/pdf"


@dataclass(frozen=True)
class Answer:
    """A handler's result for one Vraag: an ``Inhoud`` element and/or exceptions.

    ``outcome`` is the short label the calls log shows (``ok``, ``not-found`` ...);
    ``documents`` are the Inhoud's documents still to be made.
    """

    inhoud: etree._Element | None = None
    uitzonderingen: tuple[Uitzondering, ...] = ()
    outcome: str = "ok"
    documents: tuple[PendingDocument, ...] = ()


@dataclass(frozen=True)
class Registers:
    """What handlers consult: the population, the repertorium and the criminal record's requests
    (both of which they may change), and the factory of the documents they deliver."""

    population: Population
    repertorium: Repertorium
    enforce_repertorium: bool = True
    strafregister: Strafregister = field(default_factory=Strafregister)
    documents: DocumentFactory = field(default_factory=DocumentFactory)


ServiceHandler = Callable[[Question, Registers], Answer]


def criteria_insz(vraag: etree._Element) -> str | None:
    """The subject of most person services: ``Inhoud/Criteria/INSZ``."""
    value = vraag.findtext("Inhoud/Criteria/INSZ")
    return value.strip() if value else None


@dataclass(frozen=True)
class ServiceSpec:
    """A MAGDA service as the simulator serves it."""

    name: str
    """Service name, the Context/Naam and the root element's local name."""
    version: str
    """``vv.vv`` as in the URL (``GeefGezinssamenstellingDienst-02.02``)."""
    namespace: str
    """Namespace of the request and response root elements."""
    wsdl: str
    """WSDL path relative to the WSDL directory."""
    schema: str
    """Service XSD path relative to the WSDL directory."""
    handler: ServiceHandler
    subject: Callable[[etree._Element], str | None] = field(default=criteria_insz)
    """How to find the subject INSZ in a Vraag (for fault matching and the calls log)."""

    @property
    def path(self) -> str:
        """The endpoint path, as in production."""
        return f"/{self.name}Dienst-{self.version}/soap/WebService"
