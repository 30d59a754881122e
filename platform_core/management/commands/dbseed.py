"""``manage.py dbseed <service> <file>``: load seed rows into a db service.

A ``.json`` file maps entity plurals to rows, inserted in file order through
the entities API (one transaction, same checks as the REST API), then key
sequences are moved past the seeded ids (PostgreSQL); a ``.sql`` file runs as
it is::

    {"categories": [{"id": 1, "name": "Coffee"}], "products": [...]}
"""

from pathlib import Path

import orjson
from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import connections, transaction

from platform_core.db.connections import alias_for
from platform_core.entities import entities
from platform_core.exceptions import APIError, JouleError, did_you_mean
from platform_core.registry import services


def seed_json(service_id: str, data) -> dict[str, int]:
    """Insert ``{plural: [rows]}``; return the count per plural."""
    if not isinstance(data, dict):
        raise CommandError("The seed file must hold an object: {plural: [rows]}")
    found = entities(service_id)
    plurals = [entity.info.plural for entity in found]
    counts = {}
    with transaction.atomic(using=found.schema.alias):
        for plural, rows in data.items():
            entity = found.by_plural(plural)
            if entity is None:
                raise CommandError(
                    f"No entity with plural '{plural}'. Plurals: "
                    f"{', '.join(plurals)}." + did_you_mean(plural, plurals)
                )
            counts[plural] = len(entity.insert(rows, fields=entity.info.primary_key))
        _reset_sequences(found.schema.alias, [found.by_plural(p) for p in counts])
    return counts


def _reset_sequences(alias: str, seeded) -> None:
    """Move key sequences past the seeded ids (PostgreSQL), as loaddata does.

    Otherwise the next insert without an id would be given a seeded one.
    """
    connection = connections[alias]
    models = [entity.info.model for entity in seeded]
    statements = connection.ops.sequence_reset_sql(no_style(), models)
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


class Command(BaseCommand):
    help = "Load seed rows (.json by entity plural, or .sql) into a db service."

    def add_arguments(self, parser):
        parser.add_argument("service", help="the id of a db service")
        parser.add_argument("file", help="a .json or .sql file")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No file {path}")
        try:
            spec = services.get(options["service"])
            if path.suffix == ".sql":
                connection = connections[alias_for(spec)]
                with (
                    transaction.atomic(using=alias_for(spec)),
                    connection.cursor() as c,
                ):
                    for statement in connection.ops.prepare_sql_script(
                        path.read_text()
                    ):
                        c.execute(statement)
                self.stdout.write(f"Ran {path.name} on '{spec.id}'.")
                return
            counts = seed_json(spec.id, orjson.loads(path.read_bytes()))
        except (JouleError, orjson.JSONDecodeError) as exc:
            message = exc.message if isinstance(exc, APIError) else str(exc)
            raise CommandError(f"{path.name}: {message}") from None
        for plural, count in counts.items():
            self.stdout.write(f"  {plural}: {count} row(s)")
        self.stdout.write(f"Seeded '{spec.id}' from {path.name}.")
