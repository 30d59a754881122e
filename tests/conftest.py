"""Shared fixtures for the platform's tests."""
