"""Entities described in the test, for the parts that need no database."""

import pytest

from platform_core.db.tables import Column, ForeignKey, Table
from platform_core.testing import schema_of

OWNERS = Table(
    "owners",
    False,
    (
        Column("id", "AutoField", False, auto=True),
        Column("name", "CharField", False, max_length=50),
    ),
    ("id",),
    (),
    (),
)
POSTS = Table(
    "posts",
    False,
    (
        Column("id", "AutoField", False, auto=True),
        Column("title", "CharField", False, max_length=20),
        Column("status", "TextField", True),
        Column("counter", "IntegerField", True),
        Column("price", "DecimalField", True, max_digits=8, decimal_places=2),
        Column("published", "BooleanField", True),
        Column("created_at", "DateTimeField", True),
        Column("tags", "ArrayField", True, array_of="TextField"),
        Column("data", "JSONField", True),
        Column("owner_id", "IntegerField", True),
    ),
    ("id",),
    (ForeignKey("owner_id", "owners", "id"),),
    (),
)


@pytest.fixture(scope="session")
def post():
    """The ``post`` entity of ``posts`` (and its parent ``owners``): models only."""
    return schema_of(OWNERS, POSTS).entities["post"]
