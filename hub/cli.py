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
from hub.checkconfig import check_config
from hub.config import REPO_ROOT, Settings, SettingsProblems, load_settings
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

    if not await _wait_for_broker(settings):
        log.info("worker.stopped", reason="asked to stop while waiting for the broker")
        return 0
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


async def _wait_for_broker(settings: Settings) -> bool:
    """Until the broker answers (a log line per attempt) or SIGTERM/SIGINT: False then."""
    import signal

    from hub.runtime.probe import wait_for_broker

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        return await wait_for_broker(settings.broker.url, stop)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


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
    from hub.runtime.probe import broker_problem, describe_broker_failure
    from hub.runtime.transport import BROKER_FAILURES
    from loket_hub.client import JobTimeout, LoketClient, UnroutableJob

    try:
        job = json.loads(Path(args.file).read_text(encoding="utf-8"))
        kind = job["type"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return _fail(f"send: cannot read a job from {args.file}: {exc!r}", 2)
    problem = await broker_problem(settings.broker.url)
    if problem:  # before the client, whose library logs a failed connection at length
        return _fail(f"send: {_safe_url(settings.broker.url)}: {problem}")
    try:
        async with LoketClient.connect(settings.broker.url) as client:
            result = await client.request(job, timeout=args.timeout)
    except JobTimeout as exc:
        return _fail(f"send: {exc} (the job may still complete; send it again for its result)")
    except UnroutableJob:
        return _fail(f"send: no queue takes job type {kind!r}: no worker serves it (unroutable)")
    except BROKER_FAILURES as exc:
        return _fail(f"send: the broker at {_safe_url(settings.broker.url)} failed: "
                     f"{describe_broker_failure(exc)}")
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


def _fail(line: str, status: int = 1) -> int:
    print(line, file=sys.stderr)
    return status


def _safe_url(url: str) -> str:
    """``url`` without its password."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()


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
    check = sub.add_parser("check-config", help="check the configuration and what run needs")
    check.add_argument("--offline", action="store_true",
                       help="do not try the broker and the store")
    example = sub.add_parser("config-example",
                             help="print the example configuration (every setting, default)")
    example.add_argument("--write", action="store_true",
                         help="replace examples/loket-hub.toml with it")
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


def _config_example(*, write: bool) -> int:
    from hub.config.example import EXAMPLE_FILE, example_toml

    text = example_toml()
    if write:
        EXAMPLE_FILE.write_text(text, encoding="utf-8")
        print(f"wrote {EXAMPLE_FILE}")
    else:
        print(text, end="")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    from hub.runtime.transport import BROKER_FAILURES

    args = _parser().parse_args(argv)
    if args.command == "config-example":
        return _config_example(write=args.write)  # the defaults: no configuration is read
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
                return check_config(settings, offline=args.offline)
            case "verify":
                return _verify(args, settings)
            case "selfreg-url":
                try:
                    print(build_self_registration_url(selfreg_from_args(args)))
                except InvalidInput as refused:
                    print(f"{refused.code}: {refused.message}", file=sys.stderr)
                    return 2
                return 0
    except SettingsProblems as exc:
        for problem in exc.problems:
            print(f"configuration error: {problem}", file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) in the configuration", file=sys.stderr)
        return 2
    except ConfigurationError as exc:
        print(f"configuration error: {exc.message}", file=sys.stderr)
        return 2
    except BROKER_FAILURES as exc:
        print(f"{args.command}: the broker failed: {str(exc) or type(exc).__name__}",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
