"""The OpenAPI description as the API answers: errors as ``application/problem+json``
(FastAPI files every declared response under the route's own media type), and none of
FastAPI's default validation-error schemas, which this API never sends."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from mailer.api.problems import PROBLEM_MEDIA_TYPE

FASTAPI_DEFAULTS = ("HTTPValidationError", "ValidationError")


def problem_media_types(schema: dict[str, Any]) -> dict[str, Any]:
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status[0] in "45" and "application/json" in content:
                    content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
    schemas = schema.get("components", {}).get("schemas", {})
    text = json.dumps(schema)
    for name in FASTAPI_DEFAULTS:
        if name in schemas and f'"#/components/schemas/{name}"' not in text:
            del schemas[name]
    return schema


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                servers=app.servers,
            )
            app.openapi_schema = problem_media_types(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
