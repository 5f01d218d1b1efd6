"""The ``sourceCodeLocation`` facet: which script, at which commit, wrote a table."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from lineage_audit.capture.source_location import locate


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path) -> Path:
    root = tmp_path / "repo"
    (root / "jobs").mkdir(parents=True)
    (root / "jobs" / "daily.py").write_text("print('hello')\n")
    _git(root, "init", "-q", "-b", "release")
    _git(root, "remote", "add", "origin", "https://example.com/team/pipelines.git")
    _git(root, "add", ".")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "first")
    return root


def test_a_script_in_a_git_work_tree_is_located_by_commit_path_and_remote(repo):
    script = repo / "jobs" / "daily.py"
    facet = locate(script).facet()
    assert facet.type == "git"
    assert facet.url == script.resolve().as_uri()
    assert facet.version == _git(repo, "rev-parse", "HEAD")
    assert (facet.path, facet.repoUrl, facet.branch) == ("jobs/daily.py", "https://example.com/team/pipelines.git",
                                                         "release")


def test_a_script_outside_git_is_located_by_its_file_alone(tmp_path):
    script = tmp_path / "adhoc.py"
    script.write_text("print('hello')\n")
    facet = locate(script).facet()
    assert (facet.type, facet.url, facet.version, facet.path) == ("file", script.resolve().as_uri(), None, None)


def test_no_script_no_location(monkeypatch):
    monkeypatch.setattr("lineage_audit.capture.source_location.driver_script", lambda: None)
    assert locate() is None
