"""The public web side of mailer, served by ``mailer serve``: see ``app.create_app``."""
