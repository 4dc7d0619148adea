"""Run the MAGDA simulator in the foreground: ``python -m simulators.magda --trust client.crt``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from pathlib import Path

from simulators.magda.server import start_magda_simulator
from simulators.magda.settings import MagdaSimulatorSettings


def _settings(argv: list[str] | None) -> MagdaSimulatorSettings:
    parser = argparse.ArgumentParser(prog="python -m simulators.magda", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8701)
    parser.add_argument("--trust", type=Path, action="append", default=[],
                        help="certificate (PEM/DER) whose signatures are accepted; repeatable")
    parser.add_argument("--no-signature", action="store_true",
                        help="accept unsigned requests (a signature present is still checked)")
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    return MagdaSimulatorSettings(
        host=args.host,
        port=args.port,
        trusted_certs=tuple(args.trust),
        require_signature=not args.no_signature,
        latency_ms=args.latency_ms,
        seed=args.seed,
    )


async def _serve(settings: MagdaSimulatorSettings) -> None:
    simulator = await start_magda_simulator(settings)
    print(f"MAGDA simulator on {simulator.base_url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await simulator.close()


def main(argv: list[str] | None = None) -> None:
    """Start the simulator and serve until interrupted."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(_settings(argv)))


if __name__ == "__main__":
    main()
