"""Tests of jobs/compliance.py: every transform on inline rows, then the whole job."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timezone

from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs import compliance as job
from lineage_audit.tables import read_table

INVENTORY_DDL = ("table_name string, column_name string, data_category string, sensitivity string, "
                 "owner_team string, is_encrypted boolean, is_masked boolean, retention_days int, last_reviewed date")
REQUIREMENTS_DDL = ("regulation string, requirement_id string, data_category string, requires_encryption boolean, "
                    "requires_masking boolean, max_retention_days int, allowed_roles string, allowed_purposes string")
RULE_STRUCT = ("struct<regulation:string,requirement_id:string,allowed_roles:array<string>,"
               "allowed_purposes:array<string>>")
RULES_DDL = (f"data_category string, requirements array<{RULE_STRUCT}>, regulations string, "
             "requires_encryption boolean, requires_masking boolean, max_retention_days int")
LOGS_DDL = ("access_id string, user_name string, role string, table_name string, column_name string, action string, "
            "access_ts timestamp, purpose string, rows_accessed long, client_ip string, approved boolean")
FINDINGS_DDL = ("table_name string, column_name string, lineage_classes array<string>, "
                "lineage_masked_classes array<string>, lineage_influenced_by array<string>, "
                "lineage_sources array<string>, flows_to_clear array<string>, flows_to_masked array<string>, "
                "is_carrier boolean")
ASSESSMENT_DDL = (
    "table_name string, column_name string, data_category string, sensitivity string, owner_team string, "
    "regulations string, is_encrypted boolean, requires_encryption boolean, is_masked boolean, "
    "requires_masking boolean, retention_days int, max_retention_days int, retention_excess_days int, "
    "gaps array<string>, risk_score int, risk_level string")
LINEAGE_COLUMNS_DDL = (
    "inventory_status string, lineage_status string, masked_per_lineage boolean, lineage_classes array<string>, "
    "lineage_masked_classes array<string>, lineage_influenced_by array<string>, lineage_sources array<string>, "
    "flows_to_clear array<string>, flows_to_masked array<string>")
RESULT_STRUCT = ("struct<regulation:string,requirement_id:string,role_allowed:boolean,purpose_allowed:boolean,"
                 "violated:boolean>")


def utc(*parts: int) -> datetime:
    """A UTC-aware timestamp: PySpark would read a naive one in the local time zone."""
    return datetime(*parts, tzinfo=timezone.utc)


def rules_frame(spark):
    return spark.createDataFrame([
        ("PII", [("CCPA", "CCPA-1", ["support"], ["support"]),
                 ("GDPR", "GDPR-32", ["data_engineer", "support"], ["support", "audit"])],
         "CCPA,GDPR", True, True, 365),
        ("FINANCIAL", [("SOX", "SOX-404", ["analyst"], ["reporting"])], "SOX", False, False, 2555),
    ], RULES_DDL)


def test_latest_inventory_keeps_the_newest_review_per_column(spark):
    inventory = spark.createDataFrame([
        ("t1", "c1", "pii ", " high", "crm", True, False, 365, date(2026, 1, 1)),
        ("t1", "c1", "PII", "HIGH", "crm", False, True, 90, date(2026, 2, 1)),
        ("t1", "c1", "PII", "LOW", "crm", False, True, 90, None),
        ("t2", "c2", "Financial", "Low", "payments", None, False, 730, None),
    ], INVENTORY_DDL)

    result = job.latest_inventory(inventory)

    expected = spark.createDataFrame([
        ("t1", "c1", "PII", "HIGH", "crm", False, True, 90, date(2026, 2, 1)),
        ("t2", "c2", "FINANCIAL", "LOW", "payments", None, False, 730, None),
    ], INVENTORY_DDL)
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)


def test_rules_by_category_splits_lists_and_takes_the_strictest_controls(spark):
    requirements = spark.createDataFrame([
        ("GDPR", "GDPR-32", "PII", True, True, 730, "data_engineer, support", "support,audit"),
        ("CCPA", "CCPA-1", "pii", False, True, 365, "support", "support"),
        ("SOX", "SOX-404", "FINANCIAL", False, False, 2555, "analyst", "reporting"),
    ], REQUIREMENTS_DDL)

    result = job.rules_by_category(requirements)

    assert_df_equality(result, rules_frame(spark), ignore_row_order=True, ignore_nullable=True)


def test_evaluate_accesses_finds_every_violation_reason(spark):
    inventory = spark.createDataFrame([
        ("t1", "c1", "PII", "HIGH", "crm", True, False, 365, date(2026, 1, 1)),
        ("t2", "c2", "FINANCIAL", "LOW", "payments", False, False, 730, date(2026, 1, 1)),
    ], INVENTORY_DDL)
    logs = spark.createDataFrame([
        ("A1", "support_1", "support", "t1", "c1", "READ", utc(2026, 1, 5, 10), "support", 3, "10.0.0.1", True),
        ("A2", "analyst_1", "analyst", "t1", "c1", "EXPORT", utc(2026, 1, 5, 21, 30), "audit", 9, "10.0.0.2",
         False),
        ("A3", "svc_etl", "service_account", "t2", "c2", "WRITE", utc(2026, 1, 5, 3), None, 1, "10.0.0.3", True),
        ("A4", "analyst_2", "analyst", "t9", "c9", "READ", utc(2026, 1, 5, 7), "reporting", 1, "10.0.0.4", True),
        ("A5", "analyst_1", "analyst", "t2", "c2", "READ", utc(2026, 1, 5, 19, 59, 59), "reporting", 2,
         "10.0.0.2", True),
    ], LOGS_DDL)

    result = job.evaluate_accesses(logs, inventory, rules_frame(spark), office_hours_start=7, office_hours_end=20)

    expected = spark.createDataFrame([
        ("A1", "support_1", "support", "t1", "c1", "READ", utc(2026, 1, 5, 10), "support", 3, "10.0.0.1", True,
         "PII", "HIGH", "crm", True,
         [("CCPA", "CCPA-1", True, True, False), ("GDPR", "GDPR-32", True, True, False)], [], False),
        ("A2", "analyst_1", "analyst", "t1", "c1", "EXPORT", utc(2026, 1, 5, 21, 30), "audit", 9, "10.0.0.2",
         False, "PII", "HIGH", "crm", True,
         [("CCPA", "CCPA-1", False, False, True), ("GDPR", "GDPR-32", False, True, True)],
         ["not approved", "EXPORT of HIGH sensitivity data", "outside office hours", "role not allowed by CCPA-1",
          "purpose not allowed by CCPA-1", "role not allowed by GDPR-32"], True),
        ("A3", "svc_etl", "service_account", "t2", "c2", "WRITE", utc(2026, 1, 5, 3), None, 1, "10.0.0.3", True,
         "FINANCIAL", "LOW", "payments", True,
         [("SOX", "SOX-404", False, False, True)], ["purpose missing", "role not allowed by SOX-404"], True),
        ("A4", "analyst_2", "analyst", "t9", "c9", "READ", utc(2026, 1, 5, 7), "reporting", 1, "10.0.0.4", True,
         None, None, None, False, None, ["uncatalogued column"], True),
        ("A5", "analyst_1", "analyst", "t2", "c2", "READ", utc(2026, 1, 5, 19, 59, 59), "reporting", 2,
         "10.0.0.2", True, "FINANCIAL", "LOW", "payments", True,
         [("SOX", "SOX-404", True, True, False)], [], False),
    ], f"{LOGS_DDL}, data_category string, sensitivity string, owner_team string, is_catalogued boolean, "
       f"requirement_results array<{RESULT_STRUCT}>, violation_reasons array<string>, is_violation boolean")
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)


def test_build_compliance_report_rates_each_requirement(spark):
    accesses = spark.createDataFrame([
        ("u1", "PII", True, False, [("CCPA", "CCPA-1", True, True, False), ("GDPR", "GDPR-32", True, True, False)]),
        ("u2", "PII", True, True, [("CCPA", "CCPA-1", False, False, True), ("GDPR", "GDPR-32", False, True, True)]),
        ("u2", "PII", True, True, [("CCPA", "CCPA-1", True, True, True), ("GDPR", "GDPR-32", True, True, True)]),
        ("u3", None, False, True, None),
        ("u4", "PUBLIC", True, False, None),
    ], f"user_name string, data_category string, is_catalogued boolean, is_violation boolean, "
       f"requirement_results array<{RESULT_STRUCT}>")

    result = job.build_compliance_report(accesses, at_risk_max_rate=0.7)

    expected = spark.createDataFrame([
        ("CCPA", "CCPA-1", "PII", 3, 2, 1, 1, 0.6667, 1, "AT_RISK"),
        ("GDPR", "GDPR-32", "PII", 3, 2, 1, 0, 0.6667, 1, "AT_RISK"),
        ("UNCATALOGUED", "UNCATALOGUED", None, 1, 1, 0, 0, 1.0, 1, "NON_COMPLIANT"),
        ("UNREGULATED", "UNREGULATED", "PUBLIC", 1, 0, 0, 0, 0.0, 0, "COMPLIANT"),
    ], "regulation string, requirement_id string, data_category string, accesses long, violations long, "
       "role_violations long, purpose_violations long, violation_rate double, users_with_violations long, "
       "compliance_status string")
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)


def test_assess_privacy_scores_control_gaps(spark):
    inventory = spark.createDataFrame([
        ("t1", "c1", "PII", "HIGH", "crm", None, False, 1095, date(2026, 1, 1)),
        ("t1", "c3", "PII", "LOW", "crm", True, True, 90, date(2026, 1, 1)),
        ("t2", "c6", "PII", "MEDIUM", "crm", False, True, 365, date(2026, 1, 1)),
        ("t2", "c2", "FINANCIAL", "MEDIUM", "payments", False, False, 730, date(2026, 1, 1)),
        ("t3", "c4", "PUBLIC", "LOW", "commerce", False, False, 365, date(2026, 1, 1)),
    ], INVENTORY_DDL)

    result = job.assess_privacy(inventory, rules_frame(spark), spark.createDataFrame([], FINDINGS_DDL))

    expected = spark.createDataFrame([
        ("t1", "c1", "PII", "HIGH", "crm", "CCPA,GDPR", None, True, False, True, 1095, 365, 730,
         ["encryption status unknown", "not masked", "retention 1095 days exceeds 365"], 15, "CRITICAL"),
        ("t1", "c3", "PII", "LOW", "crm", "CCPA,GDPR", True, True, True, True, 90, 365, 0, [], 1, "LOW"),
        ("t2", "c6", "PII", "MEDIUM", "crm", "CCPA,GDPR", False, True, True, True, 365, 365, 0,
         ["not encrypted"], 6, "HIGH"),
        ("t2", "c2", "FINANCIAL", "MEDIUM", "payments", "SOX", False, False, False, False, 730, 2555, 0, [], 2, "LOW"),
        ("t3", "c4", "PUBLIC", "LOW", "commerce", "UNREGULATED", False, False, False, False, 365, None, 0, [], 1,
         "LOW"),
    ], ASSESSMENT_DDL)
    # where the captured lineage classifies no column, the inventory alone decides, as it always did
    nothing_from_lineage = [F.lit("INVENTORIED").alias("inventory_status"), F.lit("NONE").alias("lineage_status"),
                            F.lit(None).cast("boolean").alias("masked_per_lineage"),
                            *[F.array().cast("array<string>").alias(c) for c in (
                                "lineage_classes", "lineage_masked_classes", "lineage_influenced_by",
                                "lineage_sources", "flows_to_clear", "flows_to_masked")]]
    assert_df_equality(result, expected.select("*", *nothing_from_lineage), ignore_row_order=True,
                       ignore_nullable=True)


def _classified(dataset, field, data_class, status, source, via=(), jobs=()):
    """One row of the lineage export: ``source`` and ``via`` are (dataset, field) pairs."""
    return ("file", dataset, field, "string", data_class, status, "file", source[0], source[1], "rule",
            "rule raw_customers/email", len(via), list(jobs), [tuple(v) for v in via], None, "a path")


def test_lineage_findings_say_what_each_column_carries_and_where_it_flows(spark):
    raw_email = ("/d/inputs/raw_customers.csv", "email")
    processed_email = ("/d/outputs/processed_customers", "email")
    logs_user = ("/d/inputs/data_access_logs", "user_name")
    classified = spark.createDataFrame([
        _classified(*raw_email, "PII.email", "clear", raw_email),
        _classified(*processed_email, "PII.email", "clear", raw_email, [raw_email], ["customers"]),
        _classified("/d/outputs/processed_customers", "email_hash", "PII.email", "masked", raw_email, [raw_email],
                    ["customers"]),
        _classified("/d/outputs/customer_master", "email", "PII.email", "clear", raw_email,
                    [raw_email, processed_email], ["customers"]),
        _classified("/d/outputs/order_summary", "total", "PII.email", "influenced", raw_email,
                    [raw_email, processed_email], ["customers", "orders"]),
        _classified(*logs_user, "PII.name", "clear", logs_user),
        # the quarantine of the customer feed: named after the folder it is in, not after its source
        _classified("/d/rejects/raw_customers", "raw_record", "PII.email", "clear", raw_email, [raw_email],
                    ["customers"]),
        # the compliance job's own output, from an earlier run of it: left out
        _classified("/d/outputs/audit_trail", "user_name", "PII.name", "clear", logs_user, [logs_user],
                    ["compliance"]),
    ], job.CLASSIFICATION_DDL)

    result = job.lineage_findings(classified, exclude_tables=("audit_trail",), rejects_dir="/d/rejects")

    expected = spark.createDataFrame([
        ("raw_customers", "email", ["PII.email"], [], [], ["raw_customers.email"],
         ["customer_master.email", "processed_customers.email", "rejects/raw_customers.raw_record"],
         ["processed_customers.email_hash"], False),
        ("rejects/raw_customers", "raw_record", ["PII.email"], [], [], ["raw_customers.email"], [], [], True),
        ("processed_customers", "email", ["PII.email"], [], [], ["raw_customers.email"],
         ["customer_master.email"], [], True),
        ("processed_customers", "email_hash", [], ["PII.email"], [], ["raw_customers.email"], [], [], True),
        ("customer_master", "email", ["PII.email"], [], [], ["raw_customers.email"], [], [], True),
        ("order_summary", "total", [], [], ["PII.email"], [], [], [], False),
        ("data_access_logs", "user_name", ["PII.name"], [], [], ["data_access_logs.user_name"], [], [], False),
    ], FINDINGS_DDL)
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)


def test_assess_privacy_follows_the_lineage_and_finds_inventory_gaps(spark):
    inventory = spark.createDataFrame([
        ("t1", "c1", "PII", "HIGH", "crm", True, True, 90, date(2026, 1, 1)),  # masked, says the inventory
        ("t1", "c2", "PII", "LOW", "crm", True, False, 90, date(2026, 1, 1)),  # not masked, says the inventory
        ("t2", "c6", "FINANCIAL", "MEDIUM", "payments", False, False, 730, date(2026, 1, 1)),
    ], INVENTORY_DDL)
    findings = spark.createDataFrame([
        ("t1", "c1", ["PII.email"], [], [], ["raw.email"], ["t9.c1"], [], True),
        ("t1", "c2", [], ["PII.email"], [], ["raw.email"], [], [], True),
        ("t3", "email", ["PII.email"], [], ["PII.name"], ["raw.email"], [], [], True),  # not inventoried
        ("t3", "email_hash", [], ["PII.email"], [], ["raw.email"], [], [], True),  # nor this, masked
        ("raw", "email", ["PII.email"], [], [], ["raw.email"], ["t1.c1", "t3.email"], ["t1.c2"], False),  # a source
        ("t4", "total", [], [], ["PII.email"], [], [], [], False),  # only influenced: no personal data in it
    ], FINDINGS_DDL)

    result = job.assess_privacy(inventory, rules_frame(spark), findings)

    expected = spark.createDataFrame([
        ("t1", "c1", "PII", "HIGH", "crm", "CCPA,GDPR", True, True, True, True, 90, 365, 0,
         ["not masked", "inventory says masked, lineage finds PII.email in the clear"], 9, "CRITICAL",
         "INVENTORIED", "CLEAR", False, ["PII.email"], [], [], ["raw.email"], ["t9.c1"], []),
        ("t1", "c2", "PII", "LOW", "crm", "CCPA,GDPR", True, True, False, True, 90, 365, 0,
         ["inventory says not masked, lineage finds PII.email masked"], 2, "LOW",
         "INVENTORIED", "MASKED", True, [], ["PII.email"], [], ["raw.email"], [], []),
        ("t2", "c6", "FINANCIAL", "MEDIUM", "payments", "SOX", False, False, False, False, 730, 2555, 0, [], 2,
         "LOW", "INVENTORIED", "NONE", None, [], [], [], [], [], []),
        ("t3", "email", "PII", None, None, "CCPA,GDPR", None, True, None, True, None, 365, 0,
         ["encryption status unknown", "not masked", "not in the inventory: lineage finds PII.email in the clear"],
         5, "MEDIUM", "UNINVENTORIED", "CLEAR", False, ["PII.email"], [], ["PII.name"], ["raw.email"], [], []),
        ("t3", "email_hash", "PII", None, None, "CCPA,GDPR", None, True, None, True, None, 365, 0,
         ["encryption status unknown", "not in the inventory: lineage finds PII.email masked"],
         4, "MEDIUM", "UNINVENTORIED", "MASKED", True, [], ["PII.email"], [], ["raw.email"], [], []),
    ], f"{ASSESSMENT_DDL}, {LINEAGE_COLUMNS_DDL}")
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)


def test_build_governance_dashboard_summarises_each_team(spark):
    inventory = spark.createDataFrame([
        ("t1", "c1", "PII", "HIGH", "crm", None, False, 90, None),
        ("t1", "c3", "PII", "LOW", "crm", True, False, 90, None),
        ("t2", "c2", "FINANCIAL", "MEDIUM", "payments", False, False, 90, None),
        ("t5", "c7", "PCI", "HIGH", "payments", True, True, 90, None),
        ("t6", "c8", "PII", "LOW", "marketing", False, True, 90, None),
    ], INVENTORY_DDL)
    accesses = spark.createDataFrame([
        ("crm", True, "u1"), ("crm", False, "u2"), ("crm", True, "u1"), ("payments", False, "u3"), (None, True, "u4"),
    ], "owner_team string, is_violation boolean, user_name string")
    lineage = spark.createDataFrame([
        ("raw", "t1", "j1", "CLEANSE", "alice", date(2025, 1, 1)),
        ("t1", "t2", "j2", "JOIN", "bob", date(2025, 1, 1)),
        ("t1", "t2", "j2", "JOIN", "chen", date(2025, 2, 1)),
        ("x", "y", "j3", "COPY", "dara", date(2025, 1, 1)),
    ], "source_table string, target_table string, job_name string, transformation_type string, "
       "documented_by string, documented_on date")

    result = job.build_governance_dashboard(inventory, accesses, lineage)

    expected = spark.createDataFrame([
        ("crm", 1, 2, 1, 1, 3, 2, 2, 2, 0, ""),
        ("payments", 2, 2, 1, 1, 1, 0, 1, 1, 1, "t5"),
        ("marketing", 1, 1, 0, 1, 0, 0, 0, 0, 1, "t6"),
    ], "owner_team string, tables_owned long, columns_owned long, high_sensitivity_columns long, "
       "unencrypted_columns long, access_count long, violation_count long, distinct_users long, "
       "documented_lineage_edges long, undocumented_table_count int, undocumented_tables string")
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)


def fingerprint(*fields: str) -> str:
    return hashlib.sha256("|".join(fields).encode()).hexdigest()


def test_build_audit_trail_orders_per_user_and_fingerprints(spark):
    accesses = spark.createDataFrame([
        ("AC1", "u1", "analyst", "t1", "c1", "READ", utc(2026, 1, 5, 10), "reporting", 5, "10.1.2.3", True,
         "PII", "HIGH", False, []),
        ("AC2", "u2", "support", "t2", "c2", "EXPORT", utc(2026, 1, 5, 9), None, 100, "10.9.8.7", False,
         "FINANCIAL", "LOW", True, ["purpose missing", "not approved"]),
        ("AC4", "u1", "analyst", "t3", "c3", "READ", utc(2026, 1, 5, 10, 30), "audit", 1, "10.1.2.4", True,
         None, None, True, ["uncatalogued column"]),
        ("AC3", "u1", "analyst", "t2", "c2", "READ", utc(2026, 1, 5, 10, 30), "audit", 1, "10.1.2.3", True,
         "FINANCIAL", "LOW", False, []),
    ], f"{LOGS_DDL}, data_category string, sensitivity string, is_violation boolean, violation_reasons array<string>")

    result = job.build_audit_trail(accesses)

    expected = spark.createDataFrame([
        (1, "AC2", "u2", "support", 1, utc(2026, 1, 5, 9), None, None, None, "t2", "c2", "EXPORT", None, 100,
         "10.9.x.x", False, "FINANCIAL", "LOW", True, ["purpose missing", "not approved"],
         fingerprint("AC2", "u2", "support", "t2", "c2", "EXPORT", "2026-01-05T09:00:00.000000", "", "100",
                     "10.9.8.7", "false")),
        (2, "AC1", "u1", "analyst", 1, utc(2026, 1, 5, 10), None, None, None, "t1", "c1", "READ", "reporting", 5,
         "10.1.x.x", True, "PII", "HIGH", False, [],
         fingerprint("AC1", "u1", "analyst", "t1", "c1", "READ", "2026-01-05T10:00:00.000000", "reporting", "5",
                     "10.1.2.3", "true")),
        (3, "AC3", "u1", "analyst", 2, utc(2026, 1, 5, 10, 30), utc(2026, 1, 5, 10), "t1", 1800, "t2", "c2",
         "READ", "audit", 1, "10.1.x.x", True, "FINANCIAL", "LOW", False, [],
         fingerprint("AC3", "u1", "analyst", "t2", "c2", "READ", "2026-01-05T10:30:00.000000", "audit", "1",
                     "10.1.2.3", "true")),
        (4, "AC4", "u1", "analyst", 3, utc(2026, 1, 5, 10, 30), utc(2026, 1, 5, 10, 30), "t2", 0, "t3", "c3",
         "READ", "audit", 1, "10.1.x.x", True, None, None, True, ["uncatalogued column"],
         fingerprint("AC4", "u1", "analyst", "t3", "c3", "READ", "2026-01-05T10:30:00.000000", "audit", "1",
                     "10.1.2.4", "true")),
    ], "sequence_number int, access_id string, user_name string, role string, user_sequence int, "
       "access_ts timestamp, previous_access_ts timestamp, previous_table_name string, seconds_since_previous long, "
       "table_name string, column_name string, action string, purpose string, rows_accessed long, "
       "client_network string, approved boolean, data_category string, sensitivity string, is_violation boolean, "
       "violation_reasons array<string>, event_fingerprint string")
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)


def _output(spark, catalog, table):
    return read_table(spark, catalog.output(table))


def test_execute_writes_one_audit_row_per_access(spark, pipeline_catalog, job_summary):
    summary = job_summary("compliance")
    assert summary.status == "ok"
    logs = read_table(spark, pipeline_catalog.input("data_access_logs"))
    inventory = read_table(spark, pipeline_catalog.input("sensitive_data_inventory"))

    audit = _output(spark, pipeline_catalog, "audit_trail")
    assert audit.dtypes == [
        ("sequence_number", "int"), ("access_id", "string"), ("user_name", "string"), ("role", "string"),
        ("user_sequence", "int"), ("access_ts", "timestamp"), ("previous_access_ts", "timestamp"),
        ("previous_table_name", "string"), ("seconds_since_previous", "bigint"), ("table_name", "string"),
        ("column_name", "string"), ("action", "string"), ("purpose", "string"), ("rows_accessed", "bigint"),
        ("client_network", "string"), ("approved", "boolean"), ("data_category", "string"),
        ("sensitivity", "string"), ("is_violation", "boolean"), ("violation_reasons", "array<string>"),
        ("event_fingerprint", "string"),
    ]
    n = logs.count()
    # Reconciliation: nothing is rejected, every access is one audit row.
    assert audit.count() == n
    assert audit.select("access_id").distinct().count() == n
    assert logs.join(audit, on="access_id", how="left_anti").count() == 0
    stats = audit.agg(F.min("sequence_number").alias("lo"), F.max("sequence_number").alias("hi"),
                      F.countDistinct("sequence_number").alias("distinct_seq"),
                      F.countDistinct("event_fingerprint").alias("distinct_fp")).first()
    assert (stats["lo"], stats["hi"], stats["distinct_seq"], stats["distinct_fp"]) == (1, n, n, n)
    assert audit.groupBy("user_name", "user_sequence").count().where("count > 1").count() == 0
    assert audit.where((F.col("user_sequence") == 1) != F.col("previous_access_ts").isNull()).count() == 0
    assert audit.where(F.col("is_violation") != (F.size("violation_reasons") > 0)).count() == 0
    no_purpose = logs.where(F.col("purpose").isNull()).count()
    assert no_purpose > 0
    assert audit.where(F.array_contains("violation_reasons", "purpose missing")).count() == no_purpose

    report = _output(spark, pipeline_catalog, "compliance_report")
    assert report.dtypes == [
        ("regulation", "string"), ("requirement_id", "string"), ("data_category", "string"), ("accesses", "bigint"),
        ("violations", "bigint"), ("role_violations", "bigint"), ("purpose_violations", "bigint"),
        ("violation_rate", "double"), ("users_with_violations", "bigint"), ("compliance_status", "string"),
    ]
    assert report.groupBy("regulation", "requirement_id").count().where("count > 1").count() == 0
    rows = {r["requirement_id"]: r for r in report.collect()}
    assert set(rows) == {"GDPR-32", "GDPR-5-1-e", "CCPA-1798-100", "PCI-3.4", "SOX-404", "POL-PUBLIC"}
    pii_columns = inventory.where("data_category = 'PII'").select("table_name", "column_name")
    pii_accesses = logs.join(pii_columns, on=["table_name", "column_name"], how="left_semi").count()
    assert rows["GDPR-32"]["accesses"] == rows["CCPA-1798-100"]["accesses"] == pii_accesses
    assert sum(r["accesses"] for r in rows.values()) == n + pii_accesses  # PII falls under two regulations

    _assert_the_privacy_assessment_follows_the_lineage(spark, pipeline_catalog, inventory)

    dashboard = _output(spark, pipeline_catalog, "governance_dashboard")
    assert dashboard.dtypes == [
        ("owner_team", "string"), ("tables_owned", "bigint"), ("columns_owned", "bigint"),
        ("high_sensitivity_columns", "bigint"), ("unencrypted_columns", "bigint"), ("access_count", "bigint"),
        ("violation_count", "bigint"), ("distinct_users", "bigint"), ("documented_lineage_edges", "bigint"),
        ("undocumented_table_count", "int"), ("undocumented_tables", "string"),
    ]
    teams = {r["owner_team"]: r for r in dashboard.collect()}
    assert len(teams) == dashboard.count() == inventory.select("owner_team").distinct().count()
    assert sum(r["access_count"] for r in teams.values()) == n  # every sample access hits an inventoried column
    assert sum(r["violation_count"] for r in teams.values()) == audit.where("is_violation").count()
    # documented lineage: what data quality measured (processed_transactions) and what the lake ingested
    assert teams["payments"]["undocumented_tables"] == "account_master,exchange_rates"
    assert teams["crm"]["undocumented_tables"] == "customer_master"
    assert teams["data-platform"]["documented_lineage_edges"] == 5  # every lake source -> raw_data_lake
    assert teams["marketing"]["documented_lineage_edges"] == 1  # social_media_feeds -> raw_data_lake


def _assert_the_privacy_assessment_follows_the_lineage(spark, catalog, inventory):
    """One row per inventoried column, one per column the captured lineage finds carrying a class the
    inventory does not list, and what the lineage says about each (the built-in capture's lineage)."""
    privacy = _output(spark, catalog, "data_privacy_assessment")
    assert [name for name, _ in privacy.dtypes] == [
        "table_name", "column_name", "data_category", "sensitivity", "owner_team", "regulations", "is_encrypted",
        "requires_encryption", "is_masked", "requires_masking", "retention_days", "max_retention_days",
        "retention_excess_days", "gaps", "risk_score", "risk_level", "inventory_status", "lineage_status",
        "masked_per_lineage", "lineage_classes", "lineage_masked_classes", "lineage_influenced_by",
        "lineage_sources", "flows_to_clear", "flows_to_masked"]
    assert dict(privacy.dtypes)["gaps"] == "array<string>" and dict(privacy.dtypes)["risk_score"] == "int"
    assert privacy.count() == privacy.select("table_name", "column_name").distinct().count()
    assert privacy.where(F.col("inventory_status") == job.INVENTORIED).count() == inventory.count()
    rows = {(r["table_name"], r["column_name"]): r for r in privacy.collect()}

    exported = spark.read.json(catalog.input("captured_data_classification").path)
    assert exported.count() > 0  # the step before the job wrote it, from the spooled events
    # the customers job hashes the e-mail: lineage says masked, as the inventory does
    email_hash = rows[("processed_customers", "email_hash")]
    assert (email_hash["lineage_status"], email_hash["masked_per_lineage"]) == ("MASKED", True)
    assert email_hash["lineage_masked_classes"] == ["PII.email"] and email_hash["is_masked"]
    assert email_hash["lineage_sources"] == ["raw_customers.email"]
    full_name = rows[("processed_customers", "full_name")]
    assert full_name["lineage_status"] == "CLEAR" and full_name["lineage_classes"] == ["PII.name"]
    assert rows[("processed_customers", "age")]["flows_to_clear"] == ["real_time_user_analytics.age"]
    # the e-mail's domain is cut from the e-mail in the clear, and the inventory does not list it
    unlisted = {key: r for key, r in rows.items() if r["inventory_status"] == job.UNINVENTORIED}
    domain = unlisted[("processed_customers", "email_domain")]
    assert (domain["data_category"], domain["lineage_classes"], domain["lineage_status"]) == ("PII", ["PII.email"],
                                                                                              "CLEAR")
    assert ("customer_master", "email_hash") not in unlisted
    assert unlisted[("rejects/raw_customers", "raw_record")]["lineage_classes"]  # a rejected row keeps all of it
    assert all(r["lineage_classes"] or r["lineage_masked_classes"] for r in unlisted.values())
    assert all(r["owner_team"] is None and any(g.startswith("not in the inventory") for g in r["gaps"])
               for r in unlisted.values())
    assert not any(table in ("audit_trail", "data_privacy_assessment") for table, _ in rows)
