"""The OpenAPI document served at /api/v1/openapi.json describes exactly the
routes the app has."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from aiohttp import web

from tests.servers import AppHarness

METHODS = {"get", "post", "put", "patch", "delete"}


# The API and ops endpoints; pages and Twilio webhooks are not part of it.
DOCUMENTED = re.compile(r"^/(api|ws)/|^/(healthz|readyz|metrics)$")


def app_operations(app: web.Application) -> set[tuple[str, str]]:
    ops = set()
    for route in app.router.routes():
        if route.method in ("HEAD", "OPTIONS"):
            continue
        assert route.resource is not None
        if DOCUMENTED.search(route.resource.canonical):
            ops.add((route.resource.canonical, route.method.lower()))
    return ops


def doc_operations(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method) for path, item in doc["paths"].items() for method in item
            if method in METHODS}


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        assert isinstance(node, dict) and part in node, f"{ref} does not resolve"
        node = node[part]
    return node


async def openapi(api: AppHarness) -> dict[str, Any]:
    doc = await api.ok("GET", "/api/v1/openapi.json")
    assert isinstance(doc, dict)
    return doc


async def test_document_is_openapi_3(api: AppHarness) -> None:
    doc = await openapi(api)
    assert re.fullmatch(r"3\.\d+\.\d+", doc["openapi"])
    assert doc["info"]["title"] and doc["info"]["version"]
    assert isinstance(doc["paths"], dict) and doc["paths"]
    for path, item in doc["paths"].items():
        assert path.startswith("/"), path
        ops = [m for m in item if m in METHODS]
        assert ops, f"{path} has no operation"
        for method in ops:
            op = item[method]
            assert op["summary"], (path, method)
            assert op["responses"], (path, method)
            assert all(re.fullmatch(r"[1-5]\d\d", code) for code in op["responses"])


async def test_every_app_route_is_documented(api: AppHarness) -> None:
    doc = await openapi(api)
    missing = app_operations(api.app) - doc_operations(doc)
    assert not missing, f"routes of the app missing from the document: {sorted(missing)}"


async def test_every_documented_operation_exists(api: AppHarness) -> None:
    doc = await openapi(api)
    extra = doc_operations(doc) - app_operations(api.app)
    assert not extra, f"documented but not routed: {sorted(extra)}"


async def test_path_parameters_match_the_templates(api: AppHarness) -> None:
    doc = await openapi(api)
    for path, item in doc["paths"].items():
        template = set(re.findall(r"\{(\w+)\}", path))
        for method in (m for m in item if m in METHODS):
            params = item[method].get("parameters", [])
            in_path = {p["name"] for p in params if p["in"] == "path"}
            assert in_path == template, (path, method, in_path)
            assert all(p["required"] for p in params if p["in"] == "path")


async def test_references_resolve_and_bodies_have_schemas(api: AppHarness) -> None:
    doc = await openapi(api)
    schemas = doc["components"]["schemas"]
    for ref in refs(doc):
        resolve(doc, ref)
    bodies = 0
    for path, item in doc["paths"].items():
        for method in (m for m in item if m in METHODS):
            body = item[method].get("requestBody")
            if body is None:
                continue
            bodies += 1
            ref = body["content"]["application/json"]["schema"]["$ref"]
            name = ref.rsplit("/", 1)[1]
            assert ref == f"#/components/schemas/{name}" and name in schemas, (path, method)
            assert schemas[name]["type"] == "object"
    assert bodies >= 5
    # The schemas are the validating models: closed objects with their fields.
    issue = schemas["IssueTicket"]
    assert issue["required"] == ["service"]
    assert set(issue["properties"]) == {"service", "lang", "priority"}
    assert issue["additionalProperties"] is False
    ops = doc["paths"]["/api/v1/offices/{office}/tickets"]["post"]
    assert ops["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/IssueTicket")
    assert "401" in ops["responses"] and "403" in ops["responses"]
    assert ops["security"] == [{"bearer": []}]
    assert "bearer" in doc["components"]["securitySchemes"]
    error = resolve(doc, ops["responses"]["422"]["content"]["application/json"]["schema"][
        "$ref"])
    assert error["properties"]["error"]["required"] == ["code", "message"]
