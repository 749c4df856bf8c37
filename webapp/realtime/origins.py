"""Which browser origins may open a Socket.IO connection: the same origin as the page (also
through a proxy or tunnel that sets X-Forwarded-Host/-Proto), PUBLIC_URL, and CORS_ORIGINS."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class OriginCheck:
    """A callable for python-engineio's `cors_allowed_origins`."""

    def __init__(self, allowed: Iterable[str], public_url: str) -> None:
        self.allowed = {origin.lower().rstrip("/") for origin in allowed}
        self.allowed.add(origin_of(public_url))

    def __call__(self, origin: str | None, environ: Mapping[str, Any]) -> bool:
        if origin is None:
            return True  # not a browser (browsers always send Origin on WebSocket and CORS)
        origin = origin.lower().rstrip("/")
        if origin in self.allowed:
            return True
        scope = environ.get("asgi.scope", {})
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())
        }
        host = headers.get("x-forwarded-host") or headers.get("host")
        if not host:
            return False
        scheme = headers.get("x-forwarded-proto") or (
            "https" if scope.get("scheme") in ("https", "wss") else "http"
        )
        return origin == f"{scheme.split(',')[0].strip()}://{host.split(',')[0].strip()}".lower()
