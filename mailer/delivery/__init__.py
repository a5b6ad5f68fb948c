"""Sending campaigns: the ledger, the dispatcher and the transports."""
