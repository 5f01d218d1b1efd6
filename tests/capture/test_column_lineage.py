"""Column lineage, table-driven: literal PySpark queries over small parquet tables, expected lineage
written out per output column.

Notation: ``{"out_col": {("table", "field"): {ID, I("FILTER")}}}`` where the codes are
``"<type>/<subtype>"`` with ``+masked`` appended when masking is set; tables are named by the last
component of their parquet path.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from pyspark.sql import Window
from pyspark.sql import functions as F

from lineage_audit.capture.column_lineage import (
    ColumnLineage,
    FieldRef,
    Transformation,
    column_lineage,
    to_facet_dict,
)
from lineage_audit.capture.naming import dataset_identity
from lineage_audit.capture.plan import parse_plan
from lineage_audit.capture.snapshot import plan_json, plan_leaves

ID = "DIRECT/IDENTITY"
TR = "DIRECT/TRANSFORMATION"
AGG = "DIRECT/AGGREGATION"
MASKED = "DIRECT/TRANSFORMATION+masked"
COUNT = "DIRECT/AGGREGATION+masked"


def I(subtype: str) -> str:  # noqa: E743 - short on purpose: it reads as "INDIRECT"
    return f"INDIRECT/{subtype}"


# ---------------------------------------------------------------------------------------------
# Harness: tables, leaves via py4j, compact rendering of a ColumnLineage.


def write_tables(spark, folder) -> dict:
    """The three small tables every shape reads, as Parquet under ``folder``, read back and
    registered as temp views (the differential suite's shapes app writes the same ones)."""
    data = {
        "orders": spark.createDataFrame(
            [(1, 10, 120.0, "paid", "2024-01-02"), (2, 11, 5.0, "new", "2024-01-03")],
            "order_id int, customer_id int, amount double, status string, order_date string",
        ).withColumn("order_date", F.to_date("order_date")),
        "customers": spark.createDataFrame(
            [(10, "Ann", "Paris", "ann@x.org"), (11, "Bob", "Oslo", "bob@x.org")],
            "customer_id int, name string, city string, email string",
        ),
        "items": spark.createDataFrame(
            [(1, ["a", "b"], {"color": "red"}, ("s1", 2), [("s1", 2), ("s2", 1)])],
            "order_id int, tags array<string>, attrs map<string,string>, info struct<sku:string,qty:int>, "
            "lines array<struct<sku:string,qty:int>>",
        ),
    }
    frames = {}
    for name, frame in data.items():
        frame.write.mode("overwrite").parquet(str(folder / name))
        frames[name] = spark.read.parquet(str(folder / name))
        frames[name].createOrReplaceTempView(name)
    return frames


@pytest.fixture(scope="module")
def tables(spark, tmp_path_factory):
    return write_tables(spark, tmp_path_factory.mktemp("lineage_tables"))


def jvm_leaves(jvm, plan) -> list[tuple[str, str] | None]:
    """The leaves column_lineage expects, named as capture names them (see capture.snapshot)."""
    return [None if ref is None else dataset_identity(ref.uri) for ref in plan_leaves(jvm, plan)]


def lineage_of(df, analyzed=None) -> ColumnLineage:
    plan = analyzed if analyzed is not None else df._jdf.queryExecution().analyzed()
    jvm = df.sparkSession.sparkContext._jvm
    return column_lineage(parse_plan(plan_json(plan)), df.columns, jvm_leaves(jvm, plan))


def _code(t: Transformation) -> str:
    return f"{t.type}/{t.subtype}" + ("+masked" if t.masking else "")


def compact(mapping) -> dict:
    return {(Path(f.dataset).name, f.field): {_code(t) for t in ts} for f, ts in mapping.items()}


# ---------------------------------------------------------------------------------------------
# The cases: (id, query, expected per output column, expected dataset-level dependencies).

def _w_customer():
    return Window.partitionBy("customer_id").orderBy("order_date")


def _plus_one(value):
    return None if value is None else value + 1.0


def _double(values: pd.Series) -> pd.Series:
    return values * 2




CASES = [
    (
        "select_alias_cast_arith_string_date",
        lambda s, t: t["orders"].select(
            F.col("order_id").alias("id"), F.col("amount").cast("int").alias("amt_int"),
            (F.col("amount") * 2 + F.col("customer_id")).alias("mixed"), F.upper("status").alias("st"),
            F.date_format("order_date", "yyyy-MM").alias("month"), "order_date",
        ),
        {"id": {("orders", "order_id"): {ID}}, "amt_int": {("orders", "amount"): {TR}},
         "mixed": {("orders", "amount"): {TR}, ("orders", "customer_id"): {TR}},
         "st": {("orders", "status"): {TR}}, "month": {("orders", "order_date"): {TR}},
         "order_date": {("orders", "order_date"): {ID}}},
        {},
    ),
    (
        "filter",
        lambda s, t: t["orders"].filter((F.col("amount") > 10) & F.col("status").isNotNull()).select("order_id"),
        {"order_id": {("orders", "order_id"): {ID}}},
        {("orders", "amount"): {I("FILTER")}, ("orders", "status"): {I("FILTER")}},
    ),
    *[
        (
            f"join_{how}",
            lambda s, t, how=how: t["orders"].join(
                t["customers"], t["orders"].customer_id == t["customers"].customer_id, how
            ).select(t["orders"].order_id, t["customers"].name),
            {"order_id": {("orders", "order_id"): {ID}}, "name": {("customers", "name"): {ID}}},
            {("orders", "customer_id"): {I("JOIN")}, ("customers", "customer_id"): {I("JOIN")}},
        )
        for how in ("inner", "left", "right", "full")
    ],
    *[
        (
            f"join_{how}",
            lambda s, t, how=how: t["orders"].join(
                t["customers"], t["orders"].customer_id == t["customers"].customer_id, how
            ).select("order_id"),
            {"order_id": {("orders", "order_id"): {ID}}},
            {("orders", "customer_id"): {I("JOIN")}, ("customers", "customer_id"): {I("JOIN")}},
        )
        for how in ("left_semi", "left_anti")
    ],
    (
        "cross_join",
        lambda s, t: t["orders"].crossJoin(t["customers"]).select("order_id", "name"),
        {"order_id": {("orders", "order_id"): {ID}}, "name": {("customers", "name"): {ID}}},
        {},
    ),
    (
        "cross_join_with_condition",
        lambda s, t: t["orders"].join(t["customers"], t["orders"].amount > t["customers"].customer_id, "cross")
        .select("order_id"),
        {"order_id": {("orders", "order_id"): {ID}}},
        {("orders", "amount"): {I("JOIN")}, ("customers", "customer_id"): {I("JOIN")}},
    ),
    (
        "join_using_full_outer",
        lambda s, t: t["orders"].join(t["customers"], "customer_id", "full").select("customer_id", "city"),
        # The USING key of a full outer join is coalesce(left key, right key).
        {"customer_id": {("orders", "customer_id"): {TR, I("CONDITIONAL")},
                         ("customers", "customer_id"): {TR, I("CONDITIONAL")}},
         "city": {("customers", "city"): {ID}}},
        {("orders", "customer_id"): {I("JOIN")}, ("customers", "customer_id"): {I("JOIN")}},
    ),
    (
        "group_by_aggregates_and_count",
        lambda s, t: t["orders"].groupBy("status").agg(
            F.sum("amount").alias("total"), F.count("order_id").alias("n"), F.count("*").alias("rows"),
            F.max(F.col("amount") * 2).alias("top"),
        ),
        {"status": {("orders", "status"): {ID}}, "total": {("orders", "amount"): {AGG}},
         "n": {("orders", "order_id"): {COUNT}}, "rows": {}, "top": {("orders", "amount"): {AGG}}},
        {("orders", "status"): {I("GROUP_BY")}},
    ),
    (
        "counting_aggregates_mask",
        lambda s, t: t["orders"].groupBy("status").agg(
            F.count_if(F.col("amount") > 100).alias("big"), F.approx_count_distinct("customer_id").alias("buyers"),
        ),
        {"status": {("orders", "status"): {ID}}, "big": {("orders", "amount"): {COUNT}},
         "buyers": {("orders", "customer_id"): {COUNT}}},
        {("orders", "status"): {I("GROUP_BY")}},
    ),
    (
        "distinct",
        lambda s, t: t["orders"].select("status").distinct(),
        {"status": {("orders", "status"): {ID}}},
        {("orders", "status"): {I("GROUP_BY")}},
    ),
    (
        "sql_distinct",
        lambda s, t: s.sql("SELECT DISTINCT city FROM customers"),
        {"city": {("customers", "city"): {ID}}},
        {("customers", "city"): {I("GROUP_BY")}},
    ),
    (
        "drop_duplicates_keys",
        lambda s, t: t["orders"].dropDuplicates(["customer_id"]).select("order_id"),
        {"order_id": {("orders", "order_id"): {ID}}},
        {("orders", "customer_id"): {I("GROUP_BY")}},
    ),
    (
        "sort",
        lambda s, t: t["orders"].orderBy(F.desc("amount")).select("order_id"),
        {"order_id": {("orders", "order_id"): {ID}}},
        {("orders", "amount"): {I("SORT")}},
    ),
    (
        "union",
        lambda s, t: t["orders"].select("customer_id", "status").union(t["customers"].select("customer_id", "name")),
        {"customer_id": {("orders", "customer_id"): {ID}, ("customers", "customer_id"): {ID}},
         "status": {("orders", "status"): {ID}, ("customers", "name"): {ID}}},
        {},
    ),
    (
        "union_by_name",
        lambda s, t: t["orders"].select(F.col("customer_id").alias("id"), "status").unionByName(
            t["customers"].select(F.col("name").alias("status"), F.col("customer_id").alias("id"))
        ),
        {"id": {("orders", "customer_id"): {ID}, ("customers", "customer_id"): {ID}},
         "status": {("orders", "status"): {ID}, ("customers", "name"): {ID}}},
        {},
    ),
    (
        "window_rank_row_number",
        lambda s, t: t["orders"].select(
            "order_id", F.rank().over(_w_customer()).alias("r"), F.row_number().over(_w_customer()).alias("rn")
        ),
        {"order_id": {("orders", "order_id"): {ID}},
         "r": {("orders", "customer_id"): {I("WINDOW")}, ("orders", "order_date"): {I("WINDOW")}},
         "rn": {("orders", "customer_id"): {I("WINDOW")}, ("orders", "order_date"): {I("WINDOW")}}},
        {},
    ),
    (
        "window_lag_lead",
        lambda s, t: t["orders"].withColumn("prev", F.lag("amount").over(_w_customer()))
        .withColumn("next", F.lead("status", 1).over(_w_customer())).select("prev", "next"),
        {"prev": {("orders", "amount"): {TR}, ("orders", "customer_id"): {I("WINDOW")},
                  ("orders", "order_date"): {I("WINDOW")}},
         "next": {("orders", "status"): {TR}, ("orders", "customer_id"): {I("WINDOW")},
                  ("orders", "order_date"): {I("WINDOW")}}},
        {},
    ),
    (
        "window_aggregate",
        lambda s, t: t["orders"].select(F.sum("amount").over(Window.partitionBy("customer_id")).alias("cust_total")),
        {"cust_total": {("orders", "amount"): {AGG}, ("orders", "customer_id"): {I("WINDOW")}}},
        {},
    ),
    (
        "explode",
        lambda s, t: t["items"].select("order_id", F.explode("tags").alias("tag")),
        {"order_id": {("items", "order_id"): {ID}}, "tag": {("items", "tags"): {TR}}},
        {},
    ),
    (
        "posexplode",
        lambda s, t: t["items"].select(F.posexplode("tags")),
        {"pos": {("items", "tags"): {TR}}, "col": {("items", "tags"): {TR}}},
        {},
    ),
    (
        "inline",
        lambda s, t: t["items"].select(F.inline("lines")),
        {"sku": {("items", "lines"): {TR}}, "qty": {("items", "lines"): {TR}}},
        {},
    ),
    (
        "struct_map_array_access",
        lambda s, t: t["items"].select(
            F.col("info.sku").alias("sku"), F.col("attrs")["color"].alias("color"), F.col("tags")[0].alias("first")
        ),
        {"sku": {("items", "info"): {TR}}, "color": {("items", "attrs"): {TR}}, "first": {("items", "tags"): {TR}}},
        {},
    ),
    (
        "case_when_if_coalesce_nvl",
        lambda s, t: t["orders"].select(
            F.when(F.col("amount") > 100, F.col("status")).otherwise(F.lit("small")).alias("size"),
            F.expr("IF(amount > 0, order_id, customer_id)").alias("pick"),
            F.when(F.col("status") == "paid", F.col("amount") * 2).alias("paid2"),
            F.coalesce("status", F.lit("x")).alias("st"), F.expr("nvl(status, 'none')").alias("st2"),
        ),
        # A branch's value is a TRANSFORMATION even when it is a bare column (official 1.53.0).
        {"size": {("orders", "status"): {TR}, ("orders", "amount"): {I("CONDITIONAL")}},
         "pick": {("orders", "order_id"): {TR}, ("orders", "customer_id"): {TR},
                  ("orders", "amount"): {I("CONDITIONAL")}},
         "paid2": {("orders", "amount"): {TR}, ("orders", "status"): {I("CONDITIONAL")}},
         "st": {("orders", "status"): {TR, I("CONDITIONAL")}}, "st2": {("orders", "status"): {TR, I("CONDITIONAL")}}},
        {},
    ),
    (
        # What the official listener 1.53.0 emits for the same select (its events, field by field):
        # every argument of coalesce decides whether the next is used, and may be the value.
        "coalesce_nvl_ifnull_nvl2_nullif",
        lambda s, t: t["orders"].select(
            F.coalesce("status", F.col("order_date").cast("string")).alias("co2"),
            F.expr("nvl(status, 'none')").alias("nvl"), F.expr("ifnull(order_id, customer_id)").alias("ifn"),
            F.expr("nvl2(status, order_date, null)").alias("nvl2"), F.expr("nullif(order_id, customer_id)").alias("nullif"),
            F.expr("upper(coalesce(status, 'x'))").alias("upper_co"),
            F.coalesce("status").alias("single"), F.coalesce(F.lit("a"), "status").alias("literal_first"),
        ),
        {"co2": {("orders", "status"): {TR, I("CONDITIONAL")}, ("orders", "order_date"): {TR, I("CONDITIONAL")}},
         "nvl": {("orders", "status"): {TR, I("CONDITIONAL")}},
         "ifn": {("orders", "order_id"): {TR, I("CONDITIONAL")}, ("orders", "customer_id"): {TR, I("CONDITIONAL")}},
         "nvl2": {("orders", "status"): {I("CONDITIONAL")}, ("orders", "order_date"): {TR}},
         "nullif": {("orders", "order_id"): {TR, I("CONDITIONAL")}, ("orders", "customer_id"): {I("CONDITIONAL")}},
         "upper_co": {("orders", "status"): {TR, I("CONDITIONAL")}},
         # Spark's optimizer drops a lone coalesce, and everything after a literal: so does capture.
         "single": {("orders", "status"): {ID}}, "literal_first": {}},
        {},
    ),
    (
        "hash_functions_mask",
        lambda s, t: t["customers"].select(
            F.sha2("email", 256).alias("h256"), F.sha1("email").alias("h1"), F.md5("email").alias("m"),
            F.hash("email").alias("h"), F.xxhash64("email").alias("x"), F.crc32("email").alias("c"),
            F.count(F.sha2("email", 256)).over(Window.partitionBy()).alias("n"),
        ),
        {**{col: {("customers", "email"): {MASKED}} for col in ("h256", "h1", "m", "h", "x", "c")},
         "n": {("customers", "email"): {COUNT}}},
        {},
    ),
    (
        "stack_unpivots_argument_by_argument",
        lambda s, t: t["orders"].select(
            "order_id", F.stack(F.lit(2), F.lit("amount"), F.col("amount"), F.lit("customer"),
                                F.col("customer_id").cast("double")).alias("measure", "value"),
        ),
        {"order_id": {("orders", "order_id"): {ID}}, "measure": {},
         "value": {("orders", "amount"): {ID}, ("orders", "customer_id"): {TR}}},
        {},
    ),
    (
        "unpivot",
        lambda s, t: t["orders"].select("status", F.col("amount").alias("a"), (F.col("amount") * 2).alias("b"))
        .unpivot(["status"], ["a", "b"], "metric", "value"),
        {"status": {("orders", "status"): {ID}}, "metric": {}, "value": {("orders", "amount"): {TR}}},
        {},
    ),
    (
        "rollup",
        lambda s, t: t["orders"].rollup("status", F.year("order_date").alias("y"))
        .agg(F.sum("amount").alias("total")),
        {"status": {("orders", "status"): {ID}}, "y": {("orders", "order_date"): {TR}},
         "total": {("orders", "amount"): {AGG}}},
        {("orders", "status"): {I("GROUP_BY")}, ("orders", "order_date"): {I("GROUP_BY")}},
    ),
    (
        "except_and_intersect",
        lambda s, t: t["orders"].select("customer_id").exceptAll(t["customers"].select("customer_id"))
        .intersect(t["orders"].select(F.col("order_id").alias("customer_id"))),
        {"customer_id": {("orders", "customer_id"): {ID}}},
        {("orders", "customer_id"): {I("JOIN"), I("GROUP_BY")}, ("customers", "customer_id"): {I("JOIN")},
         ("orders", "order_id"): {I("JOIN")}},
    ),
    (
        "aggregate_filter_where",
        lambda s, t: s.sql("SELECT status, sum(amount) FILTER (WHERE customer_id > 10) AS big, "
                           "count(order_id) FILTER (WHERE amount > 100) AS n FROM orders GROUP BY status"),
        {"status": {("orders", "status"): {ID}}, "big": {("orders", "amount"): {AGG},
                                                         ("orders", "customer_id"): {I("CONDITIONAL")}},
         "n": {("orders", "order_id"): {COUNT}, ("orders", "amount"): {I("CONDITIONAL") + "+masked"}}},
        {("orders", "status"): {I("GROUP_BY")}},
    ),
    (
        "masking_holds_only_if_every_path_masks",
        lambda s, t: t["customers"].select(
            F.concat(F.sha2("email", 256), F.col("email")).alias("leaky"),
            F.concat(F.sha2("email", 256), F.md5("email")).alias("hashed"),
            F.when(F.sha2("email", 256) == "x", 1).when(F.col("email") == "y", 2).alias("flag"),
        ),
        {"leaky": {("customers", "email"): {TR}}, "hashed": {("customers", "email"): {MASKED}},
         "flag": {("customers", "email"): {I("CONDITIONAL")}}},
        {},
    ),
    (
        "python_udf_and_pandas_udf",
        lambda s, t: t["orders"].select(F.udf(_plus_one, "double")("amount").alias("u"),
            F.pandas_udf(_double, "double")("amount").alias("p"),),
        {"u": {("orders", "amount"): {TR}}, "p": {("orders", "amount"): {TR}}},
        {},
    ),
    (
        "pivot",
        lambda s, t: t["orders"].groupBy("customer_id").pivot("status", ["new", "paid"]).sum("amount"),
        {"customer_id": {("orders", "customer_id"): {ID}},
         "new": {("orders", "amount"): {AGG}, ("orders", "status"): {I("CONDITIONAL")}},
         "paid": {("orders", "amount"): {AGG}, ("orders", "status"): {I("CONDITIONAL")}}},
        {("orders", "customer_id"): {I("GROUP_BY")}, ("orders", "status"): {I("GROUP_BY")}},
    ),
    (
        "sql_join_filter_group_by_over_temp_views",
        lambda s, t: s.sql(
            "SELECT c.city, SUM(o.amount) AS total FROM orders o JOIN customers c ON o.customer_id = c.customer_id "
            "WHERE o.status = 'paid' GROUP BY c.city ORDER BY total DESC"
        ),
        {"city": {("customers", "city"): {ID}}, "total": {("orders", "amount"): {AGG}}},
        {("orders", "customer_id"): {I("JOIN")}, ("customers", "customer_id"): {I("JOIN")},
         ("orders", "status"): {I("FILTER")}, ("customers", "city"): {I("GROUP_BY")},
         ("orders", "amount"): {I("SORT")}},
    ),
    (
        "cte_referenced_twice",
        lambda s, t: s.sql(
            "WITH big AS (SELECT customer_id, amount * 2 AS a FROM orders WHERE amount > 5) "
            "SELECT b1.customer_id, b2.a FROM big b1 JOIN big b2 ON b1.customer_id = b2.customer_id"
        ),
        {"customer_id": {("orders", "customer_id"): {ID}}, "a": {("orders", "amount"): {TR}}},
        {("orders", "customer_id"): {I("JOIN")}, ("orders", "amount"): {I("FILTER")}},
    ),
    (
        "subqueries_exists_and_in",
        lambda s, t: s.sql(
            "SELECT order_id FROM orders o WHERE EXISTS (SELECT 1 FROM customers c WHERE c.customer_id = o.customer_id)"
            " AND o.order_id IN (SELECT order_id FROM items WHERE size(tags) > 1)"
        ),
        {"order_id": {("orders", "order_id"): {ID}}},
        {("orders", "customer_id"): {I("FILTER")}, ("customers", "customer_id"): {I("FILTER")},
         ("orders", "order_id"): {I("FILTER")}, ("items", "order_id"): {I("FILTER")},
         ("items", "tags"): {I("FILTER")}},
    ),
    (
        "scalar_subquery_projected",
        lambda s, t: s.sql("SELECT customer_id, (SELECT MAX(amount) FROM orders) AS top FROM customers"),
        {"customer_id": {("customers", "customer_id"): {ID}}, "top": {("orders", "amount"): {AGG}}},
        {},
    ),
    (
        "multi_hop_derived_aggregate_having",
        lambda s, t: t["orders"].withColumn("x", F.col("amount") * 2).groupBy("status")
        .agg(F.sum("x").alias("t")).filter(F.col("t") > 5).withColumnRenamed("status", "s"),
        {"s": {("orders", "status"): {ID}}, "t": {("orders", "amount"): {AGG}}},
        {("orders", "status"): {I("GROUP_BY")}, ("orders", "amount"): {I("FILTER")}},
    ),
    (
        "local_data_joined_with_a_table",
        lambda s, t: s.createDataFrame([(1, "x")], "order_id int, label string").join(t["orders"], "order_id")
        .select("label", "amount", (F.col("label") == "x").alias("flag")),
        {"label": {}, "amount": {("orders", "amount"): {ID}}, "flag": {}},
        {("orders", "order_id"): {I("JOIN")}},
    ),
    (
        "range_only",
        lambda s, t: s.range(3).select((F.col("id") + 1).alias("x")),
        {"x": {}},
        {},
    ),
]


@pytest.mark.parametrize("name, build, expected_fields, expected_dataset", CASES, ids=[c[0] for c in CASES])
def test_query_lineage(spark, tables, name, build, expected_fields, expected_dataset):
    lineage = lineage_of(build(spark, tables))
    assert {col: compact(inputs) for col, inputs in lineage.fields.items()} == expected_fields
    assert compact(lineage.dataset) == expected_dataset


def test_input_fields_name_the_parquet_directory(spark, tables):
    lineage = lineage_of(tables["orders"].select("order_id"))
    (field,) = lineage.fields["order_id"]
    assert field.namespace == "file" and Path(field.dataset).is_absolute() and field.dataset.endswith("/orders")


def test_cached_dataframe_and_in_memory_relation(spark, tables):
    cached = tables["orders"].filter(F.col("amount") > 1).select("order_id", (F.col("amount") * 2).alias("a")).cache()
    cached.count()
    try:
        lineage = lineage_of(cached.select("a"))
        assert compact(lineage.fields["a"]) == {("orders", "amount"): {TR}}
        assert compact(lineage.dataset) == {("orders", "amount"): {I("FILTER")}}
        # The plan with the cache substituted has an InMemoryRelation leaf: no known input, no crash.
        derived = cached.select("a")
        in_memory = lineage_of(derived, derived._jdf.queryExecution().withCachedData())
        assert in_memory.fields == {"a": {}} and in_memory.dataset == {}
    finally:
        cached.unpersist()


def test_output_names_follow_position_not_plan_names(spark, tables):
    df = tables["orders"].select("order_id", "amount")
    plan = df._jdf.queryExecution().analyzed()
    jvm = spark.sparkContext._jvm
    lineage = column_lineage(parse_plan(plan_json(plan)), ["id", "value"], jvm_leaves(jvm, plan))
    assert compact(lineage.fields["value"]) == {("orders", "amount"): {ID}}
    with pytest.raises(ValueError):
        column_lineage(parse_plan(plan_json(plan)), ["only_one"], jvm_leaves(jvm, plan))


# ---------------------------------------------------------------------------------------------
# Transformation.merge and to_facet_dict.

_T = Transformation


@pytest.mark.parametrize(
    "first, second, expected",
    [
        (_T("DIRECT", "IDENTITY"), _T("DIRECT", "TRANSFORMATION"), _T("DIRECT", "TRANSFORMATION")),
        (_T("DIRECT", "TRANSFORMATION"), _T("DIRECT", "AGGREGATION"), _T("DIRECT", "AGGREGATION")),
        (_T("DIRECT", "AGGREGATION"), _T("DIRECT", "IDENTITY"), _T("DIRECT", "AGGREGATION")),
        (_T("DIRECT", "IDENTITY"), _T("DIRECT", "IDENTITY"), _T("DIRECT", "IDENTITY")),
        (_T("INDIRECT", "FILTER"), _T("DIRECT", "AGGREGATION"), _T("INDIRECT", "FILTER")),
        (_T("DIRECT", "AGGREGATION"), _T("INDIRECT", "JOIN"), _T("INDIRECT", "JOIN")),
        (_T("INDIRECT", "FILTER"), _T("INDIRECT", "CONDITIONAL"), _T("INDIRECT", "FILTER")),
        (_T("DIRECT", "TRANSFORMATION", True), _T("DIRECT", "IDENTITY"), _T("DIRECT", "TRANSFORMATION", True)),
        (_T("DIRECT", "IDENTITY"), _T("DIRECT", "AGGREGATION", True), _T("DIRECT", "AGGREGATION", True)),
        (_T("INDIRECT", "SORT"), _T("DIRECT", "TRANSFORMATION", True), _T("INDIRECT", "SORT", True)),
    ],
)
def test_merge(first, second, expected):
    assert first.merge(second) == expected


def _sample_lineage() -> ColumnLineage:
    amount, status = FieldRef("file", "/d/orders", "amount"), FieldRef("file", "/d/orders", "status")
    email = FieldRef("file", "/d/customers", "email")
    return ColumnLineage(
        fields={
            "total": {amount: frozenset({_T("DIRECT", "AGGREGATION")}), email: frozenset({_T("DIRECT", "TRANSFORMATION",
                                                                                             True)})},
            "constant": {},
        },
        dataset={status: frozenset({_T("INDIRECT", "GROUP_BY"), _T("INDIRECT", "FILTER")})},
    )


def _t(type_: str, subtype: str, masking: bool = False) -> dict:
    return {"type": type_, "subtype": subtype, "description": "", "masking": masking}


def test_facet_dict_with_dataset_lineage():
    facet = to_facet_dict(_sample_lineage())
    assert facet == {
        "fields": {
            "total": {"inputFields": [
                {"namespace": "file", "name": "/d/customers", "field": "email",
                 "transformations": [_t("DIRECT", "TRANSFORMATION", True)]},
                {"namespace": "file", "name": "/d/orders", "field": "amount",
                 "transformations": [_t("DIRECT", "AGGREGATION")]},
            ]},
        },
        "dataset": [{"namespace": "file", "name": "/d/orders", "field": "status",
                     "transformations": [_t("INDIRECT", "GROUP_BY"), _t("INDIRECT", "FILTER")]}],
    }
    json.dumps(facet)  # plain data all the way down


def test_facet_dict_without_dataset_lineage_spreads_indirect_to_every_field():
    facet = to_facet_dict(_sample_lineage(), dataset_lineage_enabled=False)
    status = {"namespace": "file", "name": "/d/orders", "field": "status",
              "transformations": [_t("INDIRECT", "GROUP_BY"), _t("INDIRECT", "FILTER")]}
    assert facet["dataset"] == []
    assert facet["fields"]["constant"] == {"inputFields": [status]}
    assert facet["fields"]["total"]["inputFields"][-1] == status
    assert len(facet["fields"]["total"]["inputFields"]) == 3


# ---------------------------------------------------------------------------------------------
# Wide and deep plans, built as plan JSON directly (no Spark needed, only the shape matters).

_EXPR = "org.apache.spark.sql.catalyst.expressions."
_PLAN = "org.apache.spark.sql.catalyst.plans.logical."


def _attr(name: str, expr_id: int) -> dict:
    return {"class": _EXPR + "AttributeReference", "num-children": 0, "name": name, "exprId": {"id": expr_id}}


def _relation(names_and_ids) -> dict:
    return {"class": "org.apache.spark.sql.execution.datasources.LogicalRelation", "num-children": 0,
            "output": [[_attr(n, i)] for n, i in names_and_ids]}


def test_wide_select_of_a_thousand_columns():
    width = 1000
    aliases = [
        [{"class": _EXPR + "Alias", "num-children": 1, "name": f"c{i}_x", "exprId": {"id": width + i}, "child": 0},
         {"class": _EXPR + "Add", "num-children": 2, "left": 0, "right": 1}, _attr(f"c{i}", i),
         {"class": _EXPR + "Literal", "num-children": 0, "value": "1"}]
        for i in range(width)
    ]
    doc = [{"class": _PLAN + "Project", "num-children": 1, "projectList": aliases},
           _relation((f"c{i}", i) for i in range(width))]
    lineage = column_lineage(parse_plan(doc), [f"c{i}_x" for i in range(width)], [("file", "/d/wide")])
    assert len(lineage.fields) == width
    assert lineage.fields["c999_x"] == {FieldRef("file", "/d/wide", "c999"): frozenset({_T("DIRECT", "TRANSFORMATION")})}


def test_chain_of_a_hundred_joins_and_unions():
    depth = 100
    # Join chain: join(join(join(t0, t1), t2), ...) on t_{k-1}.key = t_k.key, then a union chain on top.
    doc, leaves = [], []
    for k in range(depth, 0, -1):
        condition = [{"class": _EXPR + "EqualTo", "num-children": 2, "left": 0, "right": 1},
                     _attr("key", 2 * (k - 1)), _attr("key", 2 * k)]
        doc.append({"class": _PLAN + "Join", "num-children": 2, "joinType": {"object": "Inner$"},
                    "condition": condition})
    doc.append(_relation([("key", 0), ("v", 1)]))
    leaves.append(("file", "/d/t0"))
    # The pre-order list nests each Join's right relation after the whole left subtree.
    rights = [_relation([("key", 2 * k), ("v", 2 * k + 1)]) for k in range(1, depth + 1)]
    doc.extend(rights)
    leaves.extend(("file", f"/d/t{k}") for k in range(1, depth + 1))
    project = {"class": _PLAN + "Project", "num-children": 1, "projectList": [[_attr("v", 2 * depth + 1)]]}
    unions = [{"class": _PLAN + "Union", "num-children": 2} for _ in range(depth)]
    union_leaves = [_relation([("v", 10_000 + k)]) for k in range(depth)]
    full = unions + [project] + doc + union_leaves
    all_leaves = leaves + [("file", f"/d/u{k}") for k in range(depth)]
    lineage = column_lineage(parse_plan(full), ["v"], all_leaves)
    sources = compact(lineage.fields["v"])
    assert sources[("t100", "v")] == {ID} and sources[("u0", "v")] == {ID} and len(sources) == depth + 1
    assert len(lineage.dataset) == depth + 1
    assert compact(lineage.dataset)[("t57", "key")] == {I("JOIN")}


def test_deep_project_chain_beyond_the_recursion_limit():
    depth = 1500
    doc = [
        {"class": _PLAN + "Project", "num-children": 1, "projectList": [
            [{"class": _EXPR + "Alias", "num-children": 1, "name": "v", "exprId": {"id": level + 1}, "child": 0},
             {"class": _EXPR + "Upper", "num-children": 1, "child": 0} if level == 0 else _attr("v", level),
             *([_attr("v", level)] if level == 0 else [])]
        ]}
        for level in range(depth, -1, -1)
    ]
    doc.append(_relation([("v", 0)]))
    lineage = column_lineage(parse_plan(doc), ["v"], [("file", "/d/deep")])
    assert compact(lineage.fields["v"]) == {("deep", "v"): {TR}}
