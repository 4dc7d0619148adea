"""``loket-hub`` command line: run, simulators, demo, send, dev-pki, check-config."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import structlog

from adapters.selfreg.links import (
    add_selfreg_arguments,
    build_self_registration_url,
    selfreg_from_args,
)
from hub.config import REPO_ROOT, Settings, load_settings
from hub.devpki import generate_dev_pki
from hub.errors import ConfigurationError, InvalidInput
from hub.logging import configure_logging

__all__ = ["main"]

log = structlog.get_logger(__name__)


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(Path(args.config) if args.config else None)


async def _run(settings: Settings) -> int:
    from hub.admin.auth import TokenBook
    from hub.admin.server import start_admin_server
    from hub.app import running_hub
    from hub.config import resolve_path

    async with running_hub(settings) as hub:
        hub.worker.install_signal_handlers()
        runner = None
        if settings.admin.enabled:
            book = TokenBook.from_file(resolve_path(settings.admin.token_file))
            runner, _ = await start_admin_server(hub, book, hub.metrics,
                                                 host=settings.admin.host,
                                                 port=settings.admin.port)
        try:
            await hub.worker.run()
        finally:
            if runner is not None:
                await runner.cleanup()
    return 0


async def _simulators(args: argparse.Namespace, settings: Settings) -> int:
    from simulators.dosis import DosisSimulatorSettings, start_dosis_simulator
    from simulators.magda import MagdaSimulatorSettings, start_magda_simulator
    from simulators.pki import PkiSimulatorSettings, start_pki_simulator

    generate_dev_pki(settings.magda.signing_cert.parent)
    simulator = await start_magda_simulator(
        MagdaSimulatorSettings(
            host=args.host,
            port=args.port,
            trusted_certs=(settings.magda.signing_cert,),
            latency_ms=args.latency_ms,
        )
    )
    dosis = await start_dosis_simulator(DosisSimulatorSettings(
        host=args.host, port=args.dosis_port,
        clients={settings.status.client_id: settings.status.client_key.with_suffix(".crt")},
    ))
    pki = await start_pki_simulator(PkiSimulatorSettings(
        ca_dir=settings.magda.signing_cert.parent / "ca", host=args.host, port=args.pki_port))
    print(f"MAGDA simulator listening on {simulator.base_url}", flush=True)
    print(f"DOSIS simulator listening on {dosis.base_url} (token {dosis.token_url})", flush=True)
    print(f"PKI simulator (TSA, OCSP, CRL) listening on {pki.base_url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    import signal

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await simulator.close()
    await dosis.close()
    await pki.close()
    return 0


async def _send(args: argparse.Namespace, settings: Settings) -> int:
    from loket_hub.client import LoketClient

    job = json.loads(Path(args.file).read_text(encoding="utf-8"))
    async with LoketClient.connect(settings.broker.url) as client:
        result = await client.request(job, timeout=args.timeout)
    summary = result.to_dict()
    for document in summary["documents"]:
        document["content_base64"] = f"<{len(document['content_base64'])} base64 chars>"
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for document in result.documents:
            (out / document.file_name).write_bytes(document.content)
    return 0


def _check_config(settings: Settings) -> int:
    import datetime as dt

    from hub.app import build_registry, signing_identities
    from hub.config import load_tenants
    from hub.documents.keys import load_signing_identity

    problems: list[str] = []
    notes: list[str] = []
    tenants = {}
    try:
        tenants = load_tenants(settings.tenants_dir)
        if not tenants:
            problems.append(f"no tenants in {settings.tenants_dir}")
    except ConfigurationError as exc:
        problems.append(exc.message)
    problems += build_registry(settings, tenants).check_config()
    now = dt.datetime.now(dt.UTC)
    try:
        specs, _ = signing_identities(settings, tenants)
        for ref, spec in specs.items():
            problems += [f"document signing for {ref!r}: {p}" for p in spec.long_term.problems()]
            try:
                identity = load_signing_identity(spec, now=now)
            except ConfigurationError as exc:
                problems.append(f"document signing for {ref!r}: {exc.message}")
                continue
            if identity.expires_within(settings.documents.expiry_warning_days, now):
                ends = f"{identity.not_after:%Y-%m-%d}"
                notes.append(f"signing certificate of {ref!r} expires {ends}")
    except ConfigurationError as exc:
        problems.append(exc.message)
    problems += _status_problems(settings, tenants)
    for note in notes:
        print(f"warning: {note}")
    for problem in problems:
        print(f"problem: {problem}")
    print("configuration ok" if not problems else f"{len(problems)} problem(s)")
    return 0 if not problems else 1


def _status_problems(settings: Settings, tenants: dict[str, Any]) -> list[str]:
    """Statuses without a Flemish phase and code or a Dutch text; job types without a product
    id; tenants whose dossier manager lacks an address or whose language has no texts."""
    from hub.app import build_registry
    from hub.status.mapping import LANGUAGES, load_status_table, load_status_texts, product_for

    table = load_status_table()
    problems = table.problems() + load_status_texts().problems(table.statuses)
    for slug, tenant in tenants.items():
        if tenant.language not in LANGUAGES:
            problems.append(f"tenant {slug!r}: language must be one of {', '.join(LANGUAGES)}")
        if settings.status.enabled and not tenant.address.complete:
            problems.append(f"tenant {slug!r}: no complete [address]: its dossiers reach the "
                            "citizen profile without a dossier manager")
    for adapter in build_registry(settings, tenants):
        problems += [f"job type {t!r} has no product id in mappings/products.toml"
                     for t in sorted(adapter.job_types) if product_for(t) is None]
    if settings.status.enabled and not settings.status.client_key.is_file():
        problems.append(f"DOSIS client key not found: {settings.status.client_key}")
    return problems


def _verify(args: argparse.Namespace, settings: Settings) -> int:
    import datetime as dt

    from hub.documents.verify import format_report, verify_document

    trusted = [Path(p) for p in args.trust]
    certificates = [] if trusted else _configured_trust(settings)
    at = None
    if args.at:
        try:
            at = dt.datetime.fromisoformat(args.at)
        except ValueError:
            raise ConfigurationError(f"--at {args.at!r} is not an ISO date or time") from None
        at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    report = verify_document(Path(args.file).read_bytes(), trusted=trusted,
                             certificates=certificates, at=at)
    print(format_report(report))
    return 0 if report.valid else 1


def _configured_trust(settings: Settings) -> list[Any]:
    """Every configured identity's certificates (PEM or PKCS#12) and its CA roots."""
    from hub.app import signing_identities
    from hub.config import load_tenants
    from hub.documents.keys import load_certificates
    from hub.documents.longterm import load_roots

    specs, _ = signing_identities(settings, load_tenants(settings.tenants_dir))
    certificates: list[Any] = []
    for spec in specs.values():
        certificates += load_certificates(spec)[:1] + load_roots(spec.long_term)
    return certificates


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="loket-hub", description=__doc__)
    parser.add_argument("--config", help="TOML configuration file (default: $LOKET_CONFIG)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run a worker until SIGTERM")
    sims = sub.add_parser("simulators", help="run the simulated back ends")
    sims.add_argument("--host", default="127.0.0.1")
    sims.add_argument("--port", type=int, default=8701)
    sims.add_argument("--latency-ms", type=int, default=0)
    sims.add_argument("--dosis-port", type=int, default=8702)
    sims.add_argument("--pki-port", type=int, default=8703,
                      help="the TSA, OCSP responder and CRLs the tenant files name")
    demo = sub.add_parser("demo", help="simulators + hub + a few jobs, documents to a folder")
    demo.add_argument("--out", default=str(REPO_ROOT / "out/demo"))
    send = sub.add_parser("send", help="publish one job from a JSON file and wait for its result")
    send.add_argument("file")
    send.add_argument("--timeout", type=float, default=60.0)
    send.add_argument("--out", help="folder to write the documents to")
    pki = sub.add_parser("dev-pki", help="generate development keys and certificates")
    pki.add_argument("--dir", default=str(REPO_ROOT / "var/dev-pki"))
    sub.add_parser("check-config", help="validate the configuration and exit")
    selfreg = sub.add_parser("selfreg-url", help="build a user-management self-registration link")
    add_selfreg_arguments(selfreg)
    verify = sub.add_parser("verify", help="check a delivered document's signature")
    verify.add_argument("file")
    verify.add_argument("--trust", action="append", default=[],
                        help="trusted signing or CA certificate (PEM); default: the tenants' own "
                             "and their CA roots")
    verify.add_argument("--at", help="verify as of this ISO date or time (e.g. after the "
                                     "signing certificate expired); default now")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = _settings(args)
        configure_logging(settings.log_format, settings.log_level)
        match args.command:
            case "run":
                return asyncio.run(_run(settings))
            case "simulators":
                return asyncio.run(_simulators(args, settings))
            case "demo":
                from hub.demo import run_demo

                return asyncio.run(run_demo(settings, Path(args.out)))
            case "send":
                return asyncio.run(_send(args, settings))
            case "dev-pki":
                for name, pair in generate_dev_pki(Path(args.dir)).items():
                    print(f"{name}: {pair.key} {pair.cert}")
                return 0
            case "check-config":
                return _check_config(settings)
            case "verify":
                return _verify(args, settings)
            case "selfreg-url":
                try:
                    print(build_self_registration_url(selfreg_from_args(args)))
                except InvalidInput as refused:
                    print(f"{refused.code}: {refused.message}", file=sys.stderr)
                    return 2
                return 0
    except ConfigurationError as exc:
        print(f"configuration error: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
