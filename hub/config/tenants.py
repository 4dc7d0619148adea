"""The municipalities (tenants): one ``mappings/tenants/<slug>.toml`` each, validated like the
settings, every problem of every file reported at once."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, TypeAdapter, ValidationError

from hub.config.problems import SettingsProblems, describe_errors
from hub.config.sections import SigningSettings
from hub.config.types import REPO_ROOT, SECTION
from hub.identifiers import IdentifierError, normalize_association_number, normalize_kbo

__all__ = [
    "RIGHT_BASES",
    "TenantAddress",
    "TenantMagdaSettings",
    "TenantRight",
    "TenantSettings",
    "load_tenants",
    "right_problems",
]


def _urn(value: str) -> str:
    if not value.startswith("urn://"):
        raise ValueError("must start with urn://")
    return value


@dataclass(frozen=True)
class TenantMagdaSettings:
    """A tenant's own MAGDA identity; empty values fall back to the ``[magda]`` settings."""

    __pydantic_config__ = SECTION

    client_identification: str = ""
    hoedanigheid: str = ""
    signing_key: str = ""
    signing_cert: str = ""
    tls_cert: str = ""
    tls_key: str = ""


RIGHT_BASES = ("legal-representative", "product-right")
"""Why a natural person may act for a company or association (``requester.basis``)."""


@dataclass(frozen=True)
class TenantRight:
    """A company (KBO) or association that receives these job types automatically.

    Only when the job meets the right: it names one of ``bases`` as ``requester.basis`` and an
    ``acting_person``; under ``product-right`` its product is one of ``products`` (catalogue
    numbers of these job types); under ``legal-representative`` every product of the types.
    """

    __pydantic_config__ = SECTION

    name: str = ""
    kbo: str = ""
    association: str = ""
    job_types: tuple[str, ...] = ()
    bases: tuple[str, ...] = ()
    products: tuple[int, ...] = ()

    @property
    def holder(self) -> str:
        return self.kbo or self.association


@dataclass(frozen=True)
class TenantAddress:
    """A postal address: the dossier manager's in the citizen profile (DossierBeheerder.Adres)."""

    __pydantic_config__ = SECTION

    street: str = ""
    number: str = ""
    postcode: str = ""
    municipality: str = ""

    @property
    def complete(self) -> bool:
        return bool(self.street and self.number and self.postcode and self.municipality)


@dataclass(frozen=True)
class TenantSettings:
    """One municipality (bestuur); read from ``mappings/tenants/<slug>.toml``."""

    __pydantic_config__ = SECTION

    slug: str
    name: str
    nis_code: str
    connector_urn: Annotated[str, AfterValidator(_urn)]
    magda: TenantMagdaSettings = field(default_factory=TenantMagdaSettings)
    # The municipality's own document-signing key; empty: the [documents.signing] default.
    signing: SigningSettings = field(default_factory=SigningSettings)
    # Companies and public bodies (notaries, lawyers, governments) with automatic delivery.
    rights: tuple[TenantRight, ...] = ()
    # Also send notifications (meldingen) to Mijn Burgerprofiel for statuses that need attention.
    notifications: bool = False
    # The municipality consults the national register through MAGDA (for prefill).
    register_link: bool = False
    # Shown as the dossier's manager in the citizen profile; without a complete address no
    # manager is sent (DOSIS's own client cannot send one without an address).
    service_name: str = ""
    service_email: str = ""
    service_phone: str = ""
    website: str = ""
    address: TenantAddress = field(default_factory=TenantAddress)
    # The language of dossier names and status texts in the citizen profile (nl, fr, de, en).
    language: str = "nl"
    # The dossier's page on the e-counter (Doorverwijzing): {dossier_id} and {job_id} are
    # filled in. Empty: no link.
    dossier_url: str = ""
    # A company agent's right in the citizen profile, "<right> - <context>" (the context may
    # be empty). Empty right: the company is an agent without rights.
    company_right: str = ""
    company_right_context: str = ""
    # The secret that signs forwards to this municipality's back offices and authenticates
    # their actions and its employees' decisions (a file, never a value). Empty:
    # var/dev-pki/backoffice-<slug>.secret.
    backoffice_secret_file: str = ""

    @property
    def backoffice_secret_path(self) -> Path:
        value = self.backoffice_secret_file or f"var/dev-pki/backoffice-{self.slug}.secret"
        path = Path(value).expanduser()
        return path if path.is_absolute() else REPO_ROOT / path


_TENANT = TypeAdapter(TenantSettings)


def load_tenants(directory: Path) -> dict[str, TenantSettings]:
    """Every ``<slug>.toml`` in ``directory``; the file name is the tenant slug.

    Raises :class:`SettingsProblems` naming every problem of every file.
    """
    tenants: dict[str, TenantSettings] = {}
    problems: list[str] = []
    for file in sorted(directory.glob("*.toml")):
        found = _tenant_file(file)
        if isinstance(found, TenantSettings):
            tenants[file.stem] = found
        else:
            problems += [f"tenant file {file}: {problem}" for problem in found]
    if problems:
        raise SettingsProblems(problems)
    return tenants


def _tenant_file(file: Path) -> TenantSettings | list[str]:
    try:
        data: dict[str, Any] = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return [f"cannot read it: {exc}"]
    try:
        tenant = _TENANT.validate_python({"slug": file.stem, **data})
    except ValidationError as exc:
        return describe_errors(exc)
    return right_problems(tenant.rights) or tenant


def right_problems(rights: tuple[TenantRight, ...]) -> list[str]:
    """What makes listed rights mean nothing or more than they say (empty: they are sound)."""
    # Imported here: the catalogue's reader imports this package.
    from hub.status.mapping import load_catalogue

    catalogue = load_catalogue()
    problems: list[str] = []
    for number, right in enumerate(rights, start=1):
        where = f"[[rights]] #{number} ({right.name or right.holder or 'unnamed'})"
        if bool(right.kbo) == bool(right.association):
            problems.append(f"{where}: needs exactly one of kbo and association")
        try:
            if right.kbo and normalize_kbo(right.kbo) != right.kbo:
                problems.append(f"{where}: kbo must be written as 10 digits")
            if right.association and \
                    normalize_association_number(right.association) != right.association:
                problems.append(f"{where}: association must be written as V and 7 digits")
        except IdentifierError as exc:
            problems.append(f"{where}: {exc.message}")
        if not right.job_types:
            problems.append(f"{where}: names no job_types")
        unknown_types = [t for t in right.job_types if not catalogue.products_of(t)]
        if unknown_types:
            problems.append(f"{where}: job types not in the product catalogue: {unknown_types}")
        if not right.bases:
            problems.append(f"{where}: names no bases ({' or '.join(RIGHT_BASES)})")
        unknown_bases = sorted(set(right.bases) - set(RIGHT_BASES))
        if unknown_bases:
            problems.append(f"{where}: unknown bases {unknown_bases}")
        if "product-right" in right.bases and not right.products:
            problems.append(f"{where}: a product-right basis needs its products")
        if right.products and "product-right" not in right.bases:
            problems.append(f"{where}: products are only read under the product-right basis")
        foreign = [p for p in right.products
                   if not any(catalogue.belongs(t, p) for t in right.job_types)]
        if foreign:
            problems.append(f"{where}: products {foreign} belong to none of its job types")
    return problems
