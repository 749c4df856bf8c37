"""What every HTTP response shares: JSON errors, rate limits, CORS, security headers, OpenAPI."""

from __future__ import annotations

import httpx

from .conftest import Web, WebFactory


async def test_unknown_paths_and_methods_get_json_errors(web: Web) -> None:
    async with httpx.AsyncClient(base_url=web.url) as http:
        missing = await http.get("/no/such/thing")
        wrong = await http.post("/rooms")
    assert missing.status_code == 404
    assert missing.json() == {"error": "not_found", "detail": "Not Found"}
    assert wrong.status_code == 405
    assert wrong.json()["error"] == "method_not_allowed"


async def test_a_flood_of_requests_is_refused_with_retry_after(start_web: WebFactory) -> None:
    web = await start_web(http_rate_limit="5/minute")
    async with httpx.AsyncClient(base_url=web.url) as http:
        answers = [await http.get("/rooms") for _ in range(7)]
    assert [a.status_code for a in answers] == [200] * 5 + [429] * 2
    refused = answers[-1]
    assert refused.json()["error"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    registry = web.server.metrics.registry
    assert registry.get_sample_value("lockstep_throttled_total", {"entry": "http"}) == 2


async def test_cors_allows_listed_origins_only(start_web: WebFactory) -> None:
    web = await start_web(cors_origins="https://friends.example")
    async with httpx.AsyncClient(base_url=web.url) as http:
        friend = await http.get("/rooms", headers={"Origin": "https://friends.example"})
        stranger = await http.get("/rooms", headers={"Origin": "https://evil.example"})
        preflight = await http.options(
            "/rooms",
            headers={
                "Origin": "https://friends.example",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "range",
            },
        )
    assert friend.headers["access-control-allow-origin"] == "https://friends.example"
    assert "access-control-allow-origin" not in stranger.headers
    assert preflight.status_code == 200
    assert "range" in preflight.headers["access-control-allow-headers"].lower()


async def test_responses_carry_security_headers(web: Web) -> None:
    async with httpx.AsyncClient(base_url=web.url) as http:
        response = await http.get("/health")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


async def test_openapi_describes_every_route(web: Web) -> None:
    async with httpx.AsyncClient(base_url=web.url) as http:
        spec = (await http.get("/openapi.json")).json()
        docs = await http.get("/docs")
    assert docs.status_code == 200
    routes = {
        path
        for route in web.server.api.routes
        if (path := getattr(route, "path", ""))
        and not path.startswith(("/docs", "/openapi", "/redoc"))
    }
    assert routes <= set(spec["paths"])
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method.upper()} {path} has no summary"
            # Validation errors are 400 with our JSON body; FastAPI's default 422 never happens.
            assert "422" not in operation["responses"], f"{method.upper()} {path} documents 422"
