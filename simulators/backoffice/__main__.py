"""Run the simulated back office in the foreground:
``python -m simulators.backoffice --secret-file var/dev-pki/backoffice-gent.secret
--amqp-url amqp://guest:guest@127.0.0.1:5672/ --queue backoffice.contact-details``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from pathlib import Path

from simulators.backoffice.script import ACTIONS
from simulators.backoffice.server import start_backoffice_simulator
from simulators.backoffice.settings import DEFAULT_ACTIONS, BackofficeSimulatorSettings


def _settings(argv: list[str] | None) -> BackofficeSimulatorSettings:
    parser = argparse.ArgumentParser(prog="python -m simulators.backoffice", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8703)
    parser.add_argument("--secret-file", type=Path, required=True,
                        help="the tenant's back-office secret: checks forwards, signs answers")
    parser.add_argument("--amqp-url", help="broker for answers (and requests with --queue)")
    parser.add_argument("--queue", help="the back office's own queue of forwarded requests")
    parser.add_argument("--no-declare-queue", action="store_true",
                        help="expect the queue to exist instead of declaring it")
    parser.add_argument("--action", dest="actions", action="append", choices=ACTIONS,
                        help=f"the script, in order; repeatable (default: "
                             f"{' '.join(DEFAULT_ACTIONS)})")
    parser.add_argument("--action-delay-ms", type=int, default=200)
    args = parser.parse_args(argv)
    secret = args.secret_file.read_bytes().strip()
    if not secret:
        parser.error(f"{args.secret_file} is empty")
    if args.queue and not args.amqp_url:
        parser.error("--queue needs --amqp-url")
    return BackofficeSimulatorSettings(
        secret=secret,
        host=args.host,
        port=args.port,
        amqp_url=args.amqp_url,
        queue=args.queue,
        declare_queue=not args.no_declare_queue,
        actions=tuple(args.actions or DEFAULT_ACTIONS),
        action_delay_ms=args.action_delay_ms,
    )


async def _serve(settings: BackofficeSimulatorSettings) -> None:
    simulator = await start_backoffice_simulator(settings)
    print(f"back-office simulator on {simulator.requests_url}"
          + (f", queue {settings.queue}" if settings.queue else ""), flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await simulator.close()


def main(argv: list[str] | None = None) -> None:
    """Start the simulator and serve until interrupted."""
    logging.basicConfig(level=logging.INFO)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(_settings(argv)))


if __name__ == "__main__":
    main()
