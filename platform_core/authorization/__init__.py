"""Authorization of db services: who calls (identity) and what they may do (rules).

Rules apply in one place, the entities API (``hooks.RuleHooks``), so that
REST, GraphQL, subscriptions and Django admin obey them alike::

    [authorization]                      # services/<id>/service.toml
    adminSecret = "{JOULE_ADMIN_SECRET}"
    jwt = { secret = "{JOULE_JWT_SECRET}" }
    [[authorization.rules]]
    role = "user"
    entity = "post"
    find = ["ownerId = $USER_ID"]
"""
