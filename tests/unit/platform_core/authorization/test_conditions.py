"""Rule conditions applied for a caller: as a Q on queries, or to one row.

A claim's value is typed as the field's (``"7"`` for an integer field is
7); a condition whose claim the caller lacks, or whose claim does not fit
the field, matches nothing.
"""

from __future__ import annotations

import decimal

import pytest
from django.db.models import Q

from platform_core.authorization.conditions import (
    NOTHING,
    conditions_q,
    row_matches,
)
from platform_core.config.authorization import parse_condition


def conditions(*texts: str):
    return tuple(parse_condition(text, "rule") for text in texts)


def q_of(info, texts, claims) -> Q:
    """Return the Q of the conditions ``texts``, after filtering the model."""
    q = conditions_q(info, conditions(*texts), claims)
    info.model.objects.filter(q)  # resolves each lookup; runs no query
    return q


@pytest.mark.parametrize(
    ("texts", "claims", "expected"),
    [
        (["ownerId = $USER_ID"], {"USER_ID": "7"}, Q(owner_id__exact=7)),
        (["ownerId = $USER_ID"], {"USER_ID": 7}, Q(owner_id__exact=7)),
        (["ownerId in $IDS"], {"IDS": "1,2"}, Q(owner_id__in=[1, 2])),
        (["ownerId in $IDS"], {"IDS": [1, 2]}, Q(owner_id__in=[1, 2])),
        (["ownerId nin $IDS"], {"IDS": "1,2"}, ~Q(owner_id__in=[1, 2])),
        (["status in 'draft,review'"], {}, Q(status__in=["draft", "review"])),
        (["status != 'archived'"], {}, ~Q(status="archived")),
        (["published = true"], {}, Q(published__exact=True)),
        (
            ["counter >= 10", "price < 9.5"],
            {},
            Q(counter__gte=10) & Q(price__lt=decimal.Decimal("9.5")),
        ),
        (
            ["ownerId = $USER_ID", "status != 'archived'"],
            {"USER_ID": "7"},
            Q(owner_id__exact=7) & ~Q(status="archived"),
        ),
        ([], {}, Q()),
    ],
)
def test_conditions_become_a_q_on_the_fields_columns(post, texts, claims, expected):
    assert q_of(post, texts, claims) == expected


@pytest.mark.parametrize(
    ("texts", "claims"),
    [
        (["ownerId = $USER_ID"], {}),
        (["ownerId = $USER_ID"], {"USER_ID": None}),
        (["ownerId = $USER_ID"], {"USER_ID": "ada"}),  # not an integer
        (["ownerId in $IDS"], {"IDS": "1,x"}),
        (["counter >= 10", "ownerId = $USER_ID"], {"OTHER": "1"}),
    ],
)
def test_a_missing_or_unfit_claim_matches_nothing(post, texts, claims):
    assert q_of(post, texts, claims) == NOTHING


ROWS = {
    "mine": {"ownerId": 7, "status": "draft", "counter": 10},
    "archived": {"ownerId": 7, "status": "archived", "counter": 9},
    "theirs": {"ownerId": 8, "status": "review", "counter": 40},
    "nobody's": {"ownerId": None, "status": "draft"},
}


@pytest.mark.parametrize(
    ("texts", "claims", "matching"),
    [
        (["ownerId = $USER_ID"], {"USER_ID": "7"}, {"mine", "archived"}),
        (["ownerId = $USER_ID"], {"USER_ID": 8}, {"theirs"}),
        (
            ["ownerId = $USER_ID", "status != 'archived'"],
            {"USER_ID": "7"},
            {"mine"},
        ),
        (["ownerId in $IDS"], {"IDS": "7,8"}, {"mine", "archived", "theirs"}),
        (["ownerId nin $IDS"], {"IDS": [7]}, {"theirs", "nobody's"}),
        (["status in 'draft,review'"], {}, {"mine", "theirs", "nobody's"}),
        (["counter >= 10"], {}, {"mine", "theirs"}),  # no counter: no match
        (["counter < 10"], {}, {"archived"}),
        ([], {}, set(ROWS)),
    ],
)
def test_a_row_matches_when_it_meets_every_condition(post, texts, claims, matching):
    rules = conditions(*texts)
    assert {
        name for name, row in ROWS.items() if row_matches(post, rules, row, claims)
    } == matching


@pytest.mark.parametrize(
    "claims", [{}, {"USER_ID": None}, {"USER_ID": "ada"}, {"OTHER": "7"}]
)
def test_no_row_matches_without_a_fitting_claim(post, claims):
    rules = conditions("ownerId = $USER_ID")
    assert not any(row_matches(post, rules, row, claims) for row in ROWS.values())


def test_row_values_are_typed_as_events_carry_them(post):
    rules = conditions("price < 9.5")
    assert row_matches(post, rules, {"price": "9.49"}, {})  # decimals as text
    assert not row_matches(post, rules, {"price": "9.50"}, {})
    assert row_matches(
        post, conditions("ownerId = $USER_ID"), {"ownerId": "7"}, {"USER_ID": 7}
    )
