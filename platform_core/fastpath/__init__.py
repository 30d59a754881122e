"""The fast path: lean ASGI routes for generated reads, writes and known
GraphQL documents, in front of Django.

``routes.FastRoutes`` is wired in by the ASGI router; ``turns`` orders
SQLite writes on the event loop; ``graphql`` answers valid GraphQL documents
without the view. Answers carry the same envelope as Django's (``envelope``).
"""
