"""Back-office systems: forwarded requests and the employees' actions that come back."""

from adapters.backoffice.adapter import BackofficeAdapter

__all__ = ["BackofficeAdapter"]
