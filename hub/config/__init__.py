"""Typed configuration value objects, read from a TOML file and ``LOKET_*`` environment variables.

Precedence: defaults < TOML file (``--config`` or ``LOKET_CONFIG``) < environment. An environment
variable names the path of a setting with ``__`` between levels, e.g. ``LOKET_BROKER__URL`` or
``LOKET_BACKENDS__POPULATION__TOTAL_TIMEOUT_S``. Secrets are never values here, only file paths.

The modules: :mod:`~hub.config.types` (the typed values), :mod:`~hub.config.sections` and
:mod:`~hub.config.services` (the sections), :mod:`~hub.config.tenants` (the municipalities),
:mod:`~hub.config.loader` (:class:`Settings`, :func:`load_settings`),
:mod:`~hub.config.example` (the generated example file and the README's table),
:mod:`~hub.config.checks` (what ``check-config`` checks beyond the values; imported by it only).
"""

from hub.config.loader import Settings, load_settings
from hub.config.problems import SettingsProblems
from hub.config.sections import (
    BackendSettings,
    BrokerSettings,
    DocumentSettings,
    MagdaSettings,
    SigningSettings,
    StoreSettings,
)
from hub.config.services import AdminSettings, AuditSettings, BackofficeSettings, StatusSettings
from hub.config.tenants import (
    RIGHT_BASES,
    TenantAddress,
    TenantMagdaSettings,
    TenantRight,
    TenantSettings,
    load_tenants,
    right_problems,
)
from hub.config.types import BACKEND_NAMES, REPO_ROOT, resolve_path

__all__ = [
    "BACKEND_NAMES",
    "REPO_ROOT",
    "RIGHT_BASES",
    "AdminSettings",
    "AuditSettings",
    "BackendSettings",
    "BackofficeSettings",
    "BrokerSettings",
    "DocumentSettings",
    "MagdaSettings",
    "Settings",
    "SettingsProblems",
    "SigningSettings",
    "StatusSettings",
    "StoreSettings",
    "TenantAddress",
    "TenantMagdaSettings",
    "TenantRight",
    "TenantSettings",
    "load_settings",
    "load_tenants",
    "resolve_path",
    "right_problems",
]
