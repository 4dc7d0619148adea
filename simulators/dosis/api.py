"""The service endpoints: token, dossier-status upload, read-back, notifications.

Paths come from the settings (see :mod:`simulators.dosis.settings`); :func:`add_api_routes`
mounts them. Answers follow ``../shared/domain/dosis.md``: an accepted upload is 200
``{"Status": "OK", "UploadId"}`` [F48]; the read-back of one upload is 404 until it is processed
[F58], then the processing result [F50-F57].
"""

from __future__ import annotations

from aiohttp import web

from simulators.dosis.dossiers import REFUSED_ON_REQUEST, validate_dossier
from simulators.dosis.gate import (
    authorize,
    dosis_error,
    guarded,
    oauth_error,
    read_json,
    validation_error,
)
from simulators.dosis.notifications import validate_bundle
from simulators.dosis.settings import DosisSimulatorSettings
from simulators.dosis.state import STATE
from simulators.dosis.tokens import SCOPE_DOSSIERS, SCOPE_NOTIFICATIONS, OAuthError

__all__ = ["NOTIFICATIONS_PATH", "add_api_routes"]

NOTIFICATIONS_PATH = "/api/v2/notificaties"


@guarded("token", oauth=True)
async def token(request: web.Request) -> web.Response:
    """Client credentials with a JWT client assertion → an opaque bearer token [F02-F09]."""
    if request.content_type != "application/x-www-form-urlencoded":
        return oauth_error(400, "invalid_request",
                           "verwacht application/x-www-form-urlencoded")
    form = await request.post()
    repeated = sorted({key for key in form if len(form.getall(key)) > 1})
    if repeated:
        return oauth_error(400, "invalid_request", f"parameter herhaald: {', '.join(repeated)}")
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    request.app[STATE].token_requests.append(dict(fields))
    # The audience is this endpoint as the client addressed it (Host header included).
    audience = str(request.url.with_query(None))
    try:
        body = request.app[STATE].tokens.issue(fields, audience)
    except OAuthError as exc:
        return oauth_error(400, exc.error, exc.description)
    return web.json_response(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


@guarded("dossiers")
async def post_dossier(request: web.Request) -> web.Response:
    """Validate an upload; 200 means accepted, the result comes later (idempotent by UploadId)."""
    state = request.app[STATE]
    access = authorize(request, SCOPE_DOSSIERS)
    if isinstance(access, web.Response):
        return access
    body = await read_json(request)
    if isinstance(body, web.Response):
        return body
    settings = state.settings
    submission, errors = validate_dossier(
        body, settings.phases, identification_keys=settings.identification_keys,
        enforce_pairing=settings.enforce_pairing,
    )
    if submission is None:
        return validation_error(errors)
    if state.dossiers.get(submission.upload_id) is None:
        refuse = state.faults.take("dossiers", ("refuse-result",)) is not None
        state.dossiers.accept(submission, access.client_id,
                              REFUSED_ON_REQUEST if refuse else None)
    return web.json_response({"Status": "OK", "UploadId": submission.upload_id})


@guarded("resultaten")
async def result_per_upload(request: web.Request) -> web.Response:
    """The processing result of one upload (``uploadId``); 404 while there is none [F58]."""
    access = authorize(request, SCOPE_DOSSIERS)
    if isinstance(access, web.Response):
        return access
    upload_id = request.query.get("uploadId", "")
    if not upload_id:
        problem = {"code": "VERPLICHT_VELD", "message": "verplichte parameter ontbreekt",
                   "description": "uploadId ontbreekt", "field": "uploadId"}
        return validation_error([problem])
    state = request.app[STATE]
    upload = state.dossiers.get(upload_id)
    if upload is None or not upload.ready(state.dossiers.monotonic()):
        return dosis_error(404, f"nog geen resultaat voor UploadId {upload_id}")
    return web.json_response(upload.result_json())


@guarded("notificaties")
async def post_notification(request: web.Request) -> web.Response:
    """Validate and record a NotificatieBundel (idempotent by Id)."""
    state = request.app[STATE]
    access = authorize(request, SCOPE_NOTIFICATIONS)
    if isinstance(access, web.Response):
        return access
    body = await read_json(request)
    if isinstance(body, web.Response):
        return body
    notification, errors = validate_bundle(body, state.settings.phases)
    if notification is None:
        return validation_error(errors)
    if not state.notifications.known(notification.id):
        state.notifications.add(notification, access.client_id)
    return web.json_response({"Id": notification.id})


def add_api_routes(app: web.Application, settings: DosisSimulatorSettings) -> None:
    """Mount the endpoints on the paths the settings name."""
    app.router.add_post(settings.token_path, token)
    for path in dict.fromkeys(settings.upload_paths):
        app.router.add_post(path, post_dossier)
    app.router.add_get(settings.result_path, result_per_upload)
    if settings.notifications:
        app.router.add_post(NOTIFICATIONS_PATH, post_notification)
