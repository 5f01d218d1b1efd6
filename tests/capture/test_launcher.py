"""An unmodified PySpark script run through `lineage-audit submit` gets lineage captured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from lineage_audit.capture.choice import CAPTURE_ENV, choose
from lineage_audit.config import PROJECT_ROOT
from tests.capture.spec import read_events

SCRIPT = textwrap.dedent('''
    import sys
    from pyspark.sql import SparkSession, functions as F

    source, target = sys.argv[1], sys.argv[2]
    spark = SparkSession.builder.appName("Plain Script").master("local[1]").getOrCreate()
    spark.range(5).select(F.col("id"), (F.col("id") * 10).alias("tens")).write.mode("overwrite").parquet(source)
    spark.read.parquet(source).where("id > 1").select(F.sha2(F.col("tens").cast("string"), 256).alias("h")) \\
        .write.mode("overwrite").parquet(target)
    spark.stop()
''')


def test_submit_captures_an_unmodified_script(tmp_path):
    script = tmp_path / "plain_script.py"
    script.write_text(SCRIPT)
    events_file = tmp_path / "events.ndjson"
    done = subprocess.run(
        [sys.executable, "-m", "lineage_audit.cli", "submit",
         "--conf", "spark.openlineage.transport.type=file",
         "--conf", f"spark.openlineage.transport.location={events_file}",
         "--conf", "spark.ui.enabled=false",
         str(script), str(tmp_path / "numbers"), str(tmp_path / "hashes")],
        cwd=PROJECT_ROOT, env={**os.environ, "LINEAGE_AUDIT_DATA_DIR": str(tmp_path), CAPTURE_ENV: "builtin"},
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    events = read_events(events_file)
    names = [(e["eventType"], e["job"]["name"]) for e in events]
    assert names[0] == ("START", "plain_script") and names[-1] == ("COMPLETE", "plain_script")
    completes = {e["job"]["name"]: e for e in events if e["eventType"] == "COMPLETE" and e.get("outputs")}
    hashes = completes["plain_script.execute_insert_into_hadoop_fs_relation_command.tmp_path_hashes".replace(
        "tmp_path", tmp_path.name)]
    lineage = hashes["outputs"][0]["facets"]["columnLineage"]["fields"]["h"]["inputFields"]
    assert [(i["name"], i["field"]) for i in lineage] == [(str(tmp_path / "numbers"), "tens")]
    assert lineage[0]["transformations"] == [
        {"type": "DIRECT", "subtype": "TRANSFORMATION", "description": "", "masking": True}]
    assert hashes["inputs"][0]["name"] == str(tmp_path / "numbers")


def test_submit_reports_a_missing_script(tmp_path):
    done = subprocess.run([sys.executable, "-m", "lineage_audit.cli", "submit", str(tmp_path / "nope.py")],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "no such script" in done.stderr


UNNAMED_SCRIPT = textwrap.dedent('''
    import json, sys
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.master("local[1]").config("spark.sql.shuffle.partitions", "3").getOrCreate()
    spark.range(4).write.mode("overwrite").parquet(sys.argv[1])
    conf = spark.sparkContext.getConf()
    with open(sys.argv[2], "w") as seen:
        json.dump({key: conf.get(key, None) for key in
                   ("spark.app.name", "spark.sql.shuffle.partitions", "spark.ui.enabled")}, seen)
    spark.stop()
''')


@pytest.mark.parametrize("capture", ["builtin", "official"])
def test_submit_lets_the_script_win_names_it_after_its_file_and_runs_either_capture(tmp_path, capture):
    if capture == "official" and not choose({CAPTURE_ENV: "official"}).official:
        pytest.skip("the official listener's JAR is not fetched (make jars)")
    script = tmp_path / "unnamed_job.py"
    script.write_text(UNNAMED_SCRIPT)
    events_file = tmp_path / "events.ndjson"
    done = subprocess.run(
        [sys.executable, "-m", "lineage_audit.cli", "submit",
         "--conf", "spark.sql.shuffle.partitions=7",  # the script sets 3: spark-submit lets the script win
         "--conf", "spark.ui.enabled=false",  # the script sets nothing: --conf applies
         "--conf", "spark.openlineage.transport.type=file",
         "--conf", f"spark.openlineage.transport.location={events_file}",
         str(script), str(tmp_path / "numbers"), str(tmp_path / "seen.json")],
        cwd=PROJECT_ROOT, env={**os.environ, "LINEAGE_AUDIT_DATA_DIR": str(tmp_path), CAPTURE_ENV: capture},
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert seen == {"spark.app.name": "unnamed_job.py", "spark.sql.shuffle.partitions": "3",
                    "spark.ui.enabled": "false"}
    events = read_events(events_file)
    producers = {e["producer"].split("/tree/")[0] for e in events}
    assert producers == {"https://github.com/OpenLineage/OpenLineage" if capture == "official"
                         else "https://github.com/data-lineage-audit/data-lineage-audit"}
    application = [e for e in events if "parent" not in e["run"]["facets"]]
    assert [(e["eventType"], e["job"]["name"]) for e in application] == [
        ("START", "unnamed_job_py"), ("COMPLETE", "unnamed_job_py")]
    outputs = {o["name"] for e in events if e["eventType"] == "COMPLETE" for o in e["outputs"]}
    assert outputs == {str(tmp_path / "numbers")}
