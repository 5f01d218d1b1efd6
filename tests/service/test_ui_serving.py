"""The web UI at ``/``: its HTML with a Content-Security-Policy, its assets, and a clear 503 before a build.

The app is pointed at a small fake build (``index.html`` and one asset) so that these tests do not need
Node; the last test reads the real build when there is one (``make ui``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lineage_audit.service.app import create_app
from lineage_audit.service.settings import ServiceSettings
from lineage_audit.service.ui import UI_DIR

INDEX = ('<!doctype html><html><head><script type="module" src="./assets/index-abc123.js"></script></head>'
         '<body><div id="root"></div></body></html>')
SCRIPT = "console.log('lineage audit');\n"


@pytest.fixture
def ui_dir(tmp_path) -> Path:
    """A build as vite writes it: index.html, favicon.svg and hashed assets."""
    build = tmp_path / "dist"
    (build / "assets").mkdir(parents=True)
    (build / "index.html").write_text(INDEX)
    (build / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (build / "assets" / "index-abc123.js").write_text(SCRIPT)
    (tmp_path / "secret.txt").write_text("not a UI file")
    return build


def client(tmp_path: Path, ui_dir: Path, **settings) -> TestClient:
    app = create_app(ServiceSettings(database_url=f"sqlite:///{tmp_path / 'lineage.db'}", **settings), ui_dir=ui_dir)
    return TestClient(app)


def test_root_serves_the_ui_html_with_a_content_security_policy(tmp_path, ui_dir):
    with client(tmp_path, ui_dir) as service:
        response = service.get("/")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert response.text == INDEX
        policy = dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))
        assert policy["default-src"] == "'self'"
        assert policy["script-src"] == "'self'"  # no inline script, no CDN
        assert policy["style-src"] == "'self'"
        assert "unsafe-inline" not in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-cache"  # a new build shows at the next reload
        # the page's query (?poll=500 for the tests) changes nothing on the server
        assert service.get("/?poll=500").text == INDEX


def test_assets_are_served_under_their_path_and_cached_for_good(tmp_path, ui_dir):
    with client(tmp_path, ui_dir) as service:
        response = service.get("/assets/index-abc123.js")
        assert response.status_code == 200
        assert response.text == SCRIPT
        assert "javascript" in response.headers["content-type"]
        assert "immutable" in response.headers["cache-control"]
        assert service.get("/favicon.svg").status_code == 200
        assert service.get("/assets/index-000000.js").status_code == 404


@pytest.mark.parametrize("path", ["/assets/..%2Fsecret.txt", "/assets/%2e%2e/%2e%2e/secret.txt", "/assets/"])
def test_nothing_outside_the_build_is_served(tmp_path, ui_dir, path):
    with client(tmp_path, ui_dir) as service:
        response = service.get(path)
        assert response.status_code == 404
        assert "not a UI file" not in response.text


def test_without_a_build_root_says_to_run_make_ui_and_the_api_still_works(tmp_path):
    with client(tmp_path, tmp_path / "no-build-here") as service:
        response = service.get("/")
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("text/plain")
        assert "make ui" in response.text
        assert service.get("/api/v1/health").status_code == 200
        assert service.get("/api/v1/docs").status_code == 200
        assert service.get("/api/v1/namespaces").json() == {"namespaces": [], "totalCount": 0}


def test_with_a_read_key_the_ui_loads_and_its_api_calls_need_the_key(tmp_path, ui_dir):
    """The UI itself holds no data: it loads, then asks for the key when the API answers 401."""
    with client(tmp_path, ui_dir, read_api_key="read-key-71") as service:
        assert service.get("/").status_code == 200
        assert service.get("/assets/index-abc123.js").status_code == 200
        assert service.get("/api/v1/namespaces").status_code == 401
        assert service.get("/api/v1/namespaces", headers={"Authorization": "Bearer read-key-71"}).status_code == 200


def test_the_ui_is_not_in_the_api_document(tmp_path, ui_dir):
    with client(tmp_path, ui_dir) as service:
        paths = service.get("/api/v1/openapi.json").json()["paths"]
        assert not [path for path in paths if not path.startswith(("/api/v1/", "/api/v2beta/"))]


def test_the_real_build_loads_only_its_own_files(tmp_path):
    """``make ui``'s output works under the policy: scripts and styles are files, none inline, no CDN."""
    index = UI_DIR / "index.html"
    if not index.is_file():
        pytest.skip("the web UI is not built (make ui)")
    html = index.read_text()
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", html, re.S)
    assert scripts and all(not body.strip() for body in scripts), "inline script"
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "a file from another origin"
    with client(tmp_path, UI_DIR) as service:
        for asset in re.findall(r"(?:src|href)=\"\./(assets/[^\"]+)\"", html):
            assert service.get(f"/{asset}").status_code == 200, asset
