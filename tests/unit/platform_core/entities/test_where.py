"""where / orderBy / fields turned into ORM terms, every name and value checked.

Query strings arrive as text (``from_text=True``), GraphQL arguments typed;
both give the same Q. The Q is applied to the entity's unmanaged model, so
every lookup resolves against a real field; nothing is sent to a database.
"""

from __future__ import annotations

import datetime
import decimal
import re

import pytest
from django.db.models import Q

from platform_core.entities.where import (
    MAX_LIST_VALUES,
    MAX_OR_CONDITIONS,
    MAX_WHERE_VALUES,
    build_order,
    build_where,
    check_fields,
)
from platform_core.exceptions import (
    INVALID_VALUE,
    QUERY_TOO_LARGE,
    UNKNOWN_FIELD,
    UNKNOWN_OPERATOR,
    VALUE_TOO_LONG,
    APIError,
)

OPERATORS = (
    "eq, neq, gt, gte, lt, lte, like, ilike, in, nin, isNull, "
    "contains, contained, overlaps, any, all"
)


def where_q(info, where, from_text=True) -> Q:
    """Return the Q of ``where``, after filtering the model with it."""
    q = build_where(info, where, from_text)
    info.model.objects.filter(q)  # resolves each lookup; runs no query
    return q


def refused(code: str, message: str):
    """Expect a 400 APIError with ``code`` and exactly ``message``."""
    return pytest.raises(
        APIError,
        match=f"^{re.escape(message)}$",
        check=lambda e: (e.status, e.code) == (400, code),
    )


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({"title": {"eq": "Dog"}}, Q(title="Dog")),
        ({"title": {"like": "Dog%"}}, Q(title__like="Dog%")),
        ({"title": {"ilike": "dog%"}}, Q(title__ilike="dog%")),
        ({"counter": {"gte": "40"}}, Q(counter__gte=40)),
        ({"counter": {"lt": "-3"}}, Q(counter__lt=-3)),
        ({"price": {"gt": "9.50"}}, Q(price__gt=decimal.Decimal("9.50"))),
        ({"published": {"eq": "true"}}, Q(published=True)),
        ({"published": {"isNull": "false"}}, Q(published__isnull=False)),
        ({"id": {"in": "1,2,3"}}, Q(id__in=[1, 2, 3])),
        (
            {"id": {"nin": "1,2"}},
            ~Q(id__in=[1, 2]) & Q(id__isnull=False),  # NULL is never "not in"
        ),
        (
            {"createdAt": {"gt": "2001-01-01T00:00:00"}},
            Q(createdAt__gt=datetime.datetime(2001, 1, 1, tzinfo=datetime.UTC)),
        ),
        ({"ownerId": {"eq": "1"}}, Q(owner_id=1)),  # a foreign key's column
        ({"tags": {"contains": "red,blue"}}, Q(tags__contains=["red", "blue"])),
        ({"tags": {"any": "red"}}, Q(tags__any="red")),
    ],
)
def test_text_values_become_typed_lookups(post, where, expected):
    assert where_q(post, where) == expected


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({"price": {"eq": "null"}}, Q(price__isnull=True)),
        ({"price": {"neq": "null"}}, Q(price__isnull=False)),
        ({"title": {"eq": "null"}}, Q(title__isnull=True)),  # even on text
    ],
)
def test_eq_null_in_a_query_string_tests_for_null(post, where, expected):
    assert where_q(post, where) == expected


def test_neq_also_leaves_out_null_rows(post):
    assert where_q(post, {"price": {"neq": "9.50"}}) == ~Q(
        price=decimal.Decimal("9.50")
    ) & Q(price__isnull=False)


def test_typed_values_give_the_same_q_as_text(post):
    typed = {"id": {"in": [1, 2]}, "price": {"eq": None}, "published": {"eq": True}}
    text = {"id": {"in": "1,2"}, "price": {"eq": "null"}, "published": {"eq": "true"}}
    assert where_q(post, typed, from_text=False) == where_q(post, text)


def test_conditions_on_several_fields_and_operators_are_anded(post):
    q = where_q(post, {"counter": {"gte": "10", "lte": "40"}, "title": {"eq": "Dog"}})
    assert q == Q(counter__gte=10) & Q(counter__lte=40) & Q(title="Dog")


def test_where_or_is_anded_with_the_other_conditions(post):
    q = where_q(
        post,
        {
            "counter": {"gte": "40"},
            "or": [{"id": {"eq": "1"}}, {"title": {"ilike": "dog%"}}],
        },
    )
    assert q == Q(counter__gte=40) & (Q(id=1) | Q(title__ilike="dog%"))


def test_a_where_or_branch_may_hold_several_conditions(post):
    q = where_q(
        post, {"or": [{"id": {"eq": "1"}, "title": {"eq": "Dog"}}, {"id": {"eq": "2"}}]}
    )
    assert q == (Q(id=1) & Q(title="Dog")) | Q(id=2)


@pytest.mark.parametrize("where", [None, {}])
def test_no_where_is_an_empty_q(post, where):
    assert where_q(post, where) == Q()


def test_an_unknown_operator_lists_the_operators_and_the_nearest(post):
    with refused(
        UNKNOWN_OPERATOR,
        f'Unknown operator "gtt" for "counter". Operators: {OPERATORS}. '
        "Did you mean 'gt'?",
    ):
        build_where(post, {"counter": {"gtt": "1"}}, from_text=True)


def test_an_unknown_operator_without_a_near_one_lists_them_only(post):
    with refused(
        UNKNOWN_OPERATOR,
        f'Unknown operator "between" for "counter". Operators: {OPERATORS}.',
    ):
        build_where(post, {"counter": {"between": "1,5"}}, from_text=True)


def test_an_unknown_field_suggests_the_nearest(post):
    with refused(
        UNKNOWN_FIELD, "Unknown field \"countr\" in where. Did you mean 'counter'?"
    ):
        build_where(post, {"countr": {"eq": "1"}}, from_text=True)


def test_an_unknown_field_in_a_where_or_branch_is_refused_too(post):
    with refused(UNKNOWN_FIELD, 'Unknown field "nope" in where.'):
        build_where(post, {"or": [{"id": {"eq": 1}}, {"nope": {"eq": 1}}]})


@pytest.mark.parametrize(
    ("where", "from_text", "code", "message"),
    [
        ({"id": {"in": "1,x"}}, True, INVALID_VALUE,
         'Invalid value \'x\' for "id" in where.in: expected an integer'),
        ({"id": {"in": []}}, False, INVALID_VALUE, '"id.in" needs a non-empty list'),
        ({"id": {"nin": 3}}, False, INVALID_VALUE, '"id.nin" needs a non-empty list'),
        ({"counter": {"gt": "null"}}, True, INVALID_VALUE,
         'Invalid value \'null\' for "counter" in where: expected an integer'),
        ({"counter": {"gt": None}}, False, INVALID_VALUE, '"counter.gt" needs a value'),
        ({"counter": {"eq": "99999999999"}}, True, INVALID_VALUE,
         'Value 99999999999 for "counter" is out of range (-2147483648 to 2147483647)'),
        ({"counter": {"eq": "4"}}, False, INVALID_VALUE,
         'Invalid value \'4\' for "counter" in where: expected an integer'),
        ({"counter": {"like": "4%"}}, True, UNKNOWN_OPERATOR,
         '"like" works on text fields; "counter" is not one'),
        ({"title": {"like": 4}}, False, INVALID_VALUE, '"title.like" needs a string'),
        ({"title": {"any": "red"}}, True, UNKNOWN_OPERATOR,
         'Operator for arrays used on "title", which is not an array'),
        ({"title": {"eq": "x" * 21}}, True, VALUE_TOO_LONG,
         'Value for "title" is longer than 20 characters'),
        ({"published": {"eq": "1"}}, True, INVALID_VALUE,
         'Invalid value \'1\' for "published" in where: expected true or false'),
        ({"published": {"isNull": "yes"}}, True, INVALID_VALUE,
         '"published.isNull" needs true or false'),
        ({"price": {"eq": "1.234"}}, True, INVALID_VALUE,
         'Value 1.234 for "price" does not fit NUMERIC(8, 2)'),
        ({"createdAt": {"gt": "yesterday"}}, True, INVALID_VALUE,
         'Invalid value \'yesterday\' for "createdAt" in where: '
         "expected a date-time (ISO 8601)"),
        ({"counter": {}}, True, INVALID_VALUE,
         "where.counter needs an operator, e.g. where.counter.eq"),
        ({"counter": "1"}, False, INVALID_VALUE,
         "where.counter needs an operator, e.g. where.counter.eq"),
        ({"or": []}, False, INVALID_VALUE, '"or" needs a list of conditions'),
        ({"or": "(id.eq=1)"}, True, INVALID_VALUE, '"or" needs a list of conditions'),
    ],
)  # fmt: skip
def test_a_value_that_does_not_fit_is_a_400(post, where, from_text, code, message):
    with refused(code, message):
        build_where(post, where, from_text)


def test_order_maps_names_and_directions_to_orm_terms(post):
    terms = build_order(post, [("title", "asc"), ("id", "desc"), ("ownerId", "asc")])
    assert terms == ["title", "-id", "owner_id"]
    post.model.objects.order_by(*terms)  # each term names a model field


def test_order_refuses_unknown_fields_and_directions(post):
    with refused(
        UNKNOWN_FIELD, "Unknown field \"titel\" in orderby. Did you mean 'title'?"
    ):
        build_order(post, [("titel", "asc")])
    with refused(INVALID_VALUE, 'orderby.id must be "asc" or "desc", not \'up\''):
        build_order(post, [("id", "up")])


def test_fields_default_to_every_field_and_unknown_ones_are_refused(post):
    assert check_fields(post, None) == tuple(post.fields)
    assert check_fields(post, ["title", "id"]) == ("title", "id")
    with refused(INVALID_VALUE, "fields needs at least one field"):
        check_fields(post, [])
    with refused(UNKNOWN_FIELD, 'Unknown field "nope" in fields.'):
        check_fields(post, ["id", "nope"])


OR_CAP = f'Too many "or" conditions: at most {MAX_OR_CONDITIONS} are allowed'
VALUES_CAP = (
    f"Too many values in the where lists: at most {MAX_WHERE_VALUES} in all are allowed"
)


def _ids(count: int, from_text: bool):
    values = list(range(1, count + 1))
    return ",".join(map(str, values)) if from_text else values


@pytest.mark.parametrize("from_text", [True, False])
def test_where_or_and_in_lists_at_their_caps_are_accepted(post, from_text):
    branches = [{"id": {"eq": str(n) if from_text else n}} for n in range(100)]
    assert len(where_q(post, {"or": branches}, from_text)) == MAX_OR_CONDITIONS
    where_q(post, {"id": {"in": _ids(MAX_LIST_VALUES, from_text)}}, from_text)


@pytest.mark.parametrize("from_text", [True, False])
@pytest.mark.parametrize("op", ["in", "nin"])
def test_an_in_list_over_its_cap_is_a_400_naming_the_cap(post, from_text, op):
    with refused(
        QUERY_TOO_LARGE,
        f'"id.{op}" has {MAX_LIST_VALUES + 1} values; at most {MAX_LIST_VALUES} '
        "are allowed",
    ):
        build_where(post, {"id": {op: _ids(MAX_LIST_VALUES + 1, from_text)}}, from_text)


def test_where_or_over_its_cap_is_a_400_naming_the_cap(post):
    branches = [{"id": {"eq": "1"}}] * (MAX_OR_CONDITIONS + 1)
    with refused(QUERY_TOO_LARGE, OR_CAP):
        build_where(post, {"or": branches}, True)


def test_nested_or_branches_count_together(post):
    # GraphQL may nest "or" in a branch; 2000 levels are refused at once.
    where: dict = {"id": {"eq": 1}}
    for _ in range(2000):
        where = {"or": [where]}
    with refused(QUERY_TOO_LARGE, OR_CAP):
        build_where(post, where)


def test_values_of_all_lists_together_are_capped(post):
    branch = {"id": {"in": _ids(MAX_LIST_VALUES, True)}}
    count = MAX_WHERE_VALUES // MAX_LIST_VALUES + 1
    with refused(QUERY_TOO_LARGE, VALUES_CAP):
        build_where(post, {"or": [branch] * count}, True)
