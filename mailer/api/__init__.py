"""The REST API under ``/api/v1``: see ``mailer.api.app`` (the FastAPI app) and
``mailer.api.mount`` (its place in ``mailer serve``)."""
