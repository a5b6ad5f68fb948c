"""The admin app under ``/admin``: log-in, the dashboard, users and the audit log.

Every module here whose name does not start with ``_`` is a route module, served like those
of ``mailer.web.public`` (``routes(mailer) -> list[BaseRoute]``). ``_guard.AdminGuard`` stands
in front of every ``/admin`` path: no valid session, no answer (except the log-in page), and
each endpoint's ``@requires(permission)`` is checked there too (``read`` when it says none).
"""
