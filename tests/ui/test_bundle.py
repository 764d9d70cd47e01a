"""The committed bundle of the workspace is built from the sources beside it, and the
page is served with a policy that lets it load nothing from elsewhere."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from fastapi.testclient import TestClient

from recoupe.api.app import APP, CSP, create_app
from recoupe.config import Settings, make_workspace
from recoupe.security.secret import ensure_secret

UI = Path(__file__).resolve().parents[2] / "ui"


def source_digest() -> str:
    """The digest ``ui/build.mjs`` writes in ``build.json`` (same files, same order)."""
    files: list[Path] = []

    def walk(folder: Path) -> None:
        for path in sorted(folder.iterdir(), key=lambda p: p.name):
            if path.is_dir():
                walk(path)
            else:
                files.append(path)

    walk(UI / "src")
    files += [UI / "index.html", UI / "package-lock.json", UI / "build.mjs"]
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(UI).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def test_the_bundle_is_built_from_the_sources() -> None:
    built = json.loads((APP / "build.json").read_text(encoding="utf-8"))
    assert built["sources"] == source_digest(), "ui/ changed since the bundle: run `make ui`"
    for name in built["outputs"]:
        assert (APP / name).is_file(), name


def test_the_page_is_served_with_its_policy(tmp_path: Path) -> None:
    settings = Settings(workspace=tmp_path / "ws", memory_limit="1GB", threads=1)
    make_workspace(settings.workspace)
    ensure_secret(settings.workspace)
    with TestClient(create_app(settings)) as client:
        page = client.get("/")
        assert page.status_code == 200
        assert page.headers["content-security-policy"] == CSP
        assert "default-src 'self'" in CSP and "connect-src 'self'" in CSP
        assert '<script type="module" src="/app/main.js">' in page.text
        script = client.get("/app/main.js")
        assert script.status_code == 200
        assert "javascript" in script.headers["content-type"]
        assert "https://" not in (APP / "index.html").read_text(encoding="utf-8")
