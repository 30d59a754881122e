"""Query strings of the generated REST API parsed into list arguments.

Values stay text here (``entities.where`` checks them by type); every key is
known or refused with a 400 naming it.
"""

from __future__ import annotations

import re

import pytest
from django.http import QueryDict

from platform_core.exceptions import (
    INVALID_LIMIT,
    INVALID_VALUE,
    UNKNOWN_PARAMETER,
    APIError,
)
from platform_core.rest.params import (
    MAX_OFFSET,
    ListParams,
    check_encoding,
    parse_fields,
    parse_list,
    parse_only,
)

OR_SHAPE = 'where.or must look like "(field.op=value|field.op=value)"'
CURSOR_OFFSET = (
    "offset cannot be combined with cursor pagination "
    "(cursor=true, startAfter or endBefore)"
)


def parse(query: str, limit_default: int = 10, limit_max: int = 100, **kwargs):
    return parse_list(QueryDict(query), limit_default, limit_max, **kwargs)


def refused(code: str, message: str):
    """Expect a 400 APIError with ``code`` and exactly ``message``."""
    return pytest.raises(
        APIError, match=f"^{re.escape(message)}$", check=lambda e: e.code == code
    )


def test_an_empty_query_gives_the_defaults():
    assert parse("", limit_default=7) == ListParams(limit=7)


def test_the_documented_example_parses_every_part():
    params = parse(
        "where.title.like=Dog%25&where.or=(counter.gte=40|id.eq=1)"
        "&orderby.id=desc&fields=id,title&limit=5&offset=10&totalCount=true"
    )
    assert params == ListParams(
        where={
            "title": {"like": "Dog%"},
            "or": [{"counter": {"gte": "40"}}, {"id": {"eq": "1"}}],
        },
        order_by=[("id", "desc")],
        fields=("id", "title"),
        limit=5,
        offset=10,
        total_count=True,
    )


@pytest.mark.parametrize(
    ("query", "where"),
    [
        ("where.id.in=1,2,3", {"id": {"in": "1,2,3"}}),  # split by entities.where
        ("where.price.eq=null", {"price": {"eq": "null"}}),
        ("where.id.gt=1&where.id.lt=5", {"id": {"gt": "1", "lt": "5"}}),
        ("where.note.eq=a%3Db", {"note": {"eq": "a=b"}}),
        ("where.or=(note.eq=a=b)", {"or": [{"note": {"eq": "a=b"}}]}),
        (
            "where.or=(title.eq=a,b|id.in=1,2)",
            {"or": [{"title": {"eq": "a,b"}}, {"id": {"in": "1,2"}}]},
        ),
    ],
)
def test_where_values_stay_text(query, where):
    assert parse(query).where == where


def test_where_or_is_anded_with_the_other_conditions():
    params = parse("where.or=(id.eq=1|id.eq=2)&where.title.eq=Dog")
    assert params.where == {
        "or": [{"id": {"eq": "1"}}, {"id": {"eq": "2"}}],
        "title": {"eq": "Dog"},
    }


def test_orderby_keeps_the_order_of_the_query():
    params = parse("orderby.title=asc&orderby.id=desc")
    assert params.order_by == [("title", "asc"), ("id", "desc")]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("where.or=title.eq=Dog", OR_SHAPE),
        ("where.or=()", OR_SHAPE),
        ("where.or=(title=a)", 'where.or: "title=a" must look like "field.op=value"'),
        ("where.or=(title.eq=Dog|)", 'where.or: "" must look like "field.op=value"'),
        ("where.or=(.eq=Dog)", 'where.or: ".eq=Dog" must look like "field.op=value"'),
        ("where.or=(a)&where.or=(b)",
         'Query parameter "where.or" is given 2 times; put every condition in '
         "one where.or=(a|b|...)"),
    ],
)  # fmt: skip
def test_malformed_where_or_is_a_400(query, message):
    with refused(INVALID_VALUE, message):
        parse(query)


@pytest.mark.parametrize("key", ["where.title", "where.title.eq.x", "where..eq"])
def test_a_where_key_without_field_and_operator_is_unknown(key):
    with refused(
        UNKNOWN_PARAMETER,
        f'Query parameter "{key}" must look like "where.<field>.<operator>"',
    ):
        parse(f"{key}=Dog")


def test_a_repeated_where_key_is_a_400():
    with refused(INVALID_VALUE, 'Query parameter "where.id.eq" is given 2 times'):
        parse("where.id.eq=1&where.id.eq=2")


def test_an_unknown_key_lists_the_allowed_ones_and_the_nearest():
    with refused(
        UNKNOWN_PARAMETER,
        'Unknown query parameter "limt". Allowed: limit, offset, fields, '
        "totalCount, cursor, startAfter, endBefore, where.<field>.<op>, "
        "orderby.<field>. Did you mean 'limit'?",
    ):
        parse("limt=5")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=101", "\"limit\" must be a whole number between 0 and 100, not '101'"),
        ("limit=-1", "\"limit\" must be a whole number between 0 and 100, not '-1'"),
        ("limit=1.5", "\"limit\" must be a whole number between 0 and 100, not '1.5'"),
        ("limit=%C2%B2", "\"limit\" must be a whole number between 0 and 100, not '²'"),
        ("limit=", "\"limit\" must be a whole number between 0 and 100, not ''"),
        (
            f"offset={MAX_OFFSET + 1}",
            f"\"offset\" must be a whole number between 0 and {MAX_OFFSET}, "
            f"not '{MAX_OFFSET + 1}'",
        ),
    ],
)  # fmt: skip
def test_limit_and_offset_are_bounded_whole_numbers(query, message):
    with refused(INVALID_LIMIT, message):
        parse(query)


def test_limit_and_offset_at_their_bounds_are_accepted():
    params = parse(f"limit=100&offset={MAX_OFFSET}")
    assert (params.limit, params.offset) == (100, MAX_OFFSET)
    assert parse("limit=0").limit == 0


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=1&limit=2", 'Query parameter "limit" is given 2 times'),
        ("totalCount=yes", '"totalCount" must be true or false'),
        ("cursor=1", '"cursor" must be true or false'),
        ("fields=,", "fields needs at least one field name"),
        ("endBefore=abc&cursor=false",
         "startAfter and endBefore cannot be used with cursor=false"),
        ("cursor=true&startAfter=a&endBefore=z",
         "Use startAfter or endBefore, not both"),
        ("startAfter=a&endBefore=z", "Use startAfter or endBefore, not both"),
        ("startAfter=a&startAfter=b", 'Query parameter "startAfter" is given 2 times'),
        ("cursor=true&offset=3", CURSOR_OFFSET),
        ("startAfter=a&offset=3", CURSOR_OFFSET),
    ],
)  # fmt: skip
def test_inconsistent_list_options_are_a_400(query, message):
    with refused(INVALID_VALUE, message):
        parse(query)


def test_cursor_pages_take_start_after_or_end_before():
    assert parse("cursor=true&startAfter=abc").start_after == "abc"
    params = parse("cursor=true&endBefore=xyz&totalCount=false")
    assert (params.cursor, params.end_before, params.total_count) == (
        True,
        "xyz",
        False,
    )


@pytest.mark.parametrize(
    ("query", "start_after", "end_before"),
    [("startAfter=abc", "abc", None), ("endBefore=xyz", None, "xyz"),
     ("startAfter=", "", None)],
)  # fmt: skip
def test_start_after_or_end_before_alone_pages_by_cursor(
    query, start_after, end_before
):
    # As Platformatic: either one is cursor pagination, with or without cursor=true.
    params = parse(query)
    assert (params.cursor, params.start_after, params.end_before) == (
        True,
        start_after,
        end_before,
    )


@pytest.mark.parametrize(
    "query", ["fields=id&fields=title", "fields=id,title", "fields=id&fields=,title"]
)
def test_fields_takes_platformatics_array_form_too(query):
    assert parse(query).fields == ("id", "title")
    assert parse_fields(QueryDict(query)) == ("id", "title")


def test_fields_names_each_field_once():
    assert parse("fields=id,title,id&fields=title").fields == ("id", "title")


def test_fields_skips_empty_names():
    assert parse("fields=id,,title,").fields == ("id", "title")


def test_a_route_allowing_fields_only_refuses_paging_and_ordering():
    # The message's list of allowed keys is not asserted whole: it names
    # orderby.<field> even where ordering is refused.
    for key in ("limit", "orderby.id"):
        with pytest.raises(
            APIError,
            match=f'^Unknown query parameter "{key}". Allowed: fields, ',
            check=lambda e: e.code == UNKNOWN_PARAMETER,
        ):
            parse(f"{key}=1", 1, 1, allowed=("fields",), ordering=False)
    params = parse("where.id.eq=1&fields=id", 1, 1, allowed=("fields",), ordering=False)
    assert (params.where, params.fields) == ({"id": {"eq": "1"}}, ("id",))


def test_parse_only_refuses_keys_outside_the_allowed_ones():
    with refused(
        UNKNOWN_PARAMETER,
        "Unknown query parameter \"feilds\". Allowed: fields. Did you mean 'fields'?",
    ):
        parse_only(QueryDict("feilds=id"), ("fields",))
    with refused(UNKNOWN_PARAMETER, 'Unknown query parameter "x". Allowed: none.'):
        parse_only(QueryDict("x=1"), ())
    parse_only(QueryDict("fields=id"), ("fields",))


def test_parse_fields_is_none_without_the_key():
    assert parse_fields(QueryDict("")) is None
    assert parse_fields(QueryDict("fields=id")) == ("id",)


def test_every_refusal_is_a_400():
    with pytest.raises(APIError) as error:
        parse("limit=x")
    assert (error.value.status, error.value.code) == (400, INVALID_LIMIT)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (b"where.title.eq=%FF", "where.title.eq"),
        (b"limit=1&where.title.eq=a%C3", "where.title.eq"),
        (b"where.title.eq=%C3+", "where.title.eq"),
        (b"where.title.eq=\xff", "where.title.eq"),  # not even percent-encoded
        (b"where.t%FFtle.eq=a", "where.t\ufffdtle.eq"),
    ],
)
def test_a_query_that_is_not_utf8_is_a_400_naming_the_parameter(raw, key):
    with refused(
        INVALID_VALUE,
        f'Query parameter "{key}" is not valid UTF-8; '
        "percent-encode the UTF-8 bytes of the text",
    ):
        check_encoding(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"where.title.eq=Dog",
        b"where.title.eq=%F0%9F%90%B6",  # a dog, in UTF-8
        b"where.title.eq=%EF%BF%BD",  # U+FFFD itself, sent on purpose
        "where.title.eq=é".encode(),
        b"where.or=(title.eq%3DDog%7Cid.eq%3D1)&x=%25",
    ],
)
def test_utf8_queries_pass_the_encoding_check(raw):
    check_encoding(raw)
