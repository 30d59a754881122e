"""Databases of db services: connections, SQL migrations, introspection."""
