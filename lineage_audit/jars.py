"""The JVM artifacts the project runs with: the official OpenLineage Spark listener and Delta Lake.

``fetch()`` resolves them once from Maven Central with Maven (``mvn dependency:copy-dependencies``
on a generated POM, dependencies included), keeps the JARs that pyspark does not already ship,
and writes them with a manifest into ``.jars/`` (git-ignored; ``LINEAGE_AUDIT_JARS_DIR`` moves
it). Every later run, ``spark-submit`` included, reads those files: no network after the fetch.

When the fetch cannot happen (no Maven, no network) it says so in one line and the project runs
with the built-in capture and Parquet; nothing is half-configured.

>>> coordinates()
['io.openlineage:openlineage-spark_2.13:1.53.0', 'io.delta:delta-spark_2.13:4.4.0']
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lineage_audit.config import PROJECT_ROOT

# Move these with the Python pins in pyproject.toml (see README, "Versions"): openlineage-spark
# with openlineage-python, delta-spark (the JAR) with delta-spark (the wheel) and with the pyspark
# its POM is built against.
OPENLINEAGE_VERSION = "1.53.0"
DELTA_VERSION = "4.4.0"
SCALA_BINARY = "2.13"
OPENLINEAGE_ARTIFACT = f"io.openlineage:openlineage-spark_{SCALA_BINARY}:{OPENLINEAGE_VERSION}"
DELTA_ARTIFACT = f"io.delta:delta-spark_{SCALA_BINARY}:{DELTA_VERSION}"
LISTENER_CLASS = "io.openlineage.spark.agent.OpenLineageSparkListener"
DELTA_EXTENSION = "io.delta.sql.DeltaSparkSessionExtension"
DELTA_CATALOG = "org.apache.spark.sql.delta.catalog.DeltaCatalog"
JARS_DIR_ENV = "LINEAGE_AUDIT_JARS_DIR"
MANIFEST = "manifest.json"


class FetchError(RuntimeError):
    """The JARs could not be resolved; the message is one line a user can act on."""


def coordinates() -> list[str]:
    return [OPENLINEAGE_ARTIFACT, DELTA_ARTIFACT]


def jars_dir() -> Path:
    return Path(os.environ.get(JARS_DIR_ENV, PROJECT_ROOT / ".jars"))


@dataclass(frozen=True)
class Jars:
    """The fetched JARs, as the manifest lists them."""

    directory: Path
    files: tuple[str, ...]

    @property
    def paths(self) -> list[Path]:
        return [self.directory / name for name in self.files]

    @property
    def listener(self) -> bool:
        return any(name.startswith("openlineage-spark_") for name in self.files)

    @property
    def delta(self) -> bool:
        return any(name.startswith("delta-spark_") for name in self.files)

    def spark_jars(self, delta: bool = True, listener: bool = True) -> str:
        """The value of ``spark.jars``: absolute paths, comma-separated, so executors get them too."""
        chosen = [p for p in self.paths
                  if (listener or not p.name.startswith("openlineage-spark_"))
                  and (delta or p.name.startswith("openlineage-spark_"))]
        return ",".join(str(p) for p in chosen)


def installed(directory: Path | None = None) -> Jars | None:
    """The JARs of the current pins when they are all present, else None."""
    directory = directory or jars_dir()
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if manifest.get("coordinates") != coordinates():
        return None  # fetched for other versions: fetch again
    files = tuple(manifest.get("files", ()))
    if not files or not all((directory / name).is_file() for name in files):
        return None
    return Jars(directory, files)


def _pom(artifacts: list[str]) -> str:
    deps = []
    for coordinate in artifacts:
        group, artifact, version = coordinate.split(":")
        deps.append(f"<dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId>"
                    f"<version>{version}</version></dependency>")
    return ("<project xmlns=\"http://maven.apache.org/POM/4.0.0\"><modelVersion>4.0.0</modelVersion>"
            "<groupId>local.data-lineage-audit</groupId><artifactId>spark-jars</artifactId><version>1</version>"
            f"<dependencies>{''.join(deps)}</dependencies></project>\n")


def _spark_ships() -> set[str]:
    """Artifact names (without version) of the JARs inside pyspark: those are never added twice."""
    import pyspark

    shipped = Path(pyspark.__file__).parent / "jars"
    return {_artifact_name(p.name) for p in shipped.glob("*.jar")}


def _artifact_name(file_name: str) -> str:
    """``jackson-core-2.13.5.jar`` -> ``jackson-core``: the name up to the first dash before a digit."""
    stem = file_name[:-4] if file_name.endswith(".jar") else file_name
    parts = stem.split("-")
    for i, part in enumerate(parts[1:], start=1):
        if part[:1].isdigit():
            return "-".join(parts[:i])
    return stem


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(directory: Path | None = None, mvn: str | None = None, timeout: float = 900) -> Jars:
    """Resolve the pinned JARs into ``directory`` unless they are there already; raises FetchError."""
    directory = directory or jars_dir()
    present = installed(directory)
    if present is not None:
        return present
    mvn = mvn or shutil.which("mvn")
    if not mvn:
        raise FetchError("Maven (mvn) is not installed, so the OpenLineage and Delta JARs cannot be fetched")
    with tempfile.TemporaryDirectory(prefix="lineage-audit-jars-") as work:
        pom = Path(work) / "pom.xml"
        pom.write_text(_pom(coordinates()))
        resolved = Path(work) / "resolved"
        try:
            done = subprocess.run(
                [mvn, "-q", "-B", "-f", str(pom), "dependency:copy-dependencies", "-DincludeScope=runtime",
                 f"-DoutputDirectory={resolved}"],
                capture_output=True, text=True, timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise FetchError(f"Maven did not finish resolving the JARs within {timeout:g} s") from None
        if done.returncode != 0:
            raise FetchError(f"Maven could not resolve {', '.join(coordinates())} from Maven Central: "
                             f"{_maven_reason(done.stdout + done.stderr)}")
        ships = _spark_ships()
        keep = sorted(p for p in resolved.glob("*.jar") if _artifact_name(p.name) not in ships)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.jar"):
            stale.unlink()
        for jar in keep:
            shutil.copy2(jar, directory / jar.name)
    manifest = {
        "coordinates": coordinates(),
        "files": [p.name for p in keep],
        "sha256": {p.name: _sha256(directory / p.name) for p in keep},
        "note": "written by `lineage-audit jars`; JARs pyspark already ships are left out",
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return Jars(directory, tuple(p.name for p in keep))


def _maven_reason(output: str) -> str:
    """The first ERROR line Maven printed, without its decoration."""
    for line in output.splitlines():
        if "[ERROR]" in line:
            text = line.split("[ERROR]", 1)[1].strip()
            if text:
                return text[:300]
    return (output.strip().splitlines() or ["no output"])[-1][:300]
