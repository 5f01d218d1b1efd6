"""Reading and writing the tables named in ``conf/tables.yml``.

Raw text inputs (CSV, JSON) are read in PERMISSIVE mode with a ``_corrupt_record`` column, so a
malformed line becomes a row a job can quarantine instead of a crash. Quarantined rows share one
shape, built by :func:`as_rejects`.
"""

from __future__ import annotations

from pathlib import Path

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructField, StringType, StructType

from lineage_audit.config import TableSpec

CORRUPT_RECORD = "_corrupt_record"
REJECT_COLUMNS = ("reject_reason", "raw_record")
GENERATE_COMMAND = "make data"


class MissingTableError(FileNotFoundError):
    """A table a job reads does not exist where conf/tables.yml says it is."""

    def __init__(self, spec: TableSpec):
        if spec.job:
            hint = (f"It is written by the {spec.job} job: run that first "
                    f"(make run JOB={spec.job}, or make run for the whole pipeline)")
        else:
            hint = f"Generate the sample data first: {GENERATE_COMMAND} (or: lineage-audit generate)"
        super().__init__(f"input table '{spec.name}' not found at {spec.path}. {hint}")
        self.spec = spec


def table_exists(spark: SparkSession, path: str) -> bool:
    if "://" not in path:
        return Path(path).exists()
    jvm = spark.sparkContext._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    return hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).exists(hadoop_path)


def _with_corrupt_column(schema: StructType) -> StructType:
    if CORRUPT_RECORD in schema.fieldNames():
        return schema
    return StructType(schema.fields + [StructField(CORRUPT_RECORD, StringType(), True)])


def read_table(spark: SparkSession, spec: TableSpec, schema: StructType | None = None) -> DataFrame:
    """Read one table. CSV and JSON need ``schema``; they gain a ``_corrupt_record`` column."""
    if not table_exists(spark, spec.path):
        raise MissingTableError(spec)
    reader = spark.read.options(**spec.options)
    if spec.format in ("csv", "json"):
        if schema is None:
            raise ValueError(f"reading {spec.format} table '{spec.name}' needs an explicit schema")
        reader = reader.schema(_with_corrupt_column(schema)).options(
            mode="PERMISSIVE", columnNameOfCorruptRecord=CORRUPT_RECORD
        )
        if spec.format == "csv":
            reader = reader.option("header", "true")
    elif schema is not None:
        reader = reader.schema(schema)
    return reader.format(spec.format).load(spec.path)


def write_table(df: DataFrame, spec: TableSpec) -> None:
    """Overwrite ``spec`` with ``df``: a rerun replaces the table, never appends to it."""
    writer = df.write.mode("overwrite").format(spec.format)
    if spec.partition_by:
        writer = writer.partitionBy(*spec.partition_by)
    if spec.format == "delta":
        writer = writer.option("overwriteSchema", "true")
    writer.save(spec.path)


def count_rows(spark: SparkSession, spec: TableSpec) -> int:
    return spark.read.format(spec.format).load(spec.path).count()


def split_corrupt(df: DataFrame) -> tuple[DataFrame, DataFrame]:
    """Split a PERMISSIVE read into (parsed rows, rejects of the malformed lines).

    Spark refuses queries that reference only the corrupt-record column of an uncached file
    scan, so the parsed input is cached first; the cache also spares a second parse.
    """
    df = df.cache()
    malformed = df.where(F.col(CORRUPT_RECORD).isNotNull())
    parsed = df.where(F.col(CORRUPT_RECORD).isNull()).drop(CORRUPT_RECORD)
    return parsed, as_rejects(malformed, "malformed record", F.col(CORRUPT_RECORD))


def as_rejects(df: DataFrame, reason: str | Column, record: Column | None = None) -> DataFrame:
    """Shape quarantined rows: the reason, and the original record as JSON text.

    >>> # as_rejects(orders.where("amount < 0"), "negative amount")
    """
    reason_col = F.lit(reason) if isinstance(reason, str) else reason
    if record is None:
        record = F.to_json(F.struct(*[F.col(c) for c in df.columns if c != CORRUPT_RECORD]))
    return df.select(reason_col.cast("string").alias("reject_reason"), record.alias("raw_record"))
