"""Endpoints other services post to (SendGrid's Event Webhook). Every module in this package
is served like those of ``mailer.web.public``: ``create_app`` calls each one's
``routes(mailer) -> list[BaseRoute]`` (see ``mailer.web.app``)."""
