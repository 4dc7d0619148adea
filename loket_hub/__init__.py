"""Public API for front-office applications: publish a job and await its result.

    from loket_hub.client import LoketClient

    async with LoketClient.connect("amqp://guest:guest@127.0.0.1:5672/") as client:
        result = await client.request(job, timeout=30)
"""

from loket_hub.client import JobTimeout, LoketClient

__all__ = ["JobTimeout", "LoketClient"]
