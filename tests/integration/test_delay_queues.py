"""Delay queues (retries and polls) hand their messages back at least once, and a classic one
left by an older version is replaced when that is safe."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel

from hub import topology
from tests.conftest import AMQP_URL

pytestmark = pytest.mark.broker
CAPABILITY = "delaytest"
DELAYS = (0.2,)
OLD_QUEUE = "retry.delaytest.1.200ms"


@pytest.fixture
async def channel() -> AsyncIterator[AbstractChannel]:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        chan = await connection.channel(publisher_confirms=True)
        names = [topology.work_queue_name(CAPABILITY), OLD_QUEUE, "poll.delaytest.200ms"]
        for name in names:
            await chan.queue_delete(name)
        yield chan
        for name in names:
            await chan.queue_delete(name)


async def _declare(channel: AbstractChannel) -> topology.Topology:
    return await topology.declare(channel, [CAPABILITY], DELAYS, poll_delays_s=DELAYS)


async def _old_classic_queue(channel: AbstractChannel) -> None:
    await channel.declare_queue(OLD_QUEUE, durable=True, arguments={
        "x-message-ttl": 200, "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": topology.work_queue_name(CAPABILITY)})


async def test_a_delayed_message_comes_back_to_the_work_queue(channel: AbstractChannel) -> None:
    topo = await _declare(channel)
    queue = topo.routes.retry_queue_for(CAPABILITY, 1)
    assert queue == OLD_QUEUE
    await channel.default_exchange.publish(aio_pika.Message(b"again", delivery_mode=2),
                                           routing_key=queue, mandatory=True)
    work = topo.work_queues[CAPABILITY]
    for _ in range(100):
        message = await work.get(fail=False)
        if message is not None:
            assert message.body == b"again"
            await message.ack()
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the delayed message never came back")


async def test_an_empty_classic_delay_queue_from_an_older_version_is_replaced(
    channel: AbstractChannel,
) -> None:
    await _old_classic_queue(channel)
    topo = await _declare(channel)
    # The channel survived the refusal (reopened) and the queue is now a quorum queue: a
    # passive declare with the new arguments' type would fail otherwise.
    assert not channel.is_closed
    await channel.declare_queue(OLD_QUEUE, durable=True, arguments={
        "x-queue-type": "quorum", "x-message-ttl": 200, "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": topology.work_queue_name(CAPABILITY),
        "x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"})
    assert topo.routes.retry_queue_for(CAPABILITY, 1) == OLD_QUEUE


async def test_a_classic_delay_queue_still_holding_messages_stops_the_declaration(
    channel: AbstractChannel,
) -> None:
    await channel.declare_queue(topology.work_queue_name(CAPABILITY), durable=True, arguments={
        "x-queue-type": "quorum", "x-delivery-limit": 5,
        "x-dead-letter-exchange": topology.DEAD_LETTER_EXCHANGE})
    # A long TTL so the message is still there when the hub declares.
    await channel.declare_queue(OLD_QUEUE, durable=True, arguments={"x-message-ttl": 60_000})
    await channel.default_exchange.publish(aio_pika.Message(b"waiting", delivery_mode=2),
                                           routing_key=OLD_QUEUE)
    with pytest.raises(topology.TopologyConflict, match="still holds 1 messages"):
        await _declare(channel)
