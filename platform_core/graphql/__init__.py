"""GraphQL API generated for db services (graphene, over the entities API)."""
