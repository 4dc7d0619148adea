"""Serve MAGDA's own mock answers, as MAGDA's mock service does, instead of simulated ones.

The folder is laid out as MAGDA publishes it (``magda-reference/answers``):
``<Domein>/<Naam>/<Versie>/<INSZ>.xml`` for each test persona, ``notfound.xml`` for every other
INSZ; RegistreerInschrijving 02.01 keys its answers by subject, ``<Type>/<Sleutel>.xml``, and
answers ``<Type>/success.xml`` (or ``success.xml``) for every other subject. A service the folder
has no answers for keeps its simulated answers.

Only the frame of the message is ours: the reply ``Context`` (to the caller, with its
references, as :func:`reply_context` writes it) and each ``Antwoord/Referte`` (the question's),
because MAGDA's mock echoes them too. Everything in ``Antwoorden`` and ``Uitzonderingen`` is the
file's, byte for byte in content, however our simulator would have answered.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path

from lxml import etree

from simulators.magda.envelopes import reply_context
from simulators.magda.services import ServiceSpec

__all__ = ["OfficialAnswers"]

_REGISTRATION = "RegistreerInschrijving"


def _parse(path: Path) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.parse(str(path), parser).getroot()


class OfficialAnswers:
    """MAGDA's answers from ``folder``, by service, version and subject."""

    def __init__(self, folder: Path) -> None:
        if not folder.is_dir():
            raise FileNotFoundError(f"no MAGDA answers folder at {folder}")
        self.folder = folder
        self._load = functools.cache(_parse)

    def _service_dir(self, name: str, version: str) -> Path | None:
        for domain in sorted(p for p in self.folder.iterdir() if p.is_dir()):
            candidate = domain / name / version
            if candidate.is_dir():
                return candidate
        return None

    def serves(self, spec: ServiceSpec) -> bool:
        """Whether the folder holds answers for ``spec`` (at its version)."""
        return self._service_dir(spec.name, f"{spec.version}.0000") is not None

    def _file(self, folder: Path, spec: ServiceSpec, vraag: etree._Element) -> Path | None:
        if spec.name == _REGISTRATION:
            subject = vraag.find("Inhoud/Inschrijving/BetrokkenSubject/Subjecten/Subject")
            kind = (subject.findtext("Type") if subject is not None else None) or "PERS"
            key = (subject.findtext("Sleutel") if subject is not None else None) or ""
            candidates = [folder / kind.strip() / f"{key.strip()}.xml",
                          folder / kind.strip() / "success.xml", folder / "success.xml"]
        else:
            insz = spec.subject(vraag) or ""
            candidates = [folder / f"{insz}.xml", folder / "notfound.xml"]
        return next((c for c in candidates if c.name != ".xml" and c.is_file()), None)

    def reply(self, spec: ServiceSpec, payload: etree._Element) -> etree._Element | None:
        """The Response root for this request, or ``None`` when the folder cannot answer it."""
        context = payload.find("Verzoek/Context")
        version = (context.findtext("Versie") if context is not None else None) or (
            f"{spec.version}.0000"
        )
        folder = self._service_dir(spec.name, version.strip())
        vraag = payload.find("Verzoek/Vragen/Vraag")
        if folder is None or vraag is None:
            return None
        path = self._file(folder, spec, vraag)
        if path is None:
            return None
        root = copy.deepcopy(self._load(path))
        repliek = root.find("Repliek")
        if repliek is None:  # a Fault file: not an answer to serve this way
            return None
        for old in repliek.findall("Context"):
            repliek.remove(old)
        ours = reply_context(etree.Element("frame"), context, spec.name, spec.version)
        repliek.insert(0, ours)
        for referte in repliek.findall("Antwoorden/Antwoord/Referte"):
            referte.text = vraag.findtext("Referte")
        return root
