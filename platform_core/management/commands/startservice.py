"""``manage.py startservice <id> --kind <kind>``: scaffold a new service."""

from django.core.management.base import BaseCommand, CommandError

from platform_core.config import get_config
from platform_core.exceptions import ConfigError
from platform_core.registry import kinds
from platform_core.scaffold import render_service, write_files


class Command(BaseCommand):
    help = "Create services/<id>/ for a new service of the given kind."

    def add_arguments(self, parser):
        parser.add_argument("id", help="lower-case letters, digits and '-'")
        parser.add_argument(
            "--kind",
            default="service",
            help=f"one of: {', '.join(kinds.names())} (default: service)",
        )
        parser.add_argument("--prefix", help="URL prefix (default: /<id>)")

    def handle(self, *args, **options):
        config = get_config()
        try:
            files = render_service(
                config, options["id"], options["kind"], options["prefix"]
            )
        except ConfigError as exc:
            raise CommandError(str(exc)) from None
        write_files(files)
        for path in files:
            self.stdout.write(f"  created {path.relative_to(config.root)}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Service '{options['id']}' ({options['kind']}) is ready; it is "
                "discovered on the next start. Run its tests with: "
                f"python dev.py test services/{options['id']}"
            )
        )
