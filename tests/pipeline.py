"""Running the project's CLI the way a user does, in a subprocess with its own data directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lineage_audit.config import PROJECT_ROOT

PIPELINE_SCALE = "0.02"


def run_cli(args: list[str], data_dir: Path, timeout: int = 900,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "LINEAGE_AUDIT_DATA_DIR": str(data_dir), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "lineage_audit.cli", *args],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )
