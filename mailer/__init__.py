"""mailer: a self-hosted newsletter sender."""

__version__ = "0.1.0"
