"""``manage.py dbmigrate <service>``: apply, roll back or create SQL migrations.

python manage.py dbmigrate products              # apply pending
python manage.py dbmigrate products --to 2       # apply up to 002
python manage.py dbmigrate products --rollback   # undo the last one
python manage.py dbmigrate products --rollback --to 1
python manage.py dbmigrate products --create add_prices
"""

from django.core.management.base import BaseCommand, CommandError

from platform_core.db.migrator import Migrator
from platform_core.exceptions import ConfigError, ServiceNotFound
from platform_core.registry import services


class Command(BaseCommand):
    help = "Apply, roll back or create the SQL migrations of a db service."

    def add_arguments(self, parser):
        parser.add_argument("service", help="the id of a db service")
        parser.add_argument("--to", type=int, help="target version")
        parser.add_argument(
            "--rollback",
            action="store_true",
            help="undo migrations (the last one, or above --to)",
        )
        parser.add_argument(
            "--create",
            metavar="NAME",
            help="write the next NNN.do.NAME.sql / NNN.undo.NAME.sql",
        )

    def handle(self, *args, **options):
        try:
            spec = services.get(options["service"])
            if spec.kind != "db":
                raise CommandError(
                    f"'{spec.id}' is a {spec.kind} service; dbmigrate "
                    "works on db services"
                )
            migrator = Migrator(spec)
            if options["create"]:
                for path in migrator.create(options["create"]):
                    self.stdout.write(
                        f"  created {path.relative_to(spec.folder.parent.parent)}"
                    )
                return
            if options["rollback"]:
                done = migrator.rollback(options["to"])
                verb, files = "Rolled back", [m.undo.name for m in done]
            else:
                done = migrator.apply(options["to"])
                verb, files = "Applied", [m.do.name for m in done]
        except (ConfigError, ServiceNotFound) as exc:
            raise CommandError(str(exc)) from None
        for name in files:
            self.stdout.write(f"  {verb.lower()} {name}")
        self.stdout.write(
            f"{verb} {len(files)} migration(s) of '{spec.id}'; now at "
            f"version {max(migrator.applied(), default=0)}."
        )
