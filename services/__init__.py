"""The project's services: one folder each, discovered from service.toml."""
