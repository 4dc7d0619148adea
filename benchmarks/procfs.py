"""What the benchmarks read about processes from ``/proc`` (Linux): trees, memory, CPU time."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["broker_pids", "cpu_seconds", "descendants", "machine_cpu_seconds", "rss_kb"]

_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the name (which may hold spaces), from the
    state on; None when the process is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def descendants(root: int) -> list[int]:
    """``root`` and every process below it (a worker's forkserver and document pool)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    family, todo = [], [root]
    while todo:
        pid = todo.pop()
        family.append(pid)
        todo += children.get(pid, [])
    return family


def rss_kb(pid: int) -> int:
    """Resident memory of one process in KiB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time of these processes so far."""
    total = 0.0
    for pid in pids:
        if (fields := _stat(pid)) is not None:
            total += (int(fields[11]) + int(fields[12])) / _TICKS
    return total


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, summed over its cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / _TICKS, sum(values) / _TICKS


def broker_pids() -> list[int]:
    """The local RabbitMQ node's Erlang VM, when it runs on this machine."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"beam.smp" in command and b"rabbit" in command:
                found.append(int(entry.name))
    return found
