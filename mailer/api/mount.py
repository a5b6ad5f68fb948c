"""The API's place in the app of ``mailer serve``: everything under ``/api/v1``, CSRF-exempt.

The API takes no cookies, only ``Authorization: Bearer`` tokens, which a browser never adds
to a request another site makes it send; so no API request needs a CSRF token. The mount is
one route that takes every method and path under the prefix and hands it to the FastAPI app,
and that route's endpoint (the app) is ``@csrf_exempt``: the exemption covers the API's
404s and 405s too, which then answer as problems rather than as the CSRF check's 403 page.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount, Route

from mailer.app import Mailer
from mailer.web.security import csrf_exempt

PREFIX = "/api/v1"


def routes(mailer: Mailer) -> list[BaseRoute]:
    from mailer.api.app import create_api

    api = csrf_exempt(create_api(mailer))
    # /api/v1 itself too (a Mount takes only the paths below it): the API's 404 problem.
    return [
        Mount(PREFIX, routes=[Route("/{api_path:path}", api, name="api")]),
        Route(PREFIX, api, name="api_root"),
    ]
