"""Choosing the capture, the JARs behind it, and forwarding the official listener's journal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lineage_audit import jars
from lineage_audit.capture.choice import CaptureChoice, CaptureChoiceError, choose, spark_properties
from lineage_audit.capture.journal import JournalForwarder, forward_orphans, journal_dir
from lineage_audit.config import PROJECT_ROOT

LISTENER = "io.openlineage.spark.agent.OpenLineageSparkListener"


def _jars(tmp_path: Path) -> jars.Jars:
    names = ("openlineage-spark_2.13-1.53.0.jar", "delta-spark_2.13-4.4.0.jar", "delta-storage-4.4.0.jar")
    for name in names:
        (tmp_path / name).write_bytes(b"PK")
    return jars.Jars(tmp_path, names)


def test_the_environment_chooses_and_auto_follows_the_fetched_jar(tmp_path):
    fetched = _jars(tmp_path)
    assert choose({}, fetched).mode == "official"
    assert choose({"LINEAGE_AUDIT_CAPTURE": "Official "}, fetched).mode == "official"
    assert choose({"LINEAGE_AUDIT_CAPTURE": "builtin"}, fetched) == CaptureChoice("builtin", fetched)
    fallback = choose({"LINEAGE_AUDIT_CAPTURE": "official"}, None)
    assert fallback.mode == "builtin" and "make jars" in fallback.reason
    with pytest.raises(CaptureChoiceError, match="choose one of auto, official, builtin"):
        choose({"LINEAGE_AUDIT_CAPTURE": "both"}, fetched)


def test_official_sessions_get_the_listener_writing_to_the_journal(tmp_path):
    fetched = _jars(tmp_path)
    props = {"spark.jars": ".jars/*.jar", "spark.extraListeners": LISTENER, "spark.master": "local[2]",
             "spark.openlineage.transport.type": "http", "spark.openlineage.transport.url": "http://h:5000",
             "spark.sql.extensions": jars.DELTA_EXTENSION, "spark.sql.catalog.spark_catalog": jars.DELTA_CATALOG}
    out = spark_properties(props, choose({}, fetched), capture=True, journal=tmp_path / "j.ndjson")
    assert out["spark.extraListeners"] == LISTENER
    assert out["spark.jars"].split(",") == [str(p) for p in fetched.paths]
    assert (out["spark.openlineage.transport.type"], out["spark.openlineage.transport.location"]) == (
        "file", str(tmp_path / "j.ndjson"))
    assert "spark.openlineage.transport.url" not in out
    # Parquet tables: no Delta extension, or openlineage-spark drops adaptive writes
    assert "spark.sql.extensions" not in out and "spark.sql.catalog.spark_catalog" not in out
    delta = spark_properties(props, choose({}, fetched), capture=True, journal=None, table_format="delta")
    assert delta["spark.sql.extensions"] == jars.DELTA_EXTENSION
    assert delta["spark.openlineage.transport.url"] == "http://h:5000"


def test_builtin_and_uncaptured_sessions_have_delta_but_never_the_listener(tmp_path):
    fetched = _jars(tmp_path)
    props = {"spark.jars": "/opt/extra.jar,.jars/*.jar", "spark.extraListeners": f"com.example.Mine,{LISTENER}"}
    for choice, capture in ((choose({"LINEAGE_AUDIT_CAPTURE": "builtin"}, fetched), True),
                            (choose({}, fetched), False)):
        out = spark_properties(props, choice, capture=capture, journal=None)
        assert out["spark.extraListeners"] == "com.example.Mine"
        assert out["spark.jars"].split(",") == ["/opt/extra.jar", str(tmp_path / "delta-spark_2.13-4.4.0.jar"),
                                                str(tmp_path / "delta-storage-4.4.0.jar")]
        assert out["spark.sql.extensions"] == jars.DELTA_EXTENSION


def test_without_jars_no_key_names_a_missing_class():
    props = {"spark.jars": ".jars/*.jar", "spark.extraListeners": LISTENER,
             "spark.sql.extensions": jars.DELTA_EXTENSION, "spark.sql.catalog.spark_catalog": jars.DELTA_CATALOG}
    out = spark_properties(props, choose({}, None), capture=True, journal=None)
    assert out == {}


def test_installed_jars_follow_the_manifest_of_the_current_pins(tmp_path):
    fetched = _jars(tmp_path)
    manifest = {"coordinates": jars.coordinates(), "files": list(fetched.files)}
    (tmp_path / jars.MANIFEST).write_text(json.dumps(manifest))
    assert jars.installed(tmp_path) == fetched
    (tmp_path / jars.MANIFEST).write_text(json.dumps({**manifest, "coordinates": ["io.delta:delta-spark_2.13:4.0.0"]}))
    assert jars.installed(tmp_path) is None, "JARs of other versions are fetched again"
    (tmp_path / jars.MANIFEST).write_text(json.dumps(manifest))
    (tmp_path / "delta-storage-4.4.0.jar").unlink()
    assert jars.installed(tmp_path) is None, "a missing file is fetched again"


def test_artifact_names_strip_the_version():
    assert jars._artifact_name("jackson-datatype-jdk8-2.13.5.jar") == "jackson-datatype-jdk8"
    assert jars._artifact_name("delta-spark_2.13-4.4.0.jar") == "delta-spark_2.13"
    assert jars._artifact_name("zstd-jni-1.5.7-3.jar") == "zstd-jni"


def test_a_failed_fetch_is_one_line_and_the_project_runs_without_the_jars(tmp_path):
    with pytest.raises(jars.FetchError, match="Maven could not resolve io.openlineage:openlineage-spark_2.13"):
        jars.fetch(tmp_path / "none", mvn="/bin/false")
    env = {**os.environ, "LINEAGE_AUDIT_JARS_DIR": str(tmp_path / "none"), "PATH": "/nonexistent"}
    done = subprocess.run([sys.executable, "-m", "lineage_audit.cli", "jars"], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    lines = done.stdout.strip().splitlines()
    assert lines[-1].startswith("JARs not fetched: Maven (mvn) is not installed")
    assert "built-in lineage capture and Parquet only" in lines[-1]
    assert done.stderr == ""


class _Recorder:
    def __init__(self):
        self.events: list[dict] = []
        self.closed = False

    def emit_raw(self, payload):
        self.events.append(payload)
        return True

    def replay(self):
        return 0, 0

    def close(self):
        self.closed = True


def test_the_forwarder_sends_complete_lines_once_and_deletes_the_journal(tmp_path):
    journal = tmp_path / "j.ndjson"
    recorder = _Recorder()
    forwarder = JournalForwarder(journal, recorder)
    assert forwarder.pump() == 0, "no journal yet: the listener writes it at application start"
    journal.write_bytes(b'{"eventType": "START"}\n{"eventType": "COMP')
    assert forwarder.pump() == 1
    with journal.open("ab") as handle:
        handle.write(b'LETE"}\n')
    assert forwarder.pump() == 1
    assert forwarder.pump() == 0
    forwarder.close()
    assert [e["eventType"] for e in recorder.events] == ["START", "COMPLETE"]
    assert not journal.exists() and recorder.closed


def test_journals_left_by_a_dead_process_are_forwarded_once(tmp_path):
    spool = tmp_path / "lineage-spool"
    directory = journal_dir(spool)
    directory.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan = directory / f"00000000000000000001-{dead.stdout.strip()}-orders.ndjson"
    orphan.write_text('{"eventType": "START"}\n{"eventType": "COMPLETE"}\n')
    mine = directory / f"00000000000000000002-{os.getpid()}-live.ndjson"
    mine.write_text('{"eventType": "START"}\n')
    recorder = _Recorder()
    assert forward_orphans(spool, recorder) == 2
    assert not orphan.exists() and mine.exists(), "a journal a live process writes is left to it"
    assert forward_orphans(spool, recorder) == 0
