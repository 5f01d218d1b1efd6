"""The thin frame around each job's ``main``: session, table I/O, quarantine and summary.

A job's main reads, transforms and writes through a :class:`JobRun`::

    def main() -> int:
        with JobRun("orders") as run:
            orders = run.read("raw_orders", RAW_ORDERS_SCHEMA)
            run.write("order_summary", orders.transform(summarise))
        return run.exit_code

On leaving the block it writes every quarantine table (empty ones too, so a rerun never keeps
stale rejects), prints rows in, out and rejected with the elapsed seconds, and stops Spark.
A missing input ends the job with exit code 2 and one line naming the table and the command
that generates it.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from functools import reduce
from pathlib import Path

from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from lineage_audit.capture.pause import capture_paused
from lineage_audit.config import Catalog, TableSpec, load_catalog
from lineage_audit.spark import build_session
from lineage_audit.tables import MissingTableError, read_table, write_table


MODEL_CARD = "model_card"  # the folder in a saved model that holds its card (see JobRun.save_model)


@dataclass
class JobSummary:
    job: str
    rows_in: dict[str, int] = field(default_factory=dict)
    rows_out: dict[str, int] = field(default_factory=dict)
    rows_rejected: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    status: str = "running"
    error: str | None = None

    def render(self) -> str:
        lines = [f"== {self.job}: {self.status} in {self.seconds:.1f} s =="]
        if self.error:
            lines.append(f"  error    {self.error}")
        for label, counts in (("read", self.rows_in), ("wrote", self.rows_out), ("rejected", self.rows_rejected)):
            for table, rows in counts.items():
                lines.append(f"  {label:<8} {table:<26} {rows:>12,} rows")
        return "\n".join(lines)


class JobRun:
    """Context manager that runs one job; see the module docstring."""

    def __init__(self, job: str, spark: SparkSession | None = None, catalog: Catalog | None = None):
        self.job = job
        self.catalog = catalog or load_catalog()
        self._own_session = spark is None
        self.spark = spark
        self.summary = JobSummary(job)
        self._inputs: dict[str, DataFrame] = {}
        self._rejects: dict[str, list[DataFrame]] = {}
        self._written_schemas: dict[str, StructType] = {}
        self._started = 0.0
        self.exit_code = 0

    def __enter__(self) -> "JobRun":
        self._started = time.perf_counter()
        if self.spark is None:
            self.spark = build_session(self.job)
        return self

    def read(self, table: str, schema: StructType | None = None) -> DataFrame:
        """A generated input, or an output of an upstream job (conf/tables.yml names its ``job``)."""
        df = read_table(self.spark, self.catalog.table(table), schema)
        self._inputs[table] = df
        return df

    def write(self, table: str, df: DataFrame) -> int:
        """Overwrite output ``table`` with ``df``; returns the rows written.

        The rows are counted by an observation on the write itself, not by reading the table
        back: a partitioned table can be thousands of files.
        """
        written = Observation(f"rows_written_{table}")
        write_table(df.observe(written, F.count(F.lit(1)).alias("rows")), self.catalog.output(table))
        rows = int(written.get["rows"])
        self.summary.rows_out[table] = rows
        self._written_schemas[table] = df.schema
        return rows

    def read_back(self, table: str) -> DataFrame:
        """Output ``table`` as this job published it (not counted as an input of the run).

        Read with the schema it was written with: Spark then has no footers to read, a Spark job the
        official lineage listener sometimes names by its job number, a new job name on every run.
        """
        spec = self.catalog.output(table)
        schema = self._written_schemas.get(table) if spec.format == "parquet" else None  # Delta keeps its own
        return read_table(self.spark, spec, schema)

    def record_rows(self, table: str, rows: int) -> None:
        """Count rows an output received by other means than ``write`` (a Delta MERGE, say)."""
        self.summary.rows_out[table] = rows

    def save_model(self, table: str, model, card: DataFrame) -> int:
        """Publish a Spark ML model as output ``table``: one dataset, written by one captured write.

        ``card``, a table that says what was trained on what, is written into ``<table>/model_card`` and
        captured; the removePath pattern in spark-defaults.conf names that write's dataset after the
        model folder, so the lineage shows one dataset ``table`` with the card's schema and column
        lineage. The model's own files (metadata and data of every stage, a dozen small writes into
        folders named after the stages) are saved beside it with lineage capture paused, then moved
        into the folder. The card is written first, while capture runs as for every other write.
        Returns the card's rows.
        """
        spec = self.catalog.output(table)
        jvm, conf = self.spark.sparkContext._jvm, self.spark.sparkContext._jsc.hadoopConfiguration()
        hadoop_path = jvm.org.apache.hadoop.fs.Path
        target, staging = hadoop_path(spec.path), hadoop_path(spec.path.rstrip("/") + ".saving")
        fs = target.getFileSystem(conf)
        fs.delete(target, True)  # a rerun replaces the model, card and files alike
        written = Observation(f"rows_written_{table}")
        card_spec = TableSpec(table, f"{spec.path.rstrip('/')}/{MODEL_CARD}", "parquet")
        write_table(card.observe(written, F.count(F.lit(1)).alias("rows")), card_spec)
        with capture_paused(self.spark):
            model.write().overwrite().save(str(staging))
        for part in fs.listStatus(staging):
            fs.rename(part.getPath(), hadoop_path(target, part.getPath().getName()))
        fs.delete(staging, True)
        rows = int(written.get["rows"])
        self.summary.rows_out[table] = rows
        return rows

    def load_model(self, table: str, model_class):
        """Load the model saved as output ``table`` (``PipelineModel``, say), capture paused as for the save."""
        with capture_paused(self.spark):
            return model_class.load(self.catalog.output(table).path)

    def reject(self, source_table: str, *rejects: DataFrame) -> None:
        """Quarantine rows of ``source_table``: each frame as built by ``tables.as_rejects``."""
        self._rejects.setdefault(source_table, []).extend(rejects)

    def has_output(self, table: str) -> bool:
        return table in self.catalog.outputs

    def _write_rejects(self) -> None:
        for source, frames in self._rejects.items():
            combined = reduce(DataFrame.unionByName, frames)
            combined = combined.select(
                F.lit(source).alias("source_table"),
                "reject_reason",
                "raw_record",
                F.lit(self.job).alias("rejected_by_job"),
            )
            written = Observation(f"rows_rejected_{source}")
            write_table(combined.observe(written, F.count(F.lit(1)).alias("rows")), self.catalog.rejects(source))
            self.summary.rows_rejected[source] = int(written.get["rows"])

    def _count_inputs(self) -> None:
        for table, df in self._inputs.items():
            self.summary.rows_in[table] = df.count()

    def _save_summary(self) -> None:
        directory = Path(self.catalog.runs_dir)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"{self.job}.json").write_text(json.dumps(self.summary.__dict__, indent=2))

    def __exit__(self, exc_type, exc, tb) -> bool:
        try:
            if exc is None:
                self._write_rejects()
                self._count_inputs()
                self.summary.status = "ok"
            else:
                self.summary.status = "failed"
                self.summary.error = str(exc).splitlines()[0] if str(exc) else exc_type.__name__
                self.exit_code = 2 if isinstance(exc, MissingTableError) else 1
        finally:
            self.summary.seconds = time.perf_counter() - self._started
            print(self.summary.render(), file=sys.stdout if exc is None else sys.stderr, flush=True)
            self._save_summary()
            if self._own_session and self.spark is not None:
                self.spark.stop()
        # A missing table is a user error with a clear message: no traceback for it.
        return isinstance(exc, MissingTableError)
