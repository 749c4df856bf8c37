"""HTTP middleware: a rate limit per client address on every request, and headers every response
should carry. Pure ASGI, so streamed audio passes through untouched."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_response
from .metrics import Metrics
from .throttle import Throttle

SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),  # never sniff an upload-ish file into HTML
    (b"referrer-policy", b"same-origin"),  # invite tokens in URLs stay on this site
)


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limit: str, metrics: Metrics) -> None:
        self.app = app
        self.throttle = Throttle({"http": limit})
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        retry = self.throttle.hit("http", client[0] if client else "unknown")
        if retry is not None:
            self.metrics.throttled.labels("http").inc()
            response = error_response(
                429,
                "rate_limited",
                f"too many requests; try again in {retry:g} s",
                {"Retry-After": str(max(1, round(retry)))},
            )
            await response(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)
