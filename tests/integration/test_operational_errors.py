"""Operational errors come out as one line and a non-zero exit, never a traceback; a worker
started while the broker is down waits for it (a log line per attempt) instead of exiting."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import aio_pika
import pytest
import structlog

from hub import topology
from hub.config import REPO_ROOT
from hub.runtime.probe import broker_problem, wait_for_broker
from tests.conftest import AMQP_URL

LOKET_HUB = Path(sys.executable).with_name("loket-hub")


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(tmp_path: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOKET_")}
    env.update(LOKET_STORE__URL=f"sqlite:///{tmp_path}/hub.db", LOKET_ADMIN__ENABLED="false",
               PYTHONWARNINGS="ignore", **settings)
    return env


def test_a_worker_waits_for_a_broker_that_is_down_and_stops_cleanly(tmp_path: Path) -> None:
    url = f"amqp://guest:guest@127.0.0.1:{_unused_port()}/"
    worker = subprocess.Popen(
        [str(LOKET_HUB), "run"], env=_environment(tmp_path, LOKET_BROKER__URL=url,
                                                  LOKET_LOG_FORMAT="json"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert worker.stderr is not None
    attempts: list[dict[str, object]] = []
    try:
        for line in worker.stderr:  # the process is alive until we signal it
            if '"broker.waiting"' in line:
                attempts.append(json.loads(line))
                if len(attempts) == 3:
                    break
        worker.send_signal(signal.SIGTERM)
        _, rest = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, rest
    assert [a["attempt"] for a in attempts] == [1, 2, 3]
    assert all("does not answer" in str(a["problem"]) for a in attempts)
    waits = [float(str(a["retry_in_s"])) for a in attempts]
    assert waits == sorted(waits) and waits[0] < waits[-1]  # growing pauses
    assert "Traceback" not in rest
    assert "asked to stop while waiting for the broker" in rest


async def _forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """One connection to the forwarder, piped to the real broker and back."""
    real = urlsplit(AMQP_URL)
    upstream_reader, upstream_writer = await asyncio.open_connection(
        real.hostname, real.port or 5672)

    async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        sink.close()

    await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))


def _through(port: int) -> str:
    """The test broker's URL by way of a forwarder on ``port``."""
    real = urlsplit(AMQP_URL)
    return real._replace(netloc=f"{real.username}:{real.password}@127.0.0.1:{port}").geturl()


@pytest.mark.broker
async def test_a_waiting_worker_starts_consuming_once_the_broker_answers(tmp_path: Path) -> None:
    port = _unused_port()
    worker = await asyncio.create_subprocess_exec(
        str(LOKET_HUB), "run", stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=_environment(tmp_path, LOKET_BROKER__URL=_through(port), LOKET_LOG_FORMAT="json"))
    assert worker.stderr is not None
    events: list[str] = []
    server = None
    try:
        async with asyncio.timeout(90):
            while "worker.consuming" not in events:
                line = (await worker.stderr.readline()).decode()
                assert line, f"the worker ended: {events}"
                if line.startswith("{"):
                    events.append(str(json.loads(line)["event"]))
                if events.count("broker.waiting") == 2 and server is None:
                    server = await asyncio.start_server(_forward, "127.0.0.1", port)
        worker.send_signal(signal.SIGTERM)
        rest = (await asyncio.wait_for(worker.stderr.read(), 60)).decode()
        assert await worker.wait() == 0, rest
    finally:
        if worker.returncode is None:
            worker.kill()
        if server is not None:
            server.close()
    assert events.index("broker.reachable") < events.index("worker.consuming")
    assert "Traceback" not in rest


@pytest.mark.broker
async def test_the_wait_ends_when_the_broker_answers() -> None:
    """A forwarder to the real broker opens only after a few refused attempts."""
    port = _unused_port()
    url = _through(port)

    async def open_later() -> asyncio.Server:
        # The captured log is what there is to watch: no event to wait on.
        while len([e for e in logs if e["event"] == "broker.waiting"]) < 2:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        return await asyncio.start_server(_forward, "127.0.0.1", port)

    with structlog.testing.capture_logs() as logs:
        opener = asyncio.create_task(open_later())
        reached = await asyncio.wait_for(
            wait_for_broker(url, asyncio.Event(), first_wait_s=0.05, max_wait_s=0.2), 30)
        server = await opener
    server.close()
    assert reached is True
    events = [e["event"] for e in logs]
    assert events[:2] == ["broker.waiting", "broker.waiting"]
    assert events[-1] == "broker.reachable"


async def test_a_stop_ends_the_wait() -> None:
    stop = asyncio.Event()
    url = f"amqp://guest:guest@127.0.0.1:{_unused_port()}/"
    asyncio.get_running_loop().call_later(0.3, stop.set)
    with structlog.testing.capture_logs() as logs:
        assert await asyncio.wait_for(wait_for_broker(url, stop, first_wait_s=0.05), 10) is False
    assert logs and {e["event"] for e in logs} == {"broker.waiting"}
    assert await broker_problem(url) is not None


@pytest.fixture
async def bound_type() -> AsyncIterator[str]:
    """A job type whose messages a queue takes, with no worker behind it."""
    kind = f"test.nobody-answers-{uuid.uuid4().hex[:8]}"
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        jobs = await channel.declare_exchange(topology.JOBS_EXCHANGE,
                                              aio_pika.ExchangeType.TOPIC, durable=True)
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(jobs, routing_key=kind)
        yield kind


def _send(tmp_path: Path, kind: str, timeout: str = "1",
          url: str = AMQP_URL) -> subprocess.CompletedProcess[str]:
    job = json.loads((REPO_ROOT / "examples/household-composition.json").read_text())
    job.update(type=kind, job_id=f"test-{uuid.uuid4()}")
    file = tmp_path / "job.json"
    file.write_text(json.dumps(job))
    return subprocess.run([str(LOKET_HUB), "send", str(file), "--timeout", timeout],
                          env=_environment(tmp_path, LOKET_BROKER__URL=url),
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.broker
def test_send_says_in_one_line_that_no_result_came(tmp_path: Path, bound_type: str) -> None:
    sent = _send(tmp_path, bound_type)
    assert sent.returncode == 1
    assert sent.stderr.strip().splitlines() == [
        f"send: no result for job {json.loads((tmp_path / 'job.json').read_text())['job_id']} "
        "within 1.0 s (the job may still complete; send it again for its result)"]


@pytest.mark.broker
def test_send_says_in_one_line_that_no_queue_takes_the_job_type(tmp_path: Path,
                                                                bound_type: str) -> None:
    sent = _send(tmp_path, f"{bound_type}-unbound")
    assert sent.returncode == 1
    assert sent.stderr.strip().splitlines() == [
        f"send: no queue takes job type '{bound_type}-unbound': no worker serves it (unroutable)"]


def test_send_says_in_one_line_that_the_broker_does_not_answer(tmp_path: Path) -> None:
    port = _unused_port()
    sent = _send(tmp_path, "population.attest", url=f"amqp://guest:secret@127.0.0.1:{port}/")
    assert sent.returncode == 1
    assert sent.stderr.strip().splitlines() == [
        f"send: amqp://guest:***@127.0.0.1:{port}/: the broker does not answer ([Errno 111] "
        f"Connect call failed ('127.0.0.1', {port}))"]


@pytest.mark.broker
def test_send_names_a_virtual_host_that_is_not_there(tmp_path: Path) -> None:
    url = urlsplit(AMQP_URL)._replace(path=f"/no-such-vhost-{uuid.uuid4().hex[:6]}").geturl()
    sent = _send(tmp_path, "population.attest", url=url)
    assert sent.returncode == 1
    (line,) = sent.stderr.strip().splitlines()
    assert line.endswith("no such virtual host, or no access to it)")
