"""Limits on GraphQL documents: depth, aliases and size.

Added to graphql-core's standard validation rules, never replacing them
(``validate`` uses only the rules it is given)::

    [graphql]            # joule.toml
    max_depth = 10
    max_aliases = 50
    max_query_size = 20000
"""

from __future__ import annotations

from graphene.validation import depth_limit_validator
from graphql import FieldNode, GraphQLError, ValidationRule, specified_rules

from platform_core.config.types import GraphQLConfig


def alias_limit_validator(max_aliases: int) -> type[ValidationRule]:
    """Return a rule refusing documents with more than ``max_aliases`` aliases."""

    class AliasLimitValidator(ValidationRule):
        def __init__(self, context):
            super().__init__(context)
            self.count = 0

        def enter_field(self, node: FieldNode, *args):
            if node.alias is not None:
                self.count += 1
                if self.count == max_aliases + 1:
                    self.report_error(
                        GraphQLError(
                            f"The query has more than {max_aliases} aliases", node
                        )
                    )

    return AliasLimitValidator


def validation_rules(limits: GraphQLConfig) -> list[type[ValidationRule]]:
    """Return graphql-core's standard rules plus the platform's limits."""
    return [
        *specified_rules,
        depth_limit_validator(limits.max_depth),
        alias_limit_validator(limits.max_aliases),
    ]
