"""Self-registration links for the government user management (``usermgmt.*``)."""

from __future__ import annotations

from adapters.selfreg.links import SelfRegistrationRequest, build_self_registration_url
from hub.ports import AdapterAnswer, CallContext

__all__ = ["SelfRegistrationAdapter"]


class SelfRegistrationAdapter:
    """No back end: the link is built from the parameters, or refused naming the broken rule."""

    name = "usermgmt"
    job_types = frozenset({"usermgmt.self-registration-url"})

    def check_config(self) -> list[str]:
        return []

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def handle(self, context: CallContext) -> AdapterAnswer:
        request = SelfRegistrationRequest.from_parameters(context.job.parameters)
        return AdapterAnswer(data={"url": build_self_registration_url(request)})
