"""``manage.py services`` and ``inject``, in-process, on the example services.

The repository's own project serves here: ``hello`` (a Django service, the
entrypoint) and ``legacy`` (a Flask app of kind wsgi). Services a user added
(``startservice``) are listed too, and no test names them.
"""

from __future__ import annotations

import io
import json
import re

import pytest
from django.core.management import CommandError, call_command

from platform_core.registry import services


def run(*args: str) -> str:
    """Run a management command in-process and return what it printed."""
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def parse_answer(text: str) -> tuple[str, dict[str, str], str]:
    """Split inject's output into status line, headers and body."""
    head, _, body = text.partition("\n\n")
    status, *header_lines = head.splitlines()
    headers = dict(line.split(": ", 1) for line in header_lines)
    return status, headers, body


@pytest.mark.django_db
def test_services_prints_a_table_of_every_service(express):
    lines = run("services").splitlines()
    assert lines[0].split() == ["ID", "KIND", "PREFIX", "HEALTH"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert list(rows) == [spec.id for spec in services]
    assert rows["legacy-express"].split() == [
        "legacy-express",
        "frontend",
        "/legacy-api",
        "ready",
    ]
    assert rows["products"].split() == ["products", "db", "/products", "ready"]
    assert rows["hello"].split() == [
        "hello",
        "service",
        "/hello",
        "(and",
        "/)",
        "ready",
    ]
    assert rows["legacy"].split() == ["legacy", "wsgi", "/legacy", "ready"]


@pytest.mark.django_db
def test_services_aligns_the_columns(express):
    header, *rows = run("services").splitlines()
    for row in rows:
        _, kind, prefix = row.split()[:3]
        assert row.index(kind) == header.index("KIND")
        assert row.index(prefix) == header.index("PREFIX")
        health = header.index("HEALTH")  # "ready" or "down: <why>"
        assert row[health - 1] == " " and row[health] in "rd", row


def test_services_marks_only_the_entrypoint_as_serving_slash():
    output = run("services")
    assert output.count("(and /)") == 1
    assert "(and /)" not in next(
        line for line in output.splitlines() if line.startswith("legacy")
    )


def test_inject_prints_the_status_line_and_the_json_body():
    status, headers, body = parse_answer(run("inject", "hello", "GET", "/greet/ada"))
    assert status == "HTTP/1.1 200 OK"
    assert headers == {}
    assert json.loads(body) == {"message": "Hello, ada!"}


def test_inject_accepts_a_lower_case_method_and_a_path_without_slash():
    status, _, body = parse_answer(run("inject", "hello", "get", "greet/ada"))
    assert status == "HTTP/1.1 200 OK"
    assert json.loads(body) == {"message": "Hello, ada!"}


def test_inject_include_prints_the_response_headers():
    status, headers, body = parse_answer(
        run("inject", "hello", "GET", "/greet/ada", "-i")
    )
    assert status == "HTTP/1.1 200 OK"
    assert headers["content-type"] == "application/json"
    assert len(headers["x-request-id"]) == 32
    assert json.loads(body) == {"message": "Hello, ada!"}


def test_inject_posts_a_json_body_to_a_wsgi_service():
    status, _, body = parse_answer(
        run(
            "inject",
            "legacy",
            "POST",
            "/echo",
            "-H",
            "Content-Type: application/json",
            "-d",
            '{"a": 1}',
        )
    )
    assert status == "HTTP/1.1 200 OK"
    assert json.loads(body) == {"received": {"a": 1}}


def test_inject_reads_the_body_from_a_file(tmp_path):
    body_file = tmp_path / "body.json"
    body_file.write_text('{"items": [1, 2], "name": "ada"}')
    _, _, body = parse_answer(
        run(
            "inject",
            "legacy",
            "POST",
            "/echo",
            "-H",
            "Content-Type: application/json",
            "-d",
            f"@{body_file}",
        )
    )
    assert json.loads(body) == {"received": {"items": [1, 2], "name": "ada"}}


def test_inject_sends_the_given_headers():
    _, _, body = parse_answer(
        run(
            "inject",
            "legacy",
            "GET",
            "/hello",
            "-H",
            "Authorization: Bearer abc",
            "-H",
            "X-Request-Id:  req-1 ",
        )
    )
    answer = json.loads(body)
    assert answer["authorization"] == "Bearer abc"
    assert answer["request_id"] == "req-1"
    assert (answer["script_name"], answer["path_info"]) == ("/legacy", "/hello")


def test_inject_unknown_service_suggests_the_nearest_id():
    ids = ", ".join(spec.id for spec in services)
    with pytest.raises(
        CommandError,
        match=re.escape(f"No service 'helo'. Services: {ids}. Did you mean 'hello'?"),
    ):
        run("inject", "helo", "GET", "/")


def test_inject_exits_with_status_1_on_an_error_answer():
    out = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("inject", "hello", "GET", "/nope", stdout=out)
    assert exited.value.code == 1
    status, _, body = parse_answer(out.getvalue())
    assert status == "HTTP/1.1 404 Not Found"
    assert json.loads(body)["code"] == "NOT_FOUND"


@pytest.mark.parametrize("header", ["no-colon", ": value"])
def test_inject_refuses_a_malformed_header(header):
    with pytest.raises(CommandError, match=f"-H '{header}': expected 'Name: value'"):
        run("inject", "hello", "GET", "/greet/ada", "-H", header)


def test_inject_refuses_an_unknown_method():
    with pytest.raises(CommandError, match="argument method: invalid choice: 'FETCH'"):
        run("inject", "hello", "FETCH", "/greet/ada")


def test_inject_head_prints_no_body():
    out = io.StringIO()
    call_command("inject", "hello", "HEAD", "/greet/ada", stdout=out)
    assert out.getvalue().splitlines() == ["HTTP/1.1 200 OK", "", ""]


def test_inject_data_from_a_missing_file_is_a_clear_error(tmp_path):
    missing = tmp_path / "nope.json"
    with pytest.raises(CommandError, match=r"-d @.*nope.json: No such file"):
        call_command("inject", "legacy", "POST", "/echo", "-d", f"@{missing}")
