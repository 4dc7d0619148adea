"""The broker side: forwarded requests from the back office's queue, answers to the hub.

A plain connection with our own reconnect loop (not ``connect_robust``): after a broker restart
the exchange, the queue and the consumer are declared again, and strong references are kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import Callable
from typing import Any

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
)

from hub.backoffice_auth import sign_message
from simulators.backoffice.settings import BackofficeSimulatorSettings

__all__ = ["AmqpLink"]

log = logging.getLogger(__name__)

RequestHandler = Callable[[bytes], bool]
"""Takes a forwarded request's body; False when it is refused (the message is dropped)."""


class AmqpLink:
    """One connection: consumes ``settings.queue`` (if set) and publishes answers."""

    def __init__(self, settings: BackofficeSimulatorSettings, on_request: RequestHandler) -> None:
        if not settings.amqp_url:
            raise ValueError("AmqpLink needs settings.amqp_url")
        self._settings = settings
        self._url = settings.amqp_url
        self._on_request = on_request
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._queue: AbstractQueue | None = None
        self._closed: asyncio.Event = asyncio.Event()
        self._closing = False
        self._supervisor: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect once (failing loudly), then keep reconnecting in the background."""
        await self._connect()
        self._supervisor = asyncio.get_running_loop().create_task(self._supervise())

    async def _connect(self) -> None:
        connection = await aio_pika.connect(
            self._url, timeout=10,
            client_properties={"connection_name": "loket backoffice simulator"},
        )
        try:
            # Confirms and returns: an answer nobody is bound to is an error, not a silent loss.
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            exchange = await channel.declare_exchange(
                self._settings.exchange, aio_pika.ExchangeType.TOPIC, durable=True
            )
            queue = None
            if self._settings.queue:
                await channel.set_qos(prefetch_count=10)
                queue = await channel.declare_queue(
                    self._settings.queue, durable=True, passive=not self._settings.declare_queue
                )
                await queue.consume(self._on_message)
        except BaseException:
            await connection.close()
            raise
        self._closed.clear()
        lost = functools.partial(self._lost, connection)
        connection.close_callbacks.add(lost)
        channel.close_callbacks.add(lost)
        self._connection, self._channel = connection, channel
        self._exchange, self._queue = exchange, queue

    def _lost(self, connection: AbstractConnection, *_: Any) -> None:
        # A late callback of a connection already replaced must not tear down the new one.
        if connection is self._connection:
            self._exchange = None
            self._closed.set()

    async def _supervise(self) -> None:
        while not self._closing:
            await self._closed.wait()
            if self._closing:
                return
            with contextlib.suppress(Exception):
                if self._connection is not None:
                    await self._connection.close()
            delay = 0.5
            while not self._closing:
                try:
                    await self._connect()
                    log.info("backoffice simulator reconnected to the broker")
                    break
                except Exception as exc:  # broker still away: back off and try again
                    log.warning("backoffice simulator cannot reconnect: %s", exc)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 10.0)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        if self._on_request(message.body):
            await message.ack()
        else:
            await message.reject(requeue=False)

    async def publish(self, routing_key: str, body: dict[str, Any]) -> None:
        """Publish one answer and wait for the broker's confirm (raises when not delivered)."""
        exchange = self._exchange
        if exchange is None:
            raise ConnectionError("not connected to the broker")
        raw = json.dumps(body, ensure_ascii=False).encode()
        tenant = routing_key.partition(".")[2]
        message = aio_pika.Message(
            body=raw,
            # Signed as the hub requires of every action: HMAC under the tenant's secret.
            headers=dict(sign_message(raw, self._settings.secret_for(tenant))),
            content_type="application/json",
            correlation_id=str(body["job_id"]),
            message_id=f"{body['request_id']}:{body['action']}:{body['at']}",
            type="loket.backoffice-action.v1",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        async with asyncio.timeout(self._settings.publish_timeout_s):
            await exchange.publish(message, routing_key=routing_key, mandatory=True)

    async def close(self) -> None:
        """Stop reconnecting and close the connection."""
        self._closing = True
        self._closed.set()
        if self._supervisor is not None:
            self._supervisor.cancel()
            await asyncio.gather(self._supervisor, return_exceptions=True)
        if self._connection is not None:
            await self._connection.close()
