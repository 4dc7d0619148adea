"""Transport side of the criminal-record adapter: the services through MAGDA, and the questions
the hub asks them, in the shape of MAGDA's schemas (``wsdl/magda/``).

Every question names the municipality that asks (``Gemeente/NISCode``, the tenant) and the
person on whose behalf it does (``Gemeente/Aanvrager``, an INSZ: the requester, who is the
person concerned, logged in; see ``check_request``).
"""

from __future__ import annotations

from typing import Any

from adapters.criminal_record.mapping import ModelRule
from adapters.magda import ServiceSpec
from hub.contract import Job

__all__ = [
    "EXTRACT",
    "SERVICES",
    "STATUS",
    "extract_type",
    "fetch_inhoud",
    "request_inhoud",
    "status_inhoud",
]

EXTRACT = ServiceSpec(
    "GeefUittrekselStrafregister", "02.00.0000",
    "GeefUittrekselStrafregister-02.00/GeefUittrekselStrafregister.wsdl",
)
STATUS = ServiceSpec(
    "GeefStatusUittrekselStrafregister", "02.00.0000",
    "GeefStatusUittrekselStrafregister-02.00/GeefStatusUittrekselStrafregister.wsdl",
)
SERVICES = (EXTRACT, STATUS)


def _gemeente(job: Job, nis_code: str) -> dict[str, str]:
    return {"NISCode": nis_code, "Aanvrager": job.requester.identifier}


def extract_type(rule: ModelRule, activity: str | None) -> str:
    """``TypeUittreksel``: the model (``595``), or the model and its activity (``596.1-TAXI``).

    MAGDA's question has no element for the activity of a 596.x extract: each activity is its
    own extract type, as GeefTypesUittrekselStrafregister lists them. The code's exact form is
    not published (unconfirmed): ``<model>-<activity>``, at most 50 characters.
    """
    if rule.activities and activity:
        return f"{rule.model}-{activity}"
    return rule.model


def request_inhoud(job: Job, rule: ModelRule, *, nis_code: str) -> dict[str, Any]:
    """``Vraag/Inhoud`` asking for a new extract of the job's subject."""
    criteria: dict[str, Any] = {
        "INSZ": job.subject.identifier,
        # 1: the INSZ is printed on the extract, so whoever receives it can match the person.
        "INSZOpUittreksel": "1",
        "Taal": job.parameters.get("language", "nl"),
        "TypeUittreksel": extract_type(rule, job.parameters.get("activity")),
    }
    if job.parameters.get("remark"):
        criteria["Opmerking"] = str(job.parameters["remark"])[:200]
    # Our job id: the status answer names the extract by it as well.
    criteria["Referentie"] = job.job_id[:200]
    return {"Gemeente": _gemeente(job, nis_code), "Criteria": criteria}


def status_inhoud(job: Job, *, nis_code: str) -> dict[str, Any]:
    """``Vraag/Inhoud`` asking where the subject's extracts are."""
    return {"Gemeente": _gemeente(job, nis_code), "Criteria": {"INSZ": job.subject.identifier}}


def fetch_inhoud(job: Job, number: str, *, nis_code: str) -> dict[str, Any]:
    """``Vraag/Inhoud`` fetching the ready extract ``number``."""
    return {"Gemeente": _gemeente(job, nis_code), "Criteria": {"Identificatienummer": number}}
