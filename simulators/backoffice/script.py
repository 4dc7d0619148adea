"""The employee's actions: what the back office answers, and in which order (the script)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ACTIONS",
    "FINAL_ACTIONS",
    "INFORMATION_FROM",
    "ScriptError",
    "ScriptStep",
    "action_body",
    "parse_script",
]

ACTIONS = ("received", "handled-outside", "information-requested", "completed", "cancelled")
# After these the request is closed in the back office: nothing may follow (loket.md).
FINAL_ACTIONS = frozenset({"handled-outside", "completed", "cancelled"})
INFORMATION_FROM = ("applicant", "third-party")
_DEFAULT_QUESTION = "Gelieve bijkomende informatie te bezorgen via de link in uw e-mail."


class ScriptError(ValueError):
    """A script or an action from the control API or the settings is not acceptable."""


@dataclass(frozen=True)
class ScriptStep:
    """One action; ``delay_ms`` None means the settings' delay (0 for the first step)."""

    action: str
    message: str | None = None
    information_from: str | None = None
    delay_ms: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The step as the control API shows it."""
        return {"action": self.action, "message": self.message,
                "information_from": self.information_from, "delay_ms": self.delay_ms}


def _step(item: Any) -> ScriptStep:
    if isinstance(item, str):
        item = {"action": item}
    if not isinstance(item, dict):
        raise ScriptError("an action is a name or an object {action, message?, …}")
    unknown = set(item) - {"action", "message", "information_from", "delay_ms"}
    if unknown:
        raise ScriptError(f"unknown fields: {', '.join(sorted(unknown))}")
    action, message = item.get("action"), item.get("message")
    source, delay = item.get("information_from"), item.get("delay_ms")
    if action not in ACTIONS:
        raise ScriptError(f"action must be one of {', '.join(ACTIONS)}, not {action!r}")
    if message is not None and (not isinstance(message, str) or not message.strip()):
        raise ScriptError("message must be non-empty text")
    if source is not None and (action != "information-requested" or source not in
                               INFORMATION_FROM):
        raise ScriptError("information_from is applicant or third-party, "
                          "and only for information-requested")
    if delay is not None and (not isinstance(delay, int) or isinstance(delay, bool) or delay < 0):
        raise ScriptError("delay_ms must be an integer >= 0")
    return ScriptStep(action, message, source, delay)


def parse_script(items: Sequence[Any]) -> tuple[ScriptStep, ...]:
    """Steps from names or objects; nothing may follow a final action."""
    steps = tuple(_step(item) for item in items)
    for index, step in enumerate(steps[:-1]):
        if step.action in FINAL_ACTIONS:
            raise ScriptError(f"{step.action} closes the request: "
                              f"{steps[index + 1].action} cannot follow it")
    return steps


def action_body(
    job_id: str, request_id: str, step: ScriptStep, employee: str, at: dt.datetime | None = None
) -> dict[str, Any]:
    """The answer the hub receives for one action."""
    body: dict[str, Any] = {
        "job_id": job_id,
        "request_id": request_id,
        "action": step.action,
        "employee": employee,
        "at": (at or dt.datetime.now(dt.UTC)).isoformat(timespec="milliseconds"),
    }
    if step.action == "information-requested":
        body["information_from"] = step.information_from or "applicant"
        body["message"] = step.message or _DEFAULT_QUESTION
    elif step.message is not None:
        body["message"] = step.message
    return body
