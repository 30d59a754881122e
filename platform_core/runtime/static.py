"""Files of a built frontend served from disk, before the proxy asks Node.

A frontend may name folders of its build whose files the platform serves
itself (in production only: a dev server builds them on request)::

    [[frontend.static]]
    path = "/_next/static/"     # under the service prefix
    folder = ".next/static"     # under the app's folder
    immutable = true            # hashed names: cached for a year

A path with no file there goes to the Node process as before. Paths are
checked by the proxy's own rules first (``forwarding.target_path``), and a
file must lie inside its folder once links are resolved.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from urllib.parse import unquote

from platform_core.exceptions import APIError
from platform_core.gateway.proxy.forwarding import target_path

IMMUTABLE = b"public, max-age=31536000, immutable"
REVALIDATE = b"public, max-age=0, must-revalidate"
# Files up to this size are read on the loop; larger ones in a thread.
SMALL_FILE = 256 * 1024


@dataclass(frozen=True)
class StaticFolder:
    """One ``[[frontend.static]]`` entry, resolved against the app's folder."""

    path: str
    folder: Path
    immutable: bool = False

    def find(self, path: str) -> Path | None:
        """Return the file serving ``path`` (below the prefix), or None."""
        if not path.startswith(self.path):
            return None
        relative = unquote(path[len(self.path) :])
        if not relative or relative.endswith("/"):
            return None
        candidate = (self.folder / relative).resolve()
        if not candidate.is_relative_to(self.folder) or not candidate.is_file():
            return None
        return candidate


class StaticFiles:
    """Serve a frontend's static folders; ``serve`` says whether it answered."""

    def __init__(self, folders: list[StaticFolder]) -> None:
        self.folders = folders

    def find(self, scope: dict) -> tuple[Path, bool] | None:
        """Return (file, immutable) for a GET or HEAD of a static file."""
        if scope["method"] not in ("GET", "HEAD") or not self.folders:
            return None
        try:
            path = target_path(scope)
        except APIError:
            return None  # the proxy answers the refusal
        for folder in self.folders:
            found = folder.find(path)
            if found is not None:
                return found, folder.immutable
        return None

    async def serve(self, scope: dict, send: Callable) -> bool:
        """Answer ``scope`` from disk; False when no file serves it."""
        found = self.find(scope)
        if found is None:
            return False
        file, immutable = found
        stat = file.stat()
        if stat.st_size <= SMALL_FILE:
            body = file.read_bytes()
        else:
            body = await asyncio.get_running_loop().run_in_executor(
                None, file.read_bytes
            )
        content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type in _TEXT:
            content_type += "; charset=utf-8"
        headers = [
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", IMMUTABLE if immutable else REVALIDATE),
            (b"last-modified", formatdate(stat.st_mtime, usegmt=True).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send(
            {
                "type": "http.response.body",
                "body": b"" if scope["method"] == "HEAD" else body,
            }
        )
        return True


_TEXT = {"application/javascript", "application/json", "image/svg+xml"}


def static_files(entries, app_dir: Path, mode: str) -> StaticFiles:
    """Return the static folders of a frontend (none in development mode)."""
    if mode == "development":
        return StaticFiles([])
    root = Path(os.path.realpath(app_dir))
    return StaticFiles(
        [
            StaticFolder(path, Path(os.path.realpath(root / folder)), immutable)
            for path, folder, immutable in entries
        ]
    )
