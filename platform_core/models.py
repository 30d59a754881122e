"""Platform tables: authorization rules edited in Django admin, the
claims of session users and the answers of idempotent POSTs. Having this
module also makes Django send post_migrate to ``platform_core``, which
applies the db services' SQL migrations.

    AuthorizationRule(service="shop", role="user", entities="post",
                      find_rule=["workspaceId = $WORKSPACE_ID"]).full_clean()
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from platform_core.config.authorization import AuthorizationOptions, rule_from_table
from platform_core.config.reader import TableReader
from platform_core.exceptions import ConfigError


def denied() -> bool:
    """Return the default of an operation a rule does not mention: denied."""
    return False


class AuthorizationRule(models.Model):
    """A rule of a db service, after the rules of its service.toml.

    The values take the forms of ``[[authorization.rules]]``, as JSON:
    ``true``, ``false``, ``["ownerId = $USER_ID"]`` or
    ``{"checks": {"ownerId": "USER_ID"}, "fields": [...]}``.
    """

    service = models.CharField(max_length=100, help_text="The db service's id.")
    position = models.PositiveIntegerField(
        default=0, help_text="Order among the service's admin rules."
    )
    role = models.CharField(max_length=100)
    entities = models.CharField(
        max_length=500, help_text='An entity, several separated by commas, or "*".'
    )
    find_rule = models.JSONField("find", default=denied, blank=True)
    save_rule = models.JSONField("save", default=denied, blank=True)
    delete_rule = models.JSONField("delete", default=denied, blank=True)
    defaults = models.JSONField(default=dict, blank=True)
    fields = models.JSONField(
        null=True, blank=True, help_text="The only fields the role uses (null: all)."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "joule_authorization_rule"
        ordering = ("service", "position", "id")

    def __str__(self) -> str:
        return f"{self.service}: {self.role} on {self.entities}"

    def as_toml_table(self) -> dict:
        """Return the rule as its ``[[authorization.rules]]`` table."""
        names = [name.strip() for name in self.entities.split(",") if name.strip()]
        table = {
            "role": self.role,
            "find": self.find_rule,
            "save": self.save_rule,
            "delete": self.delete_rule,
            "defaults": self.defaults or {},
        }
        if len(names) == 1:
            table["entity"] = names[0]
        else:
            table["entities"] = names
        if self.fields is not None:
            table["fields"] = self.fields
        return table

    def as_reader(self) -> TableReader:
        """Return the rule as the table of a service.toml would hold it."""
        label = f"admin rule {self.pk or 'new'} of '{self.service}'"
        return TableReader(self.as_toml_table(), label, "")

    def clean(self) -> None:
        """Check the rule as start-up checks service.toml (ValidationError)."""
        message = validate_rule(self)
        if message:
            raise ValidationError(message)


class UserClaims(models.Model):
    """Claims of a session user beyond id, username and email.

    Filled from LDAP attributes at login, or edited in the admin::

        UserClaims(user=alice, claims={"WORKSPACE_ID": 1})
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="joule_claims"
    )
    claims = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "joule_user_claims"
        verbose_name_plural = "user claims"

    def __str__(self) -> str:
        return f"claims of {self.user}"


class IdempotentRequest(models.Model):
    """A POST sent with an ``Idempotency-Key`` and, once answered, its answer.

    Shared by every worker and host through the platform database; a row
    without ``status`` is a request still being served (claimed at
    ``claimed_at``). ``rest.idempotency`` writes and replays them.
    """

    service = models.CharField(max_length=100)
    key = models.CharField(max_length=255)
    # caller: a hash of who sent it (identity claims, else credentials).
    caller = models.CharField(max_length=64)
    # fingerprint: a hash of the method, path, query and body.
    fingerprint = models.CharField(max_length=64)
    claimed_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    body = models.BinaryField(default=bytes, blank=True)

    class Meta:
        db_table = "joule_idempotent_request"
        constraints = [
            models.UniqueConstraint(
                fields=("service", "caller", "key"), name="joule_idempotency_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.service}: {self.key}"


def validate_rule(rule: AuthorizationRule) -> str:
    """Return why ``rule`` is invalid, or "": its service must exist with
    ``[authorization]``, its entities and fields must exist."""
    from platform_core.authorization.rules import check_rules
    from platform_core.db.catalog import get_schema
    from platform_core.registry import services

    if not services.is_registered(rule.service):
        return f"No service '{rule.service}'."
    spec = services.get(rule.service)
    if spec.kind != "db" or spec.options.authorization is None:
        return (
            f"'{rule.service}' has no [authorization] in {spec.source}; add it "
            f"(its identity sources) before adding rules here."
        )
    try:
        parsed = rule_from_table(rule.as_reader())
        entities = dict(get_schema(spec).entities)
        check_rules(AuthorizationOptions(rules=(parsed,)), entities, spec.id)
    except ConfigError as exc:
        return str(exc)
    return ""
