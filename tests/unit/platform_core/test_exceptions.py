"""Client errors raised by views are JSON in every mode."""

import json

from django.core.exceptions import SuspiciousOperation
from django.http import Http404
from django.test import RequestFactory

from platform_core.exceptions import JsonErrorMiddleware


def answer(exception):
    middleware = JsonErrorMiddleware(lambda request: None)
    return middleware.process_exception(RequestFactory().get("/x"), exception)


def test_http404_from_a_view_is_the_json_404():
    response = answer(Http404("No order 7"))
    assert response.status_code == 404
    assert json.loads(response.content) == {
        "statusCode": 404,
        "code": "NOT_FOUND",
        "error": "Not Found",
        "message": "No order 7",
    }


def test_suspicious_operation_is_a_json_400():
    response = answer(SuspiciousOperation("bad"))
    assert response.status_code == 400
    assert json.loads(response.content)["message"] == "Bad request"


def test_other_exceptions_are_left_to_django():
    assert answer(ValueError("boom")) is None
