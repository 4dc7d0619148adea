"""The service endpoints: token, dossier status, read-back of results, notifications."""

from __future__ import annotations

import time

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
from simulators.dosis.state import STATE
from simulators.dosis.tokens import SCOPE_DOSSIERS, SCOPE_NOTIFICATIONS, OAuthError

__all__ = [
    "DOSSIERS_PATH",
    "NOTIFICATIONS_PATH",
    "RESULTS_PATH",
    "RESULT_PER_UPLOAD_PATH",
    "TOKEN_PATH",
    "api_routes",
]

TOKEN_PATH = "/op/v1/token"
DOSSIERS_PATH = "/api/v2/dosis/dossiers"
RESULTS_PATH = "/api/v1/dosis/resultaten"
RESULT_PER_UPLOAD_PATH = "/api/v1/dosis/resultaten/perUploadId"
NOTIFICATIONS_PATH = "/api/v2/notificaties"

routes = web.RouteTableDef()


@routes.post(TOKEN_PATH)
@guarded("token", oauth=True)
async def token(request: web.Request) -> web.Response:
    """Client credentials with a JWT client assertion → an opaque bearer token."""
    if request.content_type != "application/x-www-form-urlencoded":
        return oauth_error(400, "invalid_request",
                           "verwacht application/x-www-form-urlencoded")
    form = await request.post()
    repeated = sorted({key for key in form if len(form.getall(key)) > 1})
    if repeated:
        return oauth_error(400, "invalid_request", f"parameter herhaald: {', '.join(repeated)}")
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    # The audience is this endpoint as the client addressed it (Host header included).
    audience = str(request.url.with_query(None))
    try:
        body = request.app[STATE].tokens.issue(fields, audience)
    except OAuthError as exc:
        return oauth_error(400, exc.error, exc.description)
    return web.json_response(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


@routes.post(DOSSIERS_PATH)
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
    submission, errors = validate_dossier(body, state.settings.phases)
    if submission is None:
        return validation_error(errors)
    if state.dossiers.get(submission.upload_id) is None:
        refuse = state.faults.take("dossiers", ("refuse-result",)) is not None
        state.dossiers.accept(submission, access.client_id,
                              REFUSED_ON_REQUEST if refuse else None)
    return web.json_response({"UploadId": submission.upload_id})


@routes.get(RESULTS_PATH)
@guarded("resultaten")
async def results(request: web.Request) -> web.Response:
    """The results of one dossier's uploads in arrival order (``bron``, ``dossierNummer``)."""
    access = authorize(request, SCOPE_DOSSIERS)
    if isinstance(access, web.Response):
        return access
    bron = request.query.get("bron", "")
    dossier = request.query.get("dossierNummer", "")
    missing = [{"field": name, "message": "verplichte parameter ontbreekt"}
               for name, value in (("bron", bron), ("dossierNummer", dossier)) if not value]
    if missing:
        return validation_error(missing)
    now = time.monotonic()
    uploads = request.app[STATE].dossiers.for_dossier(bron, dossier)
    return web.json_response([upload.result_json(now) for upload in uploads])


@routes.get(RESULT_PER_UPLOAD_PATH)
@guarded("resultaten")
async def result_per_upload(request: web.Request) -> web.Response:
    """The result of one upload (``uploadId``); 404 when it was never accepted."""
    access = authorize(request, SCOPE_DOSSIERS)
    if isinstance(access, web.Response):
        return access
    upload_id = request.query.get("uploadId", "")
    if not upload_id:
        missing = {"field": "uploadId", "message": "verplichte parameter ontbreekt"}
        return validation_error([missing])
    upload = request.app[STATE].dossiers.get(upload_id)
    if upload is None:
        return dosis_error(404, f"geen upload met UploadId {upload_id}")
    return web.json_response(upload.result_json(time.monotonic()))


@routes.post(NOTIFICATIONS_PATH)
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


api_routes = routes
