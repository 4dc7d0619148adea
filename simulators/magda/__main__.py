"""Run the MAGDA simulator in the foreground: ``python -m simulators.magda --trust client.crt``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from pathlib import Path

from hub.devpki import KeyPair
from simulators.magda.server import start_magda_simulator
from simulators.magda.settings import MagdaSimulatorSettings, TlsSettings, dev_reply_signing


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
    parser.add_argument("--no-repertorium", action="store_true",
                        help="answer GeefPersoon/GeefHistoriekPersoon without a registration")
    parser.add_argument("--reply-key", type=Path,
                        help="PEM key that signs every reply (default: var/dev-pki/magda-gateway)")
    parser.add_argument("--reply-cert", type=Path, help="PEM certificate of --reply-key")
    parser.add_argument("--no-reply-signing", action="store_true",
                        help="leave replies unsigned (MAGDA signs every one)")
    parser.add_argument("--tls-cert", type=Path, help="serve HTTPS with this PEM certificate")
    parser.add_argument("--tls-key", type=Path, help="PEM key of --tls-cert")
    parser.add_argument("--client-ca", type=Path, action="append", default=[],
                        help="trusted client certificate or CA (PEM) for mutual TLS; repeatable")
    parser.add_argument("--client-cert-optional", action="store_true",
                        help="with --tls-cert: do not require a client certificate")
    parser.add_argument("--ready-after-polls", type=int, default=1,
                        help="status queries before a criminal-record extract is ready")
    parser.add_argument("--police-check-polls", type=int, default=3,
                        help="the same for model 596.2 (police check)")
    parser.add_argument("--no-seal", action="store_true", help="deliver unsealed PDFs")
    parser.add_argument("--seal-key", type=Path, help="PEM key that seals delivered PDFs")
    parser.add_argument("--seal-cert", type=Path, help="PEM certificate of --seal-key")
    args = parser.parse_args(argv)
    if (args.reply_key is None) != (args.reply_cert is None):
        parser.error("--reply-key and --reply-cert go together")
    if (args.seal_key is None) != (args.seal_cert is None):
        parser.error("--seal-key and --seal-cert go together")
    if min(args.ready_after_polls, args.police_check_polls) < 0:
        parser.error("--ready-after-polls and --police-check-polls are >= 0")
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together")
    return MagdaSimulatorSettings(
        host=args.host,
        port=args.port,
        trusted_certs=tuple(args.trust),
        require_signature=not args.no_signature,
        latency_ms=args.latency_ms,
        seed=args.seed,
        enforce_repertorium=not args.no_repertorium,
        reply_signing=(
            None if args.no_reply_signing
            else dev_reply_signing() if args.reply_key is None
            else KeyPair(args.reply_key, args.reply_cert)
        ),
        tls=None if args.tls_cert is None else TlsSettings(
            cert=args.tls_cert,
            key=args.tls_key,
            client_cas=tuple(args.client_ca),
            require_client_cert=not args.client_cert_optional,
        ),
        strafregister_ready_after_polls=args.ready_after_polls,
        strafregister_police_check_polls=args.police_check_polls,
        seal_documents=not args.no_seal,
        document_seal=None if args.seal_key is None else KeyPair(args.seal_key, args.seal_cert),
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
