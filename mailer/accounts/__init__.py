"""Who may use the admin app and the REST API, and what each may do: accounts with a role,
login sessions, API tokens, and the audit log of every change they make."""
