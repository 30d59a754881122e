"""LDAP logins (django-auth-ldap) configured from ``[ldap]`` of joule.toml.

A user logs in with their directory password (login page, token endpoint);
their LDAP groups become Django groups, hence roles, and the attributes
named in ``claims`` are stored as their claims at each login::

    settings.py:   globals().update(ldap_settings(CONFIG.ldap))
    apps.ready():  connect_ldap_claims()
"""

from __future__ import annotations

from typing import Any

from platform_core.config.types import LdapConfig
from platform_core.db.connections import LDAP_HEADERS, require_extra


def ldap_settings(config: LdapConfig | None) -> dict[str, Any]:
    """Return the Django settings of LDAP logins (none when not configured)."""
    base = {
        "AUTHENTICATION_BACKENDS": [
            "django.contrib.auth.backends.ModelBackend",
            # Object permissions (django-guardian) for custom services.
            "guardian.backends.ObjectPermissionBackend",
        ],
        "JOULE_LDAP_CLAIMS": {},
    }
    if config is None:
        return base
    require_extra("django_auth_ldap", "ldap", "[ldap] in joule.toml", LDAP_HEADERS)
    import ldap
    from django_auth_ldap.config import GroupOfNamesType, LDAPSearch

    settings = {
        "AUTHENTICATION_BACKENDS": [
            "django_auth_ldap.backend.LDAPBackend",
            *base["AUTHENTICATION_BACKENDS"],
        ],
        "JOULE_LDAP_CLAIMS": dict(config.claims),
        "AUTH_LDAP_SERVER_URI": config.server,
        "AUTH_LDAP_BIND_DN": config.bind_dn,
        "AUTH_LDAP_BIND_PASSWORD": config.bind_password,
        "AUTH_LDAP_USER_SEARCH": LDAPSearch(
            config.user_search, ldap.SCOPE_SUBTREE, config.user_filter
        ),
        "AUTH_LDAP_USER_ATTR_MAP": {
            "first_name": "givenName",
            "last_name": "sn",
            "email": "mail",
        },
    }
    if config.group_search:
        settings.update(
            AUTH_LDAP_GROUP_SEARCH=LDAPSearch(
                config.group_search, ldap.SCOPE_SUBTREE, "(objectClass=groupOfNames)"
            ),
            AUTH_LDAP_GROUP_TYPE=GroupOfNamesType(),
            AUTH_LDAP_MIRROR_GROUPS=True,
        )
    return settings


def store_claims(sender, user, ldap_user, **kwargs) -> None:
    """Keep the mapped LDAP attributes as the user's claims (populate_user)."""
    from django.conf import settings

    from platform_core.models import UserClaims

    mapping = getattr(settings, "JOULE_LDAP_CLAIMS", {})
    if not mapping:
        return
    claims = {}
    for claim, attribute in mapping.items():
        values = ldap_user.attrs.get(attribute.lower()) or ldap_user.attrs.get(
            attribute
        )
        if values:
            claims[claim] = values[0] if len(values) == 1 else list(values)
    if user.pk is None:
        user.save()
    UserClaims.objects.update_or_create(user=user, defaults={"claims": claims})


def connect_ldap_claims() -> None:
    """Store claims at each LDAP login, when django-auth-ldap is installed."""
    try:
        from django_auth_ldap.backend import populate_user
    except ImportError:
        return
    populate_user.connect(store_claims, dispatch_uid="joule-ldap-claims")
