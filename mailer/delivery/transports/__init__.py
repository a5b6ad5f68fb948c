"""Ways a batch of messages leaves: SendGrid's API, an SMTP server, or .eml files on disk."""
