"""Machinery shared by every MAGDA service: envelope, WS-Security, transport, error mapping."""

from adapters.magda.client import MagdaAnswer, MagdaServiceClient, ServiceSpec
from adapters.magda.errors import MagdaException

__all__ = ["MagdaAnswer", "MagdaException", "MagdaServiceClient", "ServiceSpec"]
