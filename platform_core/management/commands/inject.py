"""``manage.py inject <id> <METHOD> <path>``: one request, in-process.

    python manage.py inject hello GET /greet/ada -i
    python manage.py inject legacy POST /echo \
        -H "Content-Type: application/json" -d '{"a": 1}'

Exits with status 1 when the answer is 4xx or 5xx.
"""

import sys

from django.core.management.base import BaseCommand, CommandError

from platform_core import mesh, naming
from platform_core.exceptions import ServiceNotFound

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def parse_header(text: str) -> tuple[str, str]:
    """Return (name, value) of ``"Name: value"``; raise CommandError if malformed."""
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise CommandError(f"-H {text!r}: expected 'Name: value'")
    return name.strip(), value.strip()


class Command(BaseCommand):
    help = "Send one request to a service in-process and print the answer."

    def add_arguments(self, parser):
        parser.add_argument("id", help="the service id")
        parser.add_argument("method", type=str.upper, choices=METHODS)
        parser.add_argument("path", help="path below the service prefix, e.g. /items")
        parser.add_argument(
            "-H",
            "--header",
            action="append",
            default=[],
            help="a request header 'Name: value' (repeatable)",
        )
        parser.add_argument("-d", "--data", help="request body; @file reads a file")
        parser.add_argument(
            "-i", "--include", action="store_true", help="print the response headers"
        )

    def handle(self, *args, **options):
        path = (
            options["path"]
            if options["path"].startswith("/")
            else "/" + options["path"]
        )
        headers = [parse_header(h) for h in options["header"]]
        data = options["data"]
        if data and data.startswith("@"):
            try:
                with open(data[1:], "rb") as file:
                    data = file.read()
            except OSError as exc:
                raise CommandError(f"-d {data}: {exc.strerror}") from None
        url = f"http://{naming.mesh_host(options['id'])}{path}"
        try:
            with mesh.client() as http:
                response = http.request(
                    options["method"], url, headers=headers, content=data
                )
        except ServiceNotFound as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"HTTP/1.1 {response.status_code} {response.reason_phrase}")
        if options["include"]:
            for name, value in response.headers.multi_items():
                self.stdout.write(f"{name}: {value}")
        self.stdout.write("")
        self.stdout.write(response.text)
        if response.status_code >= 400:
            sys.exit(1)
