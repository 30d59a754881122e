"""``manage.py services``: list services with kind, prefix and health."""

from django.core.management.base import BaseCommand

from platform_core.gateway.views import service_states


def format_table(rows: list[list[str]]) -> str:
    """Return rows as left-aligned columns."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


class Command(BaseCommand):
    help = "List the services: id, kind, prefix and health."

    def handle(self, *args, **options):
        rows = [["ID", "KIND", "PREFIX", "HEALTH"]]
        for state in service_states():
            health = "ready" if state["ready"] else f"down: {state['detail']}"
            prefix = state["prefix"] + (" (and /)" if state["entrypoint"] else "")
            rows.append([state["id"], state["kind"], prefix, health])
        if len(rows) == 1:
            self.stdout.write("No services. Create one: manage.py startservice <id>")
            return
        self.stdout.write(format_table(rows))
