"""Actions on behalf of a principal, shared by the REST API and the admin app (and, later,
the command line): each takes the ``Mailer``, the ``Principal`` and plain values, checks the
principal's permission, calls the core, and records each change in the audit log in the same
transaction as the change itself. They know nothing of HTTP."""
