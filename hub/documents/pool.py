"""Render and sign documents off the event loop, in a pool of worker processes.

Why processes: PDF rendering (reportlab) and CMS building (pyHanko, asn1crypto) are pure Python
and hold the GIL nearly all the time (reportlab's global state is not thread-safe either).
Measured on 2 cores, a burst of 40 household certificates (XML + PDF each): 2 threads took
49 ms/document and left the event loop up to 48 ms late; 2 processes took 27.5 ms/document and
the loop was never more than 4 ms late. CPU of one household certificate at B-LT, XML and
PDF rendered and signed: about 8 ms on a slow machine of 2026-12-08, a third of what B-B alone
cost before (``docs/performance.md``, ``benchmarks/documents.py``).

Keys are loaded once per worker by the pool initializer, never per job. The parent loads every
identity first, so a bad key refuses start-up with a clear message instead of a broken pool.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Literal, TypeVar

from hub.config import TenantSettings
from hub.documents.keys import SigningIdentity, SigningKeySpec, load_signing_identity
from hub.documents.longterm import LongTerm
from hub.documents.pdf_render import render_certificate_pdf
from hub.documents.pdf_signature import PadesSigner
from hub.documents.render import render_certificate_xml
from hub.documents.xades import XadesSigner
from hub.errors import ConfigurationError, SignatureError
from hub.ports import CertificateModel

__all__ = ["DocumentWorkers"]

T = TypeVar("T")
Signers = dict[str, tuple[XadesSigner, PadesSigner]]

# In a worker process: identity reference -> signers, built once by the pool initializer.
_WORKER_SIGNERS: Signers = {}


def _signers_for(
    identities: Mapping[str, SigningIdentity], specs: Mapping[str, SigningKeySpec]
) -> Signers:
    """Both signers of each identity, sharing one :class:`LongTerm` (its TSA connection and
    cached validation data) when the identity's level needs one."""
    signers: Signers = {}
    for ref, identity in identities.items():
        wanted = specs[ref].long_term
        long_term = LongTerm(wanted, identity) if wanted.timestamped else None
        signers[ref] = (XadesSigner(identity, long_term), PadesSigner(identity, long_term))
    return signers


def _init_worker(
    specs: Mapping[str, SigningKeySpec], checked_at: dt.datetime, hub_pid: int | None = None
) -> None:
    # `checked_at` is the parent's start-up check: a worker started later must not refuse a
    # certificate the running hub accepted (expiry shows on the health output instead).
    identities = {ref: load_signing_identity(spec, now=checked_at) for ref, spec in specs.items()}
    _WORKER_SIGNERS.update(_signers_for(identities, specs))
    if hub_pid is not None:
        threading.Thread(target=_exit_when_gone, args=(hub_pid,), daemon=True,
                         name="hub-lifeline").start()


def _exit_when_gone(hub_pid: int) -> None:
    """A hub killed with SIGKILL cannot shut its pool down, and the pool's processes (children
    of the forkserver, not of the hub) would wait for work forever, each holding its keys and
    ~90 MB: leave once the hub process is gone."""
    while True:
        time.sleep(1.0)
        try:
            os.kill(hub_pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:
            pass  # it exists, under another user


def _pick(signers: Signers, identity_ref: str) -> tuple[XadesSigner, PadesSigner]:
    try:
        return signers[identity_ref]
    except KeyError:
        raise SignatureError(f"no signing identity {identity_ref!r} is configured") from None


def _render_and_sign(
    model: CertificateModel, tenant: TenantSettings, reference: str,
    backend_reference: str | None, issued_at: dt.datetime, identity_ref: str,
    signers: Signers | None = None,
) -> tuple[bytes, bytes]:
    xades, pades = _pick(_WORKER_SIGNERS if signers is None else signers, identity_ref)
    root = render_certificate_xml(
        model, tenant=tenant, reference=reference, backend_reference=backend_reference,
        issued_at=issued_at,
    )
    pdf = render_certificate_pdf(
        model, tenant=tenant, reference=reference, backend_reference=backend_reference,
        issued_at=issued_at, signer=xades.signer_name,
    )
    return (
        xades.sign(root, signing_time=issued_at),
        pades.sign(pdf, reason=model.title, location=tenant.name, signing_time=issued_at),
    )


def _seal(
    pdf: bytes, identity_ref: str, signing_time: dt.datetime, reason: str,
    signers: Signers | None = None,
) -> bytes:
    pades = _pick(_WORKER_SIGNERS if signers is None else signers, identity_ref)[1]
    return pades.seal(pdf, reason=reason, signing_time=signing_time)


def _ready() -> int:
    return len(_WORKER_SIGNERS)


class DocumentWorkers:
    """A pool of ``size`` workers that render certificates and sign them (XML and PDF).

    ``identities`` maps an identity reference (a tenant slug, or ``"default"``) to where its key
    lives; they are loaded here first and raise :class:`ConfigurationError` when unusable.
    """

    def __init__(
        self,
        size: int,
        identities: Mapping[str, SigningKeySpec],
        *,
        mode: Literal["process", "thread"] = "process",
        now: dt.datetime | None = None,
    ) -> None:
        if size < 1:
            raise ConfigurationError("the document worker pool needs at least one worker")
        checked_at = now or dt.datetime.now(dt.UTC)
        self.identities: dict[str, SigningIdentity] = {}
        for ref, spec in identities.items():
            try:
                spec.long_term.check()
                self.identities[ref] = load_signing_identity(spec, now=checked_at)
            except ConfigurationError as exc:
                raise ConfigurationError(f"document signing for {ref!r}: {exc.message}") from exc
        self.size = size
        self._executor: Executor
        # Thread mode passes its own signers with each job; processes use their initializer's.
        self._signers: Signers | None = None
        if mode == "thread":
            self._signers = _signers_for(self.identities, identities)
            self._executor = ThreadPoolExecutor(size, thread_name_prefix="documents")
        else:
            # forkserver: never fork a process that runs an event loop and broker threads.
            self._executor = ProcessPoolExecutor(
                size, mp_context=multiprocessing.get_context("forkserver"),
                initializer=_init_worker, initargs=(dict(identities), checked_at, os.getpid()),
            )

    def expiring(self, days: int, now: dt.datetime) -> dict[str, dt.datetime]:
        """Identities whose certificate ends within ``days`` (for the health output)."""
        return {
            ref: identity.not_after
            for ref, identity in self.identities.items()
            if identity.expires_within(days, now)
        }

    async def _run(self, func: Callable[[], T]) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, func)
        except BrokenProcessPool as exc:
            raise SignatureError("the document worker pool is broken") from exc

    async def start(self) -> None:
        """Start every worker now (keys loaded) rather than on the first burst of jobs."""
        if self._signers is None:
            await asyncio.gather(*(self._run(_ready) for _ in range(self.size)))

    async def render_and_sign(
        self, model: CertificateModel, tenant: TenantSettings, reference: str,
        backend_reference: str | None, issued_at: dt.datetime, identity_ref: str,
    ) -> tuple[bytes, bytes]:
        """The signed XML and signed PDF of one certificate; the issue time is the signing time."""
        return await self._run(functools.partial(
            _render_and_sign, model, tenant, reference, backend_reference, issued_at,
            identity_ref, self._signers,
        ))

    async def seal(
        self, pdf: bytes, identity_ref: str, *, signing_time: dt.datetime, reason: str
    ) -> bytes:
        """Seal a back-end PDF as-is (its bytes stay a prefix of the result)."""
        return await self._run(
            functools.partial(_seal, pdf, identity_ref, signing_time, reason, self._signers)
        )

    def close(self) -> None:
        """Finish running jobs, then stop the workers."""
        self._executor.shutdown(wait=True, cancel_futures=False)
        for _, pades in (self._signers or {}).values():
            pades.close()
