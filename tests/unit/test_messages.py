"""The typed messages: what they encode, and what decoding refuses."""

from __future__ import annotations

import json

import pytest

from hub.contract import Job, Outcome, Result
from hub.contract_decoding import decode_job
from hub.messages import Action, ApprovalTask, Decision, StatusEvent, UnreadableMessage
from hub.testing import make_job
from simulators.population_data import WELL_KNOWN


def _job() -> Job:
    raw = make_job(WELL_KNOWN["household_head"], requester=WELL_KNOWN["single"])
    return decode_job(json.dumps(raw).encode(), raw["job_id"])


def test_a_status_event_survives_its_encoding() -> None:
    job = _job()
    result = Result.for_job(job, Outcome.DELIVERED, attempts=1, decided_by="approved-by:jan")
    event = StatusEvent.of(job, result, applicant_message="Tot morgen", notify=True)
    again = StatusEvent.decode(event.encode())
    assert again == event
    assert (event.status, event.approved, event.kind) == ("delivered", True,
                                                          "household-composition")
    assert event.routing_key == f"{job.tenant}.delivered"
    # The same transition is the same event (a replay is pushed once); another is not.
    assert StatusEvent.of(job, result).event_id == event.event_id
    assert StatusEvent.of(job, None).event_id != event.event_id
    # Optional fields are left out when absent, as the outbox always carried them.
    assert "notify" not in json.loads(StatusEvent.of(job, None).encode())


@pytest.mark.parametrize("body", [b"[]", b"{", b'{"job_id": "x"}',
                                  b'{"event_id": 1, "job_id": "x", "type": "t", "tenant": "g",'
                                  b' "dossier_id": "d", "status": "s", "at": "now",'
                                  b' "applicant": "me"}'])
def test_an_unreadable_status_event_is_refused_with_a_reason(body: bytes) -> None:
    with pytest.raises(UnreadableMessage):
        StatusEvent.decode(body)


def test_decisions_and_actions_name_what_they_are() -> None:
    decision = Decision.decode(json.dumps({"job_id": "j-1", "decision": "approve",
                                           "employee": "jan", "tenant": "gent"}).encode())
    assert (decision.job_id, decision.awaiting, decision.tenant) == ("j-1", "approval", "gent")
    task = Decision.decode(b'{"job_id": "j-1", "decision": "information-requested",'
                           b' "information_from": "third-party", "notify_applicant": true}')
    assert task.awaiting == "employee" and task.asks_information_elsewhere
    assert task.notify_applicant is True
    action = Action.decode(b'{"job_id": "j-2", "action": "completed", "message": "klaar"}')
    assert action.final and action.message == "klaar"
    for bad in (b'{"decision": "approve"}', b'{"job_id": "j", "decision": "maybe"}',
                b'"approve"', b"[" * 100 + b"]" * 100):
        with pytest.raises(UnreadableMessage):
            Decision.decode(bad)
    with pytest.raises(UnreadableMessage, match="received"):
        Action.decode(b'{"job_id": "j", "action": "shredded"}')


def test_an_approval_task_says_how_to_answer_it() -> None:
    job = _job()
    task = json.loads(ApprovalTask(job, rule="third-party", reason="someone else")
                      .encode(exchange="loket.backoffice"))
    assert task["decide_with"]["routing_key"] == f"decision.{job.tenant}"
    assert task["requester"]["identifier"] == WELL_KNOWN["single"]
    employee = ApprovalTask(job, rule=None, reason=None, employee_task=True)
    assert employee.message_type == "loket.employee-task.v1"
    assert "handled-outside" in employee.to_dict(exchange="x")["actions"]
