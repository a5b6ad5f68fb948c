"""Scheduled sends: when they go out, and the worker that fires them."""
