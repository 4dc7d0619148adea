"""Machinery shared by every MAGDA service: envelope, WS-Security, transport, error mapping."""

from adapters.magda.audit import ContextAudit
from adapters.magda.client import ConsultationHook, MagdaAnswer, MagdaServiceClient, ServiceSpec
from adapters.magda.connection import MagdaConnection, MagdaProfile, profile_for
from adapters.magda.errors import MagdaException, NotRegistered

__all__ = [
    "ConsultationHook",
    "ContextAudit",
    "MagdaAnswer",
    "MagdaConnection",
    "MagdaException",
    "MagdaProfile",
    "MagdaServiceClient",
    "NotRegistered",
    "ServiceSpec",
    "profile_for",
]
