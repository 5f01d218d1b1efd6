"""Where a Spark application's code is: the driver script, and the git commit it runs from.

Sent as the ``sourceCodeLocation`` job facet, so that a run says which code wrote a table (the
lineage service shows it as the job's location). Outside a git work tree the facet names the file
alone (``type: file``); a shell session, with no script, sends none.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from openlineage.client.facet_v2 import source_code_location_job

GIT_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class SourceLocation:
    """Where the driver's code is: its file, and the git commit it was run from when there is one."""

    url: str
    repo_url: str | None = None
    path: str | None = None
    version: str | None = None
    branch: str | None = None

    def facet(self) -> source_code_location_job.SourceCodeLocationJobFacet:
        return source_code_location_job.SourceCodeLocationJobFacet(
            type="git" if self.version else "file", url=self.url, repoUrl=self.repo_url, path=self.path,
            version=self.version, branch=self.branch)


def driver_script() -> Path | None:
    """The script the driver runs (``python job.py``, ``spark-submit job.py``), if any."""
    main = getattr(sys.modules.get("__main__"), "__file__", None)
    if not main:
        return None
    path = Path(main).resolve()
    return path if path.is_file() else None


def _git(cwd: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=GIT_TIMEOUT_SECONDS)
    except (OSError, subprocess.SubprocessError):  # no git, or it hangs: the file alone will do
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def locate(script: Path | None = None) -> SourceLocation | None:
    """The location of ``script`` (default: the driver script), with git's commit, path and remote."""
    script = script or driver_script()
    if script is None:
        return None
    root = _git(script.parent, "rev-parse", "--show-toplevel")
    version = _git(script.parent, "rev-parse", "HEAD") if root else None
    if not root or not version:
        return SourceLocation(url=script.as_uri())
    branch = _git(script.parent, "rev-parse", "--abbrev-ref", "HEAD")
    return SourceLocation(url=script.as_uri(), repo_url=_git(script.parent, "remote", "get-url", "origin"),
                          path=script.relative_to(Path(root).resolve()).as_posix(), version=version,
                          branch=branch if branch != "HEAD" else None)
