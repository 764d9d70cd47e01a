"""A cap on request bodies, counted as they arrive (a false ``Content-Length`` or a chunked
upload cannot get past it): uploads to ``/api/ingest`` up to ``RECOUPE_MAX_UPLOAD``, any
other request up to :data:`SMALL_BODY`."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from recoupe.api.problems import problem

SMALL_BODY = 1024 * 1024
UPLOAD_PATHS = ("/api/ingest",)


class BodyLimit:
    def __init__(self, app: ASGIApp, max_upload: int) -> None:
        self.app = app
        self.max_upload = max_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = self.max_upload if path.startswith(UPLOAD_PATHS) else SMALL_BODY
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            response = problem(413, "Request too large", _message(limit))
            await response(scope, receive, send)
            return
        seen = 0
        exceeded = False
        replaced = False

        async def counted() -> Message:
            nonlocal seen, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    exceeded = True  # the rest is never read, nor written anywhere
                    return {"type": "http.disconnect"}
            return message

        async def answer(message: Message) -> None:
            # Whatever the application makes of the cut body, the client learns why.
            nonlocal replaced
            if exceeded:
                if not replaced and message["type"] == "http.response.start":
                    replaced = True
                    await problem(413, "Request too large", _message(limit))(scope, receive, send)
                return
            await send(message)

        try:
            await self.app(scope, counted, answer)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not replaced:
            await problem(413, "Request too large", _message(limit))(scope, receive, send)


def _message(limit: int) -> str:
    return f"the request body is larger than {limit:,} bytes (RECOUPE_MAX_UPLOAD for uploads)"
