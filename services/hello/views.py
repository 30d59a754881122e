"""The hello service: a DRF view, a view with a path argument, a mesh call."""

from django.urls import reverse
from rest_framework.response import Response
from rest_framework.views import APIView

from platform_core import mesh


class HelloView(APIView):
    """Say hello, and tell the caller how to be greeted by name."""

    def get(self, request):
        return Response(
            {
                "message": "Hello from Joule",
                "greet": reverse("hello:greet", args=["world"]),
                "requestId": request.id,
            }
        )


class GreetView(APIView):
    """Greet ``name``."""

    def get(self, request, name):
        return Response({"message": f"Hello, {name}!"})


class LegacyView(APIView):
    """Ask the legacy Flask service through the mesh, in-process.

    The caller's Authorization, cookies and request id go along.
    """

    def get(self, request):
        with mesh.client() as http:
            answer = http.get("http://legacy.internal/hello")
        return Response({"legacy": answer.json(), "status": answer.status_code})
