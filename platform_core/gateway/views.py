"""The platform's own pages: /_joule/health, /_joule/ready and the dashboard.

GET /_joule/health  -> 200 {"status": "ok"}          (the process answers)
GET /_joule/ready   -> 200 or 503 {"ready": ..., "services": {...}}
GET /_joule/        -> HTML: services, kinds, prefixes, links
"""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

import platform_core
from platform_core.kinds import kinds
from platform_core.registry import services


def service_states() -> list[dict]:
    """Return each service's id, kind, prefix, readiness and links."""
    states = []
    for spec in services:
        kind = kinds.get(spec.kind)
        ready, detail = kind.check_ready(spec)
        states.append(
            {
                "id": spec.id,
                "kind": spec.kind,
                "prefix": spec.prefix,
                "ready": ready,
                "detail": detail,
                "entrypoint": spec is services.entrypoint,
                "links": kind.links(spec),
            }
        )
    return states


@csrf_exempt  # read-only: a POST gets 405, not a CSRF page
@require_safe
def health(request):
    """Answer 200 while the process serves requests."""
    return JsonResponse({"status": "ok"})


@csrf_exempt  # read-only: a POST gets 405, not a CSRF page
@require_safe
def ready(request):
    """Answer 200 when every service is ready, else 503 naming the others."""
    states = service_states()
    all_ready = all(state["ready"] for state in states)
    body = {
        "ready": all_ready,
        "services": {
            s["id"]: {"ready": s["ready"], "detail": s["detail"]} for s in states
        },
    }
    return JsonResponse(body, status=200 if all_ready else 503)


@csrf_exempt  # read-only: a POST gets 405, not a CSRF page
@require_safe
def dashboard(request):
    """Render the dashboard listing every service."""
    return render(
        request,
        "joule/dashboard.html",
        {"services": service_states(), "version": platform_core.__version__},
    )
