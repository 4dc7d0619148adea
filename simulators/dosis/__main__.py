"""Run the DOSIS simulator in the foreground:
``python -m simulators.dosis --port 8702 --client loket-hub=var/dev-pki/dosis-client.crt``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from pathlib import Path

from simulators.dosis.server import start_dosis_simulator
from simulators.dosis.settings import (
    CONNECTOR_UPLOAD_PATH,
    DEFAULT_PHASES,
    WIKI_UPLOAD_PATH,
    DosisSimulatorSettings,
)


def _client(value: str) -> tuple[str, Path]:
    client_id, sep, path = value.partition("=")
    if not sep or not client_id or not path:
        raise argparse.ArgumentTypeError("expected CLIENT_ID=CERT.pem")
    return client_id, Path(path)


def _phases(path: Path) -> dict[str, tuple[str, ...]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(
        isinstance(codes, list) and all(isinstance(code, str) for code in codes)
        for codes in data.values()
    ):
        raise SystemExit(f"{path}: expected {{\"VlaamsFase\": [\"VlaamsCode\", …], …}}")
    return {fase: tuple(codes) for fase, codes in data.items()}


def _settings(argv: list[str] | None) -> DosisSimulatorSettings:
    parser = argparse.ArgumentParser(prog="python -m simulators.dosis", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8702)
    parser.add_argument("--client", type=_client, action="append", default=[],
                        metavar="CLIENT_ID=CERT",
                        help="a client and the PEM certificate that checks its JWT; repeatable")
    parser.add_argument("--phases", type=Path,
                        help="JSON {VlaamsFase: [VlaamsCode, …]} "
                             "(default: the rows of dosis.md F41)")
    parser.add_argument("--upload-path", action="append", default=[],
                        help="serve uploads on this path only (repeatable; default: "
                             f"{CONNECTOR_UPLOAD_PATH} and {WIKI_UPLOAD_PATH})")
    parser.add_argument("--identification-keys", default="either",
                        choices=("connector", "annotated", "either"))
    parser.add_argument("--process-delay-ms", type=int, default=0)
    parser.add_argument("--token-ttl-s", type=int, default=300)
    args = parser.parse_args(argv)
    if args.process_delay_ms < 0 or args.token_ttl_s < 0:
        parser.error("--process-delay-ms and --token-ttl-s are >= 0")
    return DosisSimulatorSettings(
        host=args.host,
        port=args.port,
        clients=dict(args.client),
        phases=dict(DEFAULT_PHASES) if args.phases is None else _phases(args.phases),
        process_delay_ms=args.process_delay_ms,
        token_ttl_s=args.token_ttl_s,
        identification_keys=args.identification_keys,
        upload_paths=tuple(args.upload_path) or (CONNECTOR_UPLOAD_PATH, WIKI_UPLOAD_PATH),
    )


async def _serve(settings: DosisSimulatorSettings) -> None:
    simulator = await start_dosis_simulator(settings)
    print(f"DOSIS simulator on {simulator.base_url} (token: {simulator.token_url})", flush=True)
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
