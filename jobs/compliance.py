"""Compliance: check every data access against the sensitive-data inventory and the regulations.

Inputs: sensitive_data_inventory (one row per sensitive column: category, sensitivity, owner team,
encryption, masking, retention), data_access_logs (one row per access event),
regulatory_requirements (per regulation and data category: encryption/masking/retention rules and
comma-separated allowed roles and purposes), and the lineage the pipeline documents about itself:
data_lineage_summary (the data quality job: each table it measured, and the job that produced it)
and data_lineage_tracking (the data-lake ingestion job: each source it landed in the lake, reconciled
line by line), combined into data_lineage_metadata (source table -> target table edges); and the
lineage the pipeline captured: captured_data_classification, which `lineage-audit run` exports right
before this job (lineage_audit/privacy_export.py): one row per dataset, column, class (PII.email, ...)
and status (clear, masked, influenced), with the source column and the path of jobs it came through.

Each access is joined to the inventory on (table_name, column_name) -- a left join, since an access
to an uncatalogued column is itself a finding -- and to every requirement of its data category.
An access violates a requirement when its role or purpose is not allowed there (a missing purpose is
never allowed), and violates every requirement when it was not approved, EXPORTs or DELETEs HIGH
sensitivity data, or happens outside office hours (conf compliance, hours in the session time
zone, UTC) by a role other than service_account.

Outputs: compliance_report (per regulation and requirement: accesses, violations, rate, users,
status), data_privacy_assessment (per inventoried column, plus one UNINVENTORIED row per column the
lineage finds carrying a class the inventory does not list: controls against the strictest requirement
of its category; what lineage finds there in the clear, masked or influencing it, from which sources,
and the columns its data flows to; whether it is masked according to lineage, which wins over the
inventory's is_masked where lineage knows; gaps, including the inventory and lineage disagreeing; risk
score), governance_dashboard (per owner team) and
audit_trail (exactly one row per access event, in per-user order, with reasons and a fingerprint;
nothing is rejected, so rows in = rows out).
"""

from __future__ import annotations

import sys

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from lineage_audit.config import job_settings
from lineage_audit.job import JobRun

SERVICE_ROLE = "service_account"
RISKY_ACTIONS = ("EXPORT", "DELETE")
UNCATALOGUED = "UNCATALOGUED"
UNREGULATED = "UNREGULATED"
INVENTORIED = "INVENTORIED"
UNINVENTORIED = "UNINVENTORIED"
# What the step before this job exported from the captured lineage (lineage_audit/privacy_export.py):
# one row per (dataset, field, class, status clear/masked/influenced, source column and path).
CLASSIFICATION_DDL = (
    "namespace string, dataset string, field string, field_type string, data_class string, status string, "
    "source_namespace string, source_dataset string, source_field string, source_origin string, "
    "source_detail string, hops int, jobs array<string>, via array<struct<dataset:string,field:string>>, "
    "masked_by_job string, path string")
# A dataset's short name, the inventory's table name: its last path segment, without a file's extension.
SHORT_NAME = r"([^/]+?)(\.(csv|jsonl?|parquet|txt|orc|avro))?/*$"
# Violation rate up to which a requirement is "AT_RISK" rather than "NON_COMPLIANT".
AT_RISK_MAX_RATE = 0.05


def latest_inventory(inventory: DataFrame) -> DataFrame:
    """One inventory row per (table_name, column_name): the most recently reviewed entry wins."""
    newest_first = Window.partitionBy("table_name", "column_name").orderBy(
        F.col("last_reviewed").desc_nulls_last(), F.col("data_category"))
    ranked = inventory.withColumn("review_rank", F.row_number().over(newest_first))
    return ranked.where(F.col("review_rank") == 1).select(
        F.col("table_name").alias("table_name"),
        F.col("column_name").alias("column_name"),
        F.upper(F.trim("data_category")).alias("data_category"),
        F.upper(F.trim("sensitivity")).alias("sensitivity"),
        F.col("owner_team").alias("owner_team"),
        F.col("is_encrypted").alias("is_encrypted"),
        F.col("is_masked").alias("is_masked"),
        F.col("retention_days").alias("retention_days"),
        F.col("last_reviewed").alias("last_reviewed"),
    )


def _csv_list(column: str) -> Column:
    return F.split(F.regexp_replace(F.col(column), r"\s+", ""), ",")


def rules_by_category(requirements: DataFrame) -> DataFrame:
    """Per data category: its requirements (roles/purposes as arrays) and the strictest controls."""
    grouped = requirements.groupBy(F.upper(F.trim("data_category")).alias("data_category")).agg(
        F.array_sort(F.collect_list(F.struct(
            F.col("regulation").alias("regulation"),
            F.col("requirement_id").alias("requirement_id"),
            _csv_list("allowed_roles").alias("allowed_roles"),
            _csv_list("allowed_purposes").alias("allowed_purposes"),
        ))).alias("requirements"),
        F.array_sort(F.collect_set("regulation")).alias("regulations"),
        F.bool_or("requires_encryption").alias("requires_encryption"),
        F.bool_or("requires_masking").alias("requires_masking"),
        F.min("max_retention_days").alias("max_retention_days"),
    )
    return grouped.select(
        F.col("data_category").alias("data_category"),
        F.col("requirements").alias("requirements"),
        F.concat_ws(",", "regulations").alias("regulations"),
        F.col("requires_encryption").alias("requires_encryption"),
        F.col("requires_masking").alias("requires_masking"),
        F.col("max_retention_days").alias("max_retention_days"),
    )


def _access_reasons(office_hours_start: int, office_hours_end: int) -> Column:
    """Reasons that break every requirement of the accessed column, whatever the regulation."""
    hour = F.hour("access_ts")
    off_hours = (hour < office_hours_start) | (hour >= office_hours_end)
    return F.array_compact(F.array(
        F.when(~F.col("is_catalogued"), F.lit("uncatalogued column")),
        F.when(F.col("purpose").isNull(), F.lit("purpose missing")),
        F.when(~F.coalesce(F.col("approved"), F.lit(False)), F.lit("not approved")),
        F.when(F.col("action").isin(*RISKY_ACTIONS) & (F.col("sensitivity") == "HIGH"),
               F.concat(F.col("action"), F.lit(" of HIGH sensitivity data"))),
        F.when(off_hours & (F.coalesce(F.col("role"), F.lit("")) != SERVICE_ROLE), F.lit("outside office hours")),
    ))


def evaluate_accesses(logs: DataFrame, inventory: DataFrame, rules: DataFrame, *,
                      office_hours_start: int, office_hours_end: int) -> DataFrame:
    """One row per access with the result of every applicable requirement and all violation reasons.

    ``inventory`` must hold one row per column (see latest_inventory) and ``rules`` one row per
    category (see rules_by_category), so no access is duplicated by the joins.
    """
    catalogued = inventory.select("table_name", "column_name", "data_category", "sensitivity", "owner_team",
                                  F.lit(True).alias("in_inventory"))
    joined = (logs.join(catalogued, on=["table_name", "column_name"], how="left")
              .join(rules.select("data_category", "requirements"), on="data_category", how="left")
              .withColumn("is_catalogued", F.coalesce(F.col("in_inventory"), F.lit(False)))
              .withColumn("access_reasons", _access_reasons(office_hours_start, office_hours_end)))
    checks = F.transform("requirements", lambda r: F.struct(
        r["regulation"].alias("regulation"),
        r["requirement_id"].alias("requirement_id"),
        F.coalesce(F.array_contains(r["allowed_roles"], F.col("role")), F.lit(False)).alias("role_allowed"),
        F.coalesce(F.array_contains(r["allowed_purposes"], F.col("purpose")), F.lit(False)).alias("purpose_allowed"),
    ))
    with_checks = joined.withColumn("checks", checks)
    results = F.transform("checks", lambda c: F.struct(
        c["regulation"].alias("regulation"), c["requirement_id"].alias("requirement_id"),
        c["role_allowed"].alias("role_allowed"), c["purpose_allowed"].alias("purpose_allowed"),
        (~c["role_allowed"] | ~c["purpose_allowed"] | (F.size("access_reasons") > 0)).alias("violated"),
    ))
    requirement_reasons = F.flatten(F.transform("checks", lambda c: F.array_compact(F.array(
        F.when(~c["role_allowed"], F.concat(F.lit("role not allowed by "), c["requirement_id"])),
        # A missing purpose is reported once, among the access reasons.
        F.when(~c["purpose_allowed"] & F.col("purpose").isNotNull(),
               F.concat(F.lit("purpose not allowed by "), c["requirement_id"])),
    ))))
    reasons = F.concat("access_reasons", F.coalesce(requirement_reasons, F.array().cast("array<string>")))
    return with_checks.select(
        *[F.col(c).alias(c) for c in logs.columns],
        F.col("data_category").alias("data_category"),
        F.col("sensitivity").alias("sensitivity"),
        F.col("owner_team").alias("owner_team"),
        F.col("is_catalogued").alias("is_catalogued"),
        results.alias("requirement_results"),
        reasons.alias("violation_reasons"),
        (F.size(reasons) > 0).alias("is_violation"),
    )


def build_compliance_report(accesses: DataFrame, *, at_risk_max_rate: float = AT_RISK_MAX_RATE) -> DataFrame:
    """Per regulation and requirement (plus UNCATALOGUED / UNREGULATED accesses): violation rates."""
    per_requirement = accesses.select(
        "user_name", "data_category", "is_catalogued", "is_violation",
        F.explode_outer("requirement_results").alias("req"),
    )
    no_rule = F.when(F.col("is_catalogued"), F.lit(UNREGULATED)).otherwise(F.lit(UNCATALOGUED))
    violated = F.coalesce(F.col("req.violated"), F.col("is_violation"))
    grouped = per_requirement.groupBy(
        F.coalesce(F.col("req.regulation"), no_rule).alias("regulation"),
        F.coalesce(F.col("req.requirement_id"), no_rule).alias("requirement_id"),
        F.col("data_category"),
    ).agg(
        F.count("*").alias("accesses"),
        F.count(F.when(violated, True)).alias("violations"),
        F.count(F.when(~F.col("req.role_allowed"), True)).alias("role_violations"),
        F.count(F.when(~F.col("req.purpose_allowed"), True)).alias("purpose_violations"),
        F.countDistinct(F.when(violated, F.col("user_name"))).alias("users_with_violations"),
    )
    rate = F.round(F.col("violations") / F.col("accesses"), 4)
    return grouped.select(
        F.col("regulation").alias("regulation"),
        F.col("requirement_id").alias("requirement_id"),
        F.col("data_category").alias("data_category"),
        F.col("accesses").alias("accesses"),
        F.col("violations").alias("violations"),
        F.col("role_violations").alias("role_violations"),
        F.col("purpose_violations").alias("purpose_violations"),
        rate.alias("violation_rate"),
        F.col("users_with_violations").alias("users_with_violations"),
        F.when(F.col("violations") == 0, F.lit("COMPLIANT"))
        .when(rate <= at_risk_max_rate, F.lit("AT_RISK"))
        .otherwise(F.lit("NON_COMPLIANT")).alias("compliance_status"),
    )


def _short_name(dataset: Column, rejects_dir: str | None) -> Column:
    """The inventory's name for a dataset; a quarantine table is ``rejects/<source>``, not its source's name."""
    short = F.regexp_extract(dataset, SHORT_NAME, 1)
    if not rejects_dir:
        return short
    quarantined = dataset.startswith(rejects_dir.rstrip("/") + "/")
    return F.when(quarantined, F.concat(F.lit("rejects/"), short)).otherwise(short)


def _column_ref(table: Column, column: Column) -> Column:
    return F.concat(table, F.lit("."), column)


def _classes(status: str) -> Column:
    return F.array_sort(F.collect_set(F.when(F.col("status") == status, F.col("data_class"))))


def lineage_findings(classified: DataFrame, exclude_tables: tuple[str, ...] = (),
                     rejects_dir: str | None = None) -> DataFrame:
    """Per (table_name, column_name) the captured lineage classifies: what it carries and where it flows.

    Datasets are named by their short name (``rejects/<source>`` in ``rejects_dir``).
    ``lineage_classes``: the classes it holds in the clear; ``lineage_masked_classes``: those that
    reached it only through a masking transformation;
    ``lineage_influenced_by``: those of columns it was filtered, joined or grouped on. ``flows_to_clear``
    and ``flows_to_masked``: the columns downstream whose values come from this one (in the clear, or
    masked on the way). ``is_carrier``: written by a job and holding a class (in the clear or masked).
    Columns of ``exclude_tables`` (the compliance job's own outputs, whose lineage is that of an earlier
    run of it) are left out, so a rerun assesses what a first run does.
    """
    named = classified.select(
        "data_class", "status", "hops", "via",
        _short_name(F.col("dataset"), rejects_dir).alias("table_name"), F.col("field").alias("column_name"),
        _column_ref(_short_name(F.col("source_dataset"), rejects_dir), F.col("source_field")).alias("source_column"),
    ).where(~F.col("table_name").isin(*exclude_tables))
    carrying = F.col("status").isin("clear", "masked")
    per_column = named.groupBy("table_name", "column_name").agg(
        _classes("clear").alias("lineage_classes"),
        _classes("masked").alias("lineage_masked_classes"),
        _classes("influenced").alias("lineage_influenced_by"),
        F.array_sort(F.collect_set(F.when(carrying, F.col("source_column")))).alias("lineage_sources"),
        F.bool_or(carrying & (F.col("hops") > 0)).alias("is_carrier"),
    )
    # every column a value passed through (its source first) flows to the column the value reached
    passed = named.where(carrying).select(
        F.explode("via").alias("step"), "status",
        _column_ref(F.col("table_name"), F.col("column_name")).alias("target"))
    flows = passed.groupBy(
        _short_name(F.col("step.dataset"), rejects_dir).alias("table_name"), F.col("step.field").alias("column_name"),
    ).agg(
        F.array_sort(F.collect_set(F.when(F.col("status") == "clear", F.col("target")))).alias("flows_to_clear"),
        F.array_sort(F.collect_set(F.when(F.col("status") == "masked", F.col("target")))).alias("flows_to_masked"),
    ).where(~F.col("table_name").isin(*exclude_tables))
    empty = F.array().cast("array<string>")
    joined = per_column.join(flows, on=["table_name", "column_name"], how="full")
    return joined.select(
        "table_name", "column_name",
        *[F.coalesce(name, empty).alias(name) for name in (
            "lineage_classes", "lineage_masked_classes", "lineage_influenced_by", "lineage_sources",
            "flows_to_clear", "flows_to_masked")],
        F.coalesce("is_carrier", F.lit(False)).alias("is_carrier"),
    )


def _with_uninventoried(inventory: DataFrame, findings: DataFrame) -> DataFrame:
    """The inventory with what lineage finds in each column, plus a row for each column lineage finds
    carrying a class that the inventory does not list (its category: the first class's top level)."""
    listed = inventory.withColumn("inventory_status", F.lit(INVENTORIED)).join(
        findings.drop("is_carrier"), on=["table_name", "column_name"], how="left")
    missing = findings.where("is_carrier").join(inventory, on=["table_name", "column_name"], how="left_anti")
    first_class = F.coalesce(F.try_element_at("lineage_classes", F.lit(1)),
                             F.try_element_at("lineage_masked_classes", F.lit(1)))
    unlisted = missing.select(
        "table_name", "column_name",
        F.upper(F.substring_index(first_class, ".", 1)).alias("data_category"),
        *[F.lit(None).cast(t).alias(c) for c, t in (
            ("sensitivity", "string"), ("owner_team", "string"), ("is_encrypted", "boolean"),
            ("is_masked", "boolean"), ("retention_days", "int"), ("last_reviewed", "date"))],
        F.lit(UNINVENTORIED).alias("inventory_status"),
        "lineage_classes", "lineage_masked_classes", "lineage_influenced_by", "lineage_sources",
        "flows_to_clear", "flows_to_masked",
    )
    return listed.unionByName(unlisted)


def _lineage_gaps(masked_per_lineage: Column) -> Column:
    """Where the inventory and the captured lineage disagree."""
    clear = F.concat_ws(",", "lineage_classes")
    return F.array_compact(F.array(
        F.when(F.col("inventory_status") == UNINVENTORIED, F.concat(
            F.lit("not in the inventory: lineage finds "),
            F.concat_ws(",", F.array_union("lineage_classes", "lineage_masked_classes")),
            F.when(masked_per_lineage, F.lit(" masked")).otherwise(F.lit(" in the clear")))),
        F.when(F.col("is_masked") & ~masked_per_lineage,
               F.concat(F.lit("inventory says masked, lineage finds "), clear, F.lit(" in the clear"))),
        F.when(~F.col("is_masked") & masked_per_lineage,
               F.concat(F.lit("inventory says not masked, lineage finds "),
                        F.concat_ws(",", "lineage_masked_classes"), F.lit(" masked"))),
    ))


def assess_privacy(inventory: DataFrame, rules: DataFrame, findings: DataFrame) -> DataFrame:
    """Per inventoried column, and per column lineage finds carrying a class the inventory does not list:
    its controls against the strictest requirement of its category, and what lineage says (``findings``,
    see lineage_findings).

    Where lineage classifies a column, it decides whether the column is masked (``masked_per_lineage``:
    false when it holds a class in the clear, true when only masked); the inventory's ``is_masked`` is
    used where lineage says nothing. A disagreement between the two is a gap of its own.
    """
    joined = _with_uninventoried(inventory, findings).join(rules.drop("requirements"), on="data_category",
                                                           how="left")
    masked_per_lineage = (F.when(F.size("lineage_classes") > 0, F.lit(False))
                          .when(F.size("lineage_masked_classes") > 0, F.lit(True)))
    masked = F.coalesce(masked_per_lineage, F.col("is_masked"), F.lit(False))
    encryption_gap = F.coalesce("requires_encryption", F.lit(False)) & ~F.coalesce("is_encrypted", F.lit(False))
    masking_gap = F.coalesce("requires_masking", F.lit(False)) & ~masked
    retention_gap = F.coalesce(F.col("retention_days") > F.col("max_retention_days"), F.lit(False))
    lineage_gaps = _lineage_gaps(masked_per_lineage)
    gaps = F.concat(F.array_compact(F.array(
        F.when(encryption_gap, F.when(F.col("is_encrypted").isNull(), F.lit("encryption status unknown"))
               .otherwise(F.lit("not encrypted"))),
        F.when(masking_gap, F.lit("not masked")),
        F.when(retention_gap, F.format_string("retention %d days exceeds %d",
                                              F.col("retention_days"), F.col("max_retention_days"))),
    )), lineage_gaps)
    weight = (F.when(F.col("sensitivity") == "HIGH", 3).when(F.col("sensitivity") == "MEDIUM", 2).otherwise(1))
    score = weight * (1 + 2 * encryption_gap.cast("int") + masking_gap.cast("int") + retention_gap.cast("int")
                      + F.least(F.size(lineage_gaps), F.lit(1)))
    lineage_status = (F.when(F.size("lineage_classes") > 0, F.lit("CLEAR"))
                      .when(F.size("lineage_masked_classes") > 0, F.lit("MASKED"))
                      .when(F.size("lineage_influenced_by") > 0, F.lit("INFLUENCED")).otherwise(F.lit("NONE")))
    return joined.select(
        "table_name", "column_name", "data_category", "sensitivity", "owner_team",
        F.coalesce(F.col("regulations"), F.lit(UNREGULATED)).alias("regulations"),
        F.col("is_encrypted").alias("is_encrypted"),
        F.coalesce("requires_encryption", F.lit(False)).alias("requires_encryption"),
        F.col("is_masked").alias("is_masked"),
        F.coalesce("requires_masking", F.lit(False)).alias("requires_masking"),
        F.col("retention_days").alias("retention_days"),
        F.col("max_retention_days").alias("max_retention_days"),
        F.greatest(F.col("retention_days") - F.col("max_retention_days"), F.lit(0)).alias("retention_excess_days"),
        gaps.alias("gaps"),
        score.alias("risk_score"),
        F.when(score >= 9, "CRITICAL").when(score >= 6, "HIGH").when(score >= 3, "MEDIUM").otherwise("LOW")
        .alias("risk_level"),
        F.col("inventory_status").alias("inventory_status"),
        lineage_status.alias("lineage_status"),
        masked_per_lineage.alias("masked_per_lineage"),
        *[F.coalesce(c, F.array().cast("array<string>")).alias(c) for c in (
            "lineage_classes", "lineage_masked_classes", "lineage_influenced_by", "lineage_sources",
            "flows_to_clear", "flows_to_masked")],
    )


def data_lineage_metadata(summary: DataFrame, tracking: DataFrame) -> DataFrame:
    """Documented lineage edges (source_table, target_table, job_name, transformation_type).

    Every table the data quality job measured feeds data_quality_report (PROFILE); every source the
    lake ingestion landed feeds its target table (INGEST).
    """
    profiled = summary.select(
        F.col("table_name").alias("source_table"),
        F.lit("data_quality_report").alias("target_table"),
        F.lit("data_quality").alias("job_name"),
        F.lit("PROFILE").alias("transformation_type"),
    )
    ingested = tracking.select(
        F.col("input_table").alias("source_table"),
        F.col("target_table").alias("target_table"),
        F.lit("data_lake_ingestion").alias("job_name"),
        F.lit("INGEST").alias("transformation_type"),
    )
    return profiled.unionByName(ingested)


def build_governance_dashboard(inventory: DataFrame, accesses: DataFrame, lineage: DataFrame) -> DataFrame:
    """Per owner team: what it owns, how it is accessed, and how much of it has documented lineage."""
    owned = inventory.groupBy("owner_team").agg(
        F.countDistinct("table_name").alias("tables_owned"),
        F.count("*").alias("columns_owned"),
        F.count(F.when(F.col("sensitivity") == "HIGH", True)).alias("high_sensitivity_columns"),
        F.count(F.when(~F.coalesce("is_encrypted", F.lit(False)), True)).alias("unencrypted_columns"),
    )
    usage = accesses.where(F.col("owner_team").isNotNull()).groupBy("owner_team").agg(
        F.count("*").alias("access_count"),
        F.count(F.when(F.col("is_violation"), True)).alias("violation_count"),
        F.countDistinct("user_name").alias("distinct_users"),
    )
    # Each documented edge touches two tables: its source and its target.
    endpoints = lineage.select(
        F.concat_ws(" -> ", "source_table", "target_table").alias("edge"),
        F.explode(F.array("source_table", "target_table")).alias("table_name"),
    )
    team_tables = inventory.select("owner_team", "table_name").distinct()
    documented = team_tables.join(endpoints, on="table_name", how="left").groupBy("owner_team").agg(
        F.countDistinct("edge").alias("documented_lineage_edges"),
        F.array_sort(F.collect_set(F.when(F.col("edge").isNull(), F.col("table_name")))).alias("undocumented"),
    )
    joined = owned.join(usage, on="owner_team", how="left").join(documented, on="owner_team", how="left")
    return joined.select(
        F.col("owner_team").alias("owner_team"),
        F.col("tables_owned").alias("tables_owned"),
        F.col("columns_owned").alias("columns_owned"),
        F.col("high_sensitivity_columns").alias("high_sensitivity_columns"),
        F.col("unencrypted_columns").alias("unencrypted_columns"),
        F.coalesce("access_count", F.lit(0)).alias("access_count"),
        F.coalesce("violation_count", F.lit(0)).alias("violation_count"),
        F.coalesce("distinct_users", F.lit(0)).alias("distinct_users"),
        F.coalesce("documented_lineage_edges", F.lit(0)).alias("documented_lineage_edges"),
        F.size("undocumented").alias("undocumented_table_count"),
        F.concat_ws(",", "undocumented").alias("undocumented_tables"),
    )


def build_audit_trail(accesses: DataFrame) -> DataFrame:
    """Exactly one row per access: global sequence, per-user order with the previous access, a fingerprint."""
    by_user = Window.partitionBy("user_name").orderBy("access_ts", "access_id")
    # A single global sequence needs one ordered partition; the log is small enough for that.
    overall = Window.orderBy("access_ts", "access_id")
    previous_ts = F.lag("access_ts").over(by_user)
    fingerprint = F.sha2(F.concat_ws(
        "|", "access_id", "user_name", "role", "table_name", "column_name", "action",
        F.date_format("access_ts", "yyyy-MM-dd'T'HH:mm:ss.SSSSSS"), F.coalesce("purpose", F.lit("")),
        F.col("rows_accessed").cast("string"), "client_ip", F.col("approved").cast("string"),
    ), 256)
    return accesses.select(
        F.row_number().over(overall).alias("sequence_number"),
        F.col("access_id").alias("access_id"),
        F.col("user_name").alias("user_name"),
        F.col("role").alias("role"),
        F.row_number().over(by_user).alias("user_sequence"),
        F.col("access_ts").alias("access_ts"),
        previous_ts.alias("previous_access_ts"),
        F.lag("table_name").over(by_user).alias("previous_table_name"),
        (F.unix_timestamp("access_ts") - F.unix_timestamp(previous_ts)).alias("seconds_since_previous"),
        F.col("table_name").alias("table_name"),
        F.col("column_name").alias("column_name"),
        F.col("action").alias("action"),
        F.col("purpose").alias("purpose"),
        F.col("rows_accessed").alias("rows_accessed"),
        # The client IP is itself inventoried PII: keep only the network part.
        F.concat(F.substring_index("client_ip", ".", 2), F.lit(".x.x")).alias("client_network"),
        F.col("approved").alias("approved"),
        F.col("data_category").alias("data_category"),
        F.col("sensitivity").alias("sensitivity"),
        F.col("is_violation").alias("is_violation"),
        F.col("violation_reasons").alias("violation_reasons"),
        fingerprint.alias("event_fingerprint"),
    )


def execute(run: JobRun) -> None:
    settings = job_settings("compliance")
    inventory = run.read("sensitive_data_inventory").transform(latest_inventory)
    logs = run.read("data_access_logs")
    rules = run.read("regulatory_requirements").transform(rules_by_category)
    lineage = data_lineage_metadata(run.read("data_lineage_summary"), run.read("data_lineage_tracking"))
    own_outputs = tuple(name for name, spec in run.catalog.outputs.items() if spec.job == "compliance")
    findings = lineage_findings(run.read("captured_data_classification", StructType.fromDDL(CLASSIFICATION_DDL)),
                                exclude_tables=own_outputs, rejects_dir=run.catalog.rejects_dir)

    accesses = evaluate_accesses(
        logs, inventory, rules,
        office_hours_start=int(settings["office_hours_start"]),
        office_hours_end=int(settings["office_hours_end"]),
    ).cache()  # feeds three outputs: evaluate the joins and rules once
    run.write("compliance_report", build_compliance_report(
        accesses, at_risk_max_rate=float(settings["at_risk_max_violation_rate"])))
    run.write("data_privacy_assessment", assess_privacy(inventory, rules, findings))
    run.write("governance_dashboard", build_governance_dashboard(inventory, accesses, lineage))
    run.write("audit_trail", accesses.transform(build_audit_trail))


def main() -> int:
    with JobRun("compliance") as run:
        execute(run)
    return run.exit_code


if __name__ == "__main__":
    sys.exit(main())
