"""The query shapes of the differential suite, run as writes in one Spark application per capture.

    LINEAGE_AUDIT_CAPTURE=builtin LINEAGE_AUDIT_DATA_DIR=<dir> python -m tests.differential.shapes_app <dir> shapes
    LINEAGE_AUDIT_CAPTURE=official LINEAGE_AUDIT_TABLE_FORMAT=delta ... python -m tests.differential.shapes_app <dir> delta

``shapes`` writes the three small tables of tests/capture/test_column_lineage.py to
``<dir>/tables``, then each of its query shapes (``CASES``) to ``<dir>/out/query/<case>``, then the
shapes beyond the eight jobs (Hive tables, DDL, an RDD, a date-partition folder, a table joined
twice, saveAsTable, a datasource CTAS; files under ``<dir>/out/extra``, tables in
``<dir>/warehouse``) in a session with Hive support whose metastore lives in ``<dir>``. ``delta`` writes a
Delta table and MERGEs into it: a separate application because the official listener must see the
Delta extension for Delta and must not see it for Parquet (see lineage_audit/capture/choice.py).

The capture (chosen by LINEAGE_AUDIT_CAPTURE) spools its events to ``<dir>/lineage-spool``. A shape
that raises is printed and skipped: the comparison then shows its events missing on both sides.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Callable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lineage_audit.spark import build_session
from tests.capture.test_column_lineage import CASES, write_tables

# Shapes of CASES not run as writes, and why.
NOT_WRITTEN = {
    "python_udf_and_pandas_udf": "executing the Arrow UDF hangs here: the Python worker starts without pyarrow",
}
SHAPES_APP = "differential-shapes"
DELTA_APP = "differential-delta"
DATE_FOLDER = "20251030"


def _attempt(name: str, action: Callable[[], object]) -> bool:
    try:
        action()
        return True
    except Exception:  # one broken shape must not hide the others' events
        print(f"shape {name} failed:\n{traceback.format_exc()}", file=sys.stderr)
        return False


def run_query_shapes(spark: SparkSession, frames: dict[str, DataFrame], root: Path) -> list[str]:
    """Each CASE of test_column_lineage.py written to ``root/out/<case>``; the names that ran."""
    done = []
    for name, build, _fields, _dataset in CASES:
        if name in NOT_WRITTEN:
            continue
        target = str(root / "out" / "query" / name)
        if _attempt(name, lambda: build(spark, frames).write.mode("overwrite").parquet(target)):
            done.append(name)
    return done


def _load_data_file(root: Path) -> Path:
    lines = root / "load" / "lines.txt"
    lines.parent.mkdir(parents=True, exist_ok=True)
    lines.write_text("first line\nsecond line\n")
    return lines


def extra_shapes(spark: SparkSession, frames: dict[str, DataFrame], root: Path) -> dict[str, Callable[[], object]]:
    """Shapes beyond the eight jobs, by name, in the order they run (later ones use earlier tables)."""
    orders, customers, out = frames["orders"], frames["customers"], root / "out" / "extra"
    sql = spark.sql
    return {
        "hive_create_table": lambda: sql("CREATE TABLE hive_orders (order_id INT, amount DOUBLE) USING hive"),
        "hive_insert_into": lambda: sql("INSERT INTO hive_orders SELECT order_id, amount FROM orders"),
        "hive_ctas": lambda: sql("CREATE TABLE hive_big USING hive AS SELECT order_id, amount * 2 AS doubled "
                                 "FROM orders WHERE amount > 10"),
        "hive_load_data": lambda: (sql("CREATE TABLE hive_lines (line STRING) USING hive"),
                                   sql(f"LOAD DATA LOCAL INPATH '{_load_data_file(root)}' INTO TABLE hive_lines")),
        "ddl_create_table": lambda: sql("CREATE TABLE ddl_people (id INT, name STRING) USING parquet"),
        "ddl_alter_table": lambda: sql("ALTER TABLE ddl_people ADD COLUMNS (city STRING)"),
        "ddl_truncate_table": lambda: (sql("INSERT INTO ddl_people VALUES (1, 'Ann', 'Paris')"),
                                       sql("TRUNCATE TABLE ddl_people")),
        "ddl_drop_table": lambda: sql("DROP TABLE ddl_people"),
        "rdd_map_to_df": lambda: spark.read.parquet(str(root / "tables" / "orders")).rdd
        .map(lambda row: (row.order_id, row.amount * 2)).toDF(["order_id", "doubled"])
        .write.mode("overwrite").parquet(str(out / "rdd_map")),
        "date_partition_folder": lambda: orders.select("order_id", "amount").write.mode("overwrite")
        .parquet(str(out / "daily" / DATE_FOLDER)),
        "same_table_joined_twice": lambda: orders.alias("o")
        .join(customers.alias("buyer"), F.col("o.customer_id") == F.col("buyer.customer_id"), "inner")
        .join(customers.alias("peer"), F.col("o.order_id") + 9 == F.col("peer.customer_id"), "left")
        .select("o.order_id", F.col("buyer.name").alias("buyer"), F.col("peer.city").alias("peer_city"))
        .write.mode("overwrite").parquet(str(out / "joined_twice")),
        "save_as_table": lambda: orders.groupBy("status").agg(F.sum("amount").alias("total"))
        .write.mode("overwrite").saveAsTable("status_totals"),
        "datasource_ctas": lambda: sql("CREATE TABLE paid_orders USING parquet AS "
                                       "SELECT order_id, amount FROM orders WHERE status = 'paid'"),
    }


def delta_shapes(spark: SparkSession, root: Path) -> dict[str, Callable[[], object]]:
    """A Delta write, then a MERGE into it (by path)."""
    from delta.tables import DeltaTable

    orders = spark.read.parquet(str(root / "tables" / "orders"))
    target = str(root / "out" / "delta" / "orders")

    def merge():
        updates = orders.select("order_id", "customer_id", (F.col("amount") + 1).alias("amount"), "status",
                                "order_date")
        (DeltaTable.forPath(spark, target).alias("t").merge(updates.alias("s"), "t.order_id = s.order_id")
         .whenMatchedUpdateAll().whenNotMatchedInsertAll().execute())

    return {
        "delta_write": lambda: orders.write.format("delta").mode("overwrite").save(target),
        "delta_merge": merge,
    }


def _session(app: str, root: Path, hive: bool) -> SparkSession:
    conf = {"spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2",
            "spark.sql.warehouse.dir": str(root / "warehouse")}
    if hive:
        conf["spark.sql.catalogImplementation"] = "hive"
        conf["spark.hadoop.javax.jdo.option.ConnectionURL"] = (
            f"jdbc:derby:;databaseName={root / 'metastore_db'};create=true")
    return build_session(app, conf=conf)


def main(argv: list[str]) -> int:
    root, group = Path(argv[0]).resolve(), argv[1]
    if group == "shapes":
        spark = _session(SHAPES_APP, root, hive=True)
        frames = write_tables(spark, root / "tables")
        ran = run_query_shapes(spark, frames, root)
        extras = extra_shapes(spark, frames, root)
        ran += [name for name, action in extras.items() if _attempt(name, action)]
    elif group == "delta":
        spark = _session(DELTA_APP, root, hive=False)
        ran = [name for name, action in delta_shapes(spark, root).items() if _attempt(name, action)]
    else:
        raise SystemExit(f"unknown group {group!r}: shapes or delta")
    spark.stop()
    print(f"{group}: {len(ran)} shapes ran: {' '.join(ran)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
