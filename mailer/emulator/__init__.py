"""A SendGrid-compatible loopback server for tests, benchmarks and local development."""
