"""The Jobs API's HTTP routes: ``POST|GET|DELETE /v1.0/jobs/{name}`` and the ``/v1.0-alpha1`` twins."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aiohttp import web

from daprjobs.sidecar.errors import KitError, LegacyApiError, internal_encode_error, malformed_request
from daprjobs.sidecar.http_body import JSON, error_response, read_body_limited
from daprjobs.sidecar.jobs.api import JobsApi
from daprjobs.sidecar.jobs.jobjson import JobJSONError, JobRenderError, parse_job_http_body, render_job

log = logging.getLogger(__name__)


class JobsHttpRoutes:
    def __init__(self, jobs: JobsApi, max_body_size: int) -> None:
        self._jobs = jobs
        self._max_body = max_body_size

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        out: list[web.AbstractRouteDef] = []
        for version in ("v1.0", "v1.0-alpha1"):
            out.append(web.post(f"/{version}/jobs/{{name}}", self.schedule_job))
            out.append(web.get(f"/{version}/jobs/{{name}}", self.get_job, allow_head=False))
            out.append(web.delete(f"/{version}/jobs/{{name}}", self.delete_job))
        return out

    async def schedule_job(self, request: web.Request) -> web.Response:
        try:
            body = await read_body_limited(request, self._max_body)
            try:
                parsed = parse_job_http_body(body)
            except JobJSONError as exc:
                raise malformed_request(str(exc)) from None
            await self._jobs.schedule_http(request.match_info["name"], parsed)
        except (KitError, LegacyApiError) as err:
            return error_response(err)
        return web.Response(status=204)

    async def get_job(self, request: web.Request) -> web.Response:
        try:
            job = await self._jobs.get(request.match_info["name"])
        except KitError as err:
            return error_response(err)
        try:
            body = render_job(job)
        except JobRenderError as exc:
            log.info("job cannot be rendered as JSON name=%s error=%s", job.name, exc)
            return error_response(internal_encode_error(str(exc)))
        return web.Response(status=200, body=body, content_type=JSON)

    async def delete_job(self, request: web.Request) -> web.Response:
        try:
            await self._jobs.delete(request.match_info["name"])
        except KitError as err:
            return error_response(err)
        return web.Response(status=204)
