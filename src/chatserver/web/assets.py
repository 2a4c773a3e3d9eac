"""The browser client's files, read once at start and served from memory.

They live beside the other frontends (``src/frontends/web``) as data: the
server locates the folder through the import system's spec of the
``frontends`` package but never imports it (no code of the frontends runs in
the server, and the layering test keeps it so).
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import attrs

#: What the folder may hold, and how each kind is served.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
}
MAX_ASSET_SIZE = 4 * 1024 * 1024
MAX_ASSETS = 128


@attrs.frozen
class Asset:
    body: bytes
    content_type: str
    etag: str


class AssetsMissing(Exception):
    """The browser client's files are not installed: the web listener is off."""


def client_folder() -> Path:
    """Where the browser client's files are installed."""
    spec = importlib.util.find_spec("frontends")  # finds, does not import
    if spec is None or not spec.submodule_search_locations:
        raise AssetsMissing("the frontends package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "web"


def load_assets(folder: Path) -> dict[str, Asset]:
    """Every servable file of ``folder`` by name; ``index.html`` must be one."""
    assets: dict[str, Asset] = {}
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        raise AssetsMissing(f"cannot read {folder}: {exc.strerror}") from None
    for path in entries:
        content_type = CONTENT_TYPES.get(path.suffix)
        if content_type is None or not path.is_file() or path.name.startswith("."):
            continue
        if len(assets) >= MAX_ASSETS or path.stat().st_size > MAX_ASSET_SIZE:
            raise AssetsMissing(f"{folder} holds more than a browser client")
        body = path.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        assets[path.name] = Asset(body, content_type, etag)
    if "index.html" not in assets:
        raise AssetsMissing(f"{folder} has no index.html")
    return assets
