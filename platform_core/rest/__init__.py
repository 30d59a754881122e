"""REST API generated for db services (DRF views over the entities API)."""
