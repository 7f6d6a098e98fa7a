"""ASGI middleware of the API: the request size limit and the access log."""

from __future__ import annotations

import json
import time
from typing import Any

from aws_lambda_powertools import Logger
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = Logger(service="pagewise-api")


def _event(scope: Scope) -> dict[str, Any]:
    event = scope.get("aws.event")
    return event if isinstance(event, dict) else {}


class RequestSizeLimit:
    """413 for a body larger than the limit, declared or actually sent.

    API Gateway does not always pass Content-Length on, so the body is counted as it arrives
    (it is in memory already: a Lambda event carries the whole body) and replayed to the app.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(scope: Scope, send: Send) -> None:
        request_id = (_event(scope).get("requestContext") or {}).get("requestId")
        body = json.dumps(
            {
                "error_code": "request_too_large",
                "message": "The request body is larger than the API accepts; upload large "
                "files with the presigned POST.",
                "request_id": request_id,
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


class AccessLog:
    """One structured line per request: method, route, status, duration, request id, tenant.

    Never the Authorization header, the query string or a response body (which holds
    presigned URLs and their signatures).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def remember_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, remember_status)
        finally:
            request_context = _event(scope).get("requestContext") or {}
            state = scope.get("state") or {}
            # The job id is the correlation id, as in ingest and every state: from the route
            # ({job_id}, which routing leaves in the scope) or the job a POST created.
            job_id = (scope.get("path_params") or {}).get("job_id") or state.get("job_id")
            logger.set_correlation_id(job_id)
            logger.info(
                "request",
                extra={
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "request_id": request_context.get("requestId"),
                    "tenant": state.get("tenant"),
                },
            )
