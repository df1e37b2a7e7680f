"""The planner page: ``GET /`` and ``GET /planner`` serve ``service/web/index.html``;
``GET /planner/assets/{name}`` serves the page's scripts and style sheet.

Every asset ships inside the package (no CDN, no build step). The files are read once,
at import, into memory with a gzip copy and an ETag, so a page load costs no disk I/O,
and only names found in ``service/web`` at import can be served (no path is ever
joined from a request).
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Response, status
from fastapi.responses import HTMLResponse

from flopwise.fitting.hardware import GPUS

__all__ = ["ASSETS", "router"]

WEB = Path(__file__).resolve().parents[2] / "web"
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@dataclass(frozen=True, kw_only=True)
class Asset:
    """One shipped file, held in memory."""

    body: bytes
    gzipped: bytes
    media_type: str
    etag: str


def _load(path: Path) -> Asset:
    body = path.read_bytes()
    return Asset(
        body=body,
        gzipped=gzip.compress(body, mtime=0),
        media_type=_TYPES[path.suffix],
        etag='"' + hashlib.sha256(body).hexdigest()[:20] + '"',
    )


ASSETS: dict[str, Asset] = {
    p.name: _load(p) for p in sorted(WEB.iterdir()) if p.is_file() and p.suffix in _TYPES
}

router = APIRouter(tags=["planner"])


def _send(asset: Asset, accept_encoding: str | None, if_none_match: str | None) -> Response:
    headers = {
        "ETag": asset.etag,
        "Cache-Control": "no-cache",
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    if asset.media_type.startswith("text/html"):
        headers["Content-Security-Policy"] = _CSP
    if if_none_match == asset.etag:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    body = asset.body
    if "gzip" in (accept_encoding or "") and len(asset.gzipped) < len(body):
        body, headers["Content-Encoding"] = asset.gzipped, "gzip"
    return Response(body, media_type=asset.media_type, headers=headers)


AcceptEncoding = Annotated[str | None, Header()]
IfNoneMatch = Annotated[str | None, Header()]


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
@router.get("/planner", response_class=HTMLResponse, include_in_schema=False)
async def planner_page(
    accept_encoding: AcceptEncoding = None, if_none_match: IfNoneMatch = None
) -> Response:
    """The planner page (plan, compare laws, frontier, my data)."""
    return _send(ASSETS["index.html"], accept_encoding, if_none_match)


@router.get("/planner/assets/{name}", include_in_schema=False)
async def planner_asset(
    name: str, accept_encoding: AcceptEncoding = None, if_none_match: IfNoneMatch = None
) -> Response:
    """One of the page's shipped files, by name."""
    asset = ASSETS.get(name)
    if asset is None or name == "index.html":
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no asset {name!r}")
    return _send(asset, accept_encoding, if_none_match)


@router.get("/planner/config.json", include_in_schema=False)
async def planner_config() -> dict[str, object]:
    """What the page's form offers that no other endpoint lists: the known GPUs."""
    gpus = [
        {"name": g.name, "peak_bf16_flops": g.peak_bf16_flops, "memory_gib": g.memory_gib}
        for g in GPUS.values()
    ]
    return {"gpus": gpus}
