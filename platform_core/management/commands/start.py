"""``manage.py start``: the production server in one command.

Migrates (Django's and the db services' SQL migrations, once, under a lock
shared by every replica), then becomes gunicorn with uvicorn workers::

    python manage.py start                         # JOULE_BIND, JOULE_WORKERS, [server]
    python manage.py start --bind 0.0.0.0:8000 --workers 4
    python manage.py start --no-migrate            # a separate job migrates
    python manage.py start --migrate-only          # that job
    python manage.py start --check                 # check --deploy; exit 1 on errors
"""

import logging
import os

from django.core.management import call_command
from django.core.management.base import BaseCommand

from platform_core.runtime.start import gunicorn_argv, migrate_all


class Command(BaseCommand):
    help = "Migrate once, then serve every service with gunicorn (production)."
    requires_system_checks = []  # --check runs them, with --deploy

    def add_arguments(self, parser):
        parser.add_argument("--bind", help="host:port (default JOULE_BIND, [server])")
        parser.add_argument("--workers", type=int, help="default JOULE_WORKERS")
        parser.add_argument("--no-migrate", action="store_true")
        parser.add_argument("--migrate-only", action="store_true")
        parser.add_argument("--check", action="store_true")

    def handle(self, *args, **options):
        if options["check"]:
            call_command("check", deploy=True, fail_level="ERROR")
            return
        if not options["no_migrate"]:
            log = logging.getLogger("joule.migrate")
            migrate_all(log.info, verbosity=options["verbosity"])
        if options["migrate_only"]:
            return
        argv = gunicorn_argv(options["bind"], options["workers"])
        logging.shutdown()  # flush before gunicorn takes the process
        os.execve(argv[0], argv, {**os.environ, "JOULE_MIGRATED": "1"})
