"""A simulated back-office system for the change-of-contact-details product.

It takes forwarded requests two ways — ``POST /requests`` signed with HMAC-SHA256
(:mod:`hub.hmac_signing`), or messages on its own AMQP queue — records each, and answers
through the hub as an employee would: action messages on the exchange ``loket.backoffice``
with routing key ``action.<tenant>``, body ``{job_id, request_id, action, message?,
information_from?, employee, at}``. The script of actions (default: received, then completed)
and HTTP faults are set through the JSON control API under ``/_control``.

A forwarded request is a JSON object with non-empty ``request_id``, ``job_id`` and ``tenant``
(a slug); the rest is recorded as given. A request id seen before is a retry: it is counted,
not handled again.
"""

from simulators.backoffice.script import ACTIONS, FINAL_ACTIONS
from simulators.backoffice.server import (
    BackofficeSimulator,
    create_backoffice_app,
    start_backoffice_simulator,
)
from simulators.backoffice.settings import DEFAULT_ACTIONS, BackofficeSimulatorSettings

__all__ = [
    "ACTIONS",
    "DEFAULT_ACTIONS",
    "FINAL_ACTIONS",
    "BackofficeSimulator",
    "BackofficeSimulatorSettings",
    "create_backoffice_app",
    "start_backoffice_simulator",
]
