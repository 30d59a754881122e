"""If-Match / If-None-Match parsing and the 304 of a matching ETag."""

import pytest
from django.test import RequestFactory

from platform_core.exceptions import APIError
from platform_core.rest.conditional import not_modified, parse_tags, precondition_of


def test_tags_are_parsed_strong_and_weak():
    assert parse_tags('"a", W/"b" ,"c"', "If-Match") == ('"a"', 'W/"b"', '"c"')
    assert parse_tags(" * ", "If-Match") == ("*",)


@pytest.mark.parametrize("header", ["abc", '"a', '"a" "b"', "", '*, "a"'])
def test_a_malformed_tag_list_is_a_400(header):
    with pytest.raises(APIError) as raised:
        parse_tags(header, "If-Match")
    assert raised.value.status == 400
    assert raised.value.code == "INVALID_HEADERS"
    assert "If-Match must be * or a list of ETags" in str(raised.value.message)


def test_if_match_compares_strongly_and_never_matches_a_missing_row():
    request = RequestFactory().put("/", headers={"If-Match": 'W/"a", "b"'})
    precondition = precondition_of(request)
    assert precondition.matches('"b"')
    assert not precondition.matches('"a"')  # weak tags never match If-Match
    star = precondition_of(RequestFactory().put("/", headers={"If-Match": "*"}))
    assert star.matches('"x"') and not star.matches(None)
    with pytest.raises(APIError) as raised:
        star.check(None)
    assert raised.value.status == 412
    assert raised.value.code == "PRECONDITION_FAILED"


def test_if_none_match_compares_weakly():
    request = RequestFactory().get("/", headers={"If-None-Match": 'W/"a"'})
    answer = not_modified(request, '"a"')
    assert answer.status_code == 304 and answer["ETag"] == '"a"'
    assert not_modified(request, '"b"') is None
    assert not_modified(RequestFactory().get("/"), '"a"') is None
