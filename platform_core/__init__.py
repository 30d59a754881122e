"""Joule: a Django application platform."""

__version__ = "0.1.0"
