"""The public pages' routes. Every module in this package is served: ``create_app`` calls each
one's ``routes(mailer) -> list[BaseRoute]`` (see ``mailer.web.app``)."""
