"""The planner page's route: what ``GET /`` serves, over a live app (no browser; the
browser flows are in ``tests/e2e/test_planner_browser.py``)."""

from __future__ import annotations

import gzip
import re
import tomllib
from fnmatch import fnmatch

import httpx
import pytest

from flopwise.fitting.hardware import GPUS
from flopwise.service.api.routes.planner import ASSETS, WEB
from tests.shared_data import REPO

IMPORTS = re.compile(r"""(?:from|import)\s*["']\./([\w.-]+)["']""")
ASSET_URLS = re.compile(r"""(?:src|href)="/planner/assets/([\w.-]+)\"""")
SVG_NAMESPACE = "http://www.w3.org/2000/svg"


@pytest.mark.parametrize("path", ["/", "/planner", "/?view=compare&flops=1e21"])
def test_the_page_is_served_with_a_strict_policy(query_client: httpx.Client, path: str) -> None:
    r = query_client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    policy = r.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy
    assert 'type="module" src="/planner/assets/app.js"' in r.text


def test_every_referenced_asset_is_shipped_and_none_is_remote(query_client: httpx.Client) -> None:
    html = query_client.get("/").text
    wanted = set(ASSET_URLS.findall(html))
    seen: set[str] = set()
    while wanted - seen:
        name = (wanted - seen).pop()
        seen.add(name)
        r = query_client.get(f"/planner/assets/{name}")
        assert r.status_code == 200, name
        if name.endswith(".js"):
            assert r.headers["content-type"].startswith("text/javascript")
            wanted |= set(IMPORTS.findall(r.text))
        assert not re.search(r"https?://", r.text.replace(SVG_NAMESPACE, "")), name
    assert seen == {n for n in ASSETS if n != "index.html"}


def test_assets_are_compressed_and_revalidated(query_client: httpx.Client) -> None:
    r = query_client.get("/planner/assets/chart.js", headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    assert r.content == (WEB / "chart.js").read_bytes()  # httpx decompresses
    again = query_client.get(
        "/planner/assets/chart.js", headers={"If-None-Match": r.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""


@pytest.mark.parametrize("name", ["nothing.js", "index.html", "..%2Fapi%2Froutes%2Fplanner.py"])
def test_only_shipped_assets_are_served(query_client: httpx.Client, name: str) -> None:
    assert query_client.get(f"/planner/assets/{name}").status_code == 404


def test_the_config_lists_the_known_gpus(query_client: httpx.Client) -> None:
    gpus = query_client.get("/planner/config.json").json()["gpus"]
    assert [g["name"] for g in gpus] == list(GPUS)


def test_the_package_data_ships_every_asset() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["flopwise.service"]
    for name in ASSETS:
        assert any(fnmatch(f"web/{name}", g) for g in globs), name


def test_the_page_ships_small() -> None:
    """README's figure: 12 files, about 70 KB, about 25 KB as a browser fetches them
    (each gzipped); held under 100 KB and 40 KB."""
    files = sorted(WEB.iterdir())
    raw = sum(len(f.read_bytes()) for f in files)
    sent = sum(len(gzip.compress(f.read_bytes(), mtime=0)) for f in files)
    print(f"planner: {len(files)} files, {raw} bytes, {sent} gzipped")
    assert raw < 100_000 and sent < 40_000
