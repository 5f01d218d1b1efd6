"""Compliance: the expected column lineage of every column the job writes (jobs/compliance.py)."""

from __future__ import annotations

from tests.lineage.harness import AGG, COUNT, ID, MASKED, TR, I

INVENTORY, LOGS, RULES = ("sensitive_data_inventory", "data_access_logs", "regulatory_requirements")
# The documented lineage edges (data_lineage_metadata) are built from what two upstream jobs publish:
# each table data quality measured -> data_quality_report (its table_name, with a literal target), and each
# source the lake ingestion landed -> its target table (input_table, target_table).
EDGE_ENDPOINTS = (("data_lineage_summary", "table_name"), ("data_lineage_tracking", "input_table"),
                  ("data_lineage_tracking", "target_table"))
# A condition inside count(when(cond, True)): INDIRECT wins along the path, the count's masking carries over.
COUNTED = I("CONDITIONAL") + "+masked"

# Every output reads the latest inventory entry per column (row_number over table_name, column_name by
# last_reviewed, data_category, kept where it is 1); the accesses also join it on the accessed column, then
# the rules (grouped by category) on the category.
LATEST_INVENTORY = {(INVENTORY, f): {I("FILTER")} for f in ("table_name", "column_name", "last_reviewed",
                                                             "data_category")}
ACCESS_JOINS = {
    **LATEST_INVENTORY,
    (INVENTORY, "table_name"): {I("FILTER"), I("JOIN")},
    (INVENTORY, "column_name"): {I("FILTER"), I("JOIN")},
    (INVENTORY, "data_category"): {I("FILTER"), I("JOIN")},
    (LOGS, "table_name"): {I("JOIN")},
    (LOGS, "column_name"): {I("JOIN")},
    (RULES, "data_category"): {I("GROUP_BY"), I("JOIN")},
}
# The requirement checks. Per access, the job builds an array of structs per requirement (transform over the
# category's collect_list of requirement structs: regulation, requirement_id, role_allowed = role in
# allowed_roles, purpose_allowed, violated), derives the reasons from it, and the report explodes it again.
# Capture, like the official listener, tracks a struct as one value: reading one of its fields depends on
# everything the struct was built from. So every column that reads those structs depends on the same ten
# fields: the requirement's four (collected: AGG), the access's role, purpose and action (values in the
# structs and the reasons' text: TR), and the conditions of the access checks (CASE WHENs on purpose,
# approved, action and sensitivity, the hour of access_ts, the role).
ACCESS_CHECKS = {
    (LOGS, "role"): {TR, I("CONDITIONAL")},
    (LOGS, "action"): {TR, I("CONDITIONAL")},
    (LOGS, "purpose"): {TR, I("CONDITIONAL")},
    (LOGS, "access_ts"): {I("CONDITIONAL")},
    (LOGS, "approved"): {I("CONDITIONAL")},
    (INVENTORY, "sensitivity"): {I("CONDITIONAL")},
}
REQUIREMENT_FIELDS = ("regulation", "requirement_id", "allowed_roles", "allowed_purposes")
REQUIREMENT_STRUCTS = {**ACCESS_CHECKS, **{(RULES, f): {AGG} for f in REQUIREMENT_FIELDS}}
# coalesce(<a field of the structs>, ...): a coalesce's arguments also decide which one is the value
# (INDIRECT CONDITIONAL, as the official listener reports them); the checks' fields already have it.
COALESCED_STRUCTS = {**ACCESS_CHECKS, **{(RULES, f): {AGG, I("CONDITIONAL")} for f in REQUIREMENT_FIELDS}}
# the reasons: concat(access reasons, coalesce(requirement reasons, [])); is_violation: their size
REASONS = COALESCED_STRUCTS
# count(when(<a field of the structs>, True)): only the condition reads them, and the count masks it.
VIOLATED = {field: {COUNTED} for field in REQUIREMENT_STRUCTS}
FINGERPRINTED = ("access_id", "user_name", "role", "table_name", "column_name", "action", "access_ts", "purpose",
                 "rows_accessed", "client_ip", "approved")
RISK_INPUTS = ((INVENTORY, "sensitivity"), (RULES, "requires_encryption"), (INVENTORY, "is_encrypted"),
               (RULES, "requires_masking"), (INVENTORY, "is_masked"), (INVENTORY, "retention_days"),
               (RULES, "max_retention_days"))
BY_USER = {(LOGS, "user_name"): {I("WINDOW")}, (LOGS, "access_ts"): {I("WINDOW")}, (LOGS, "access_id"): {I("WINDOW")}}
# What lineage finds per column (lineage_findings): the export's rows grouped per column (its short name,
# regexp_extract of the dataset, and the field), classes collected where the status is one of clear/masked/
# influenced; the per-column findings full-joined to the flows (the columns each value passed through: `via`),
# so the key columns coalesce both sides. Every lineage column is decided by the status it was collected at.
CLASSIFIED = "captured_data_classification"
BY_STATUS = {(CLASSIFIED, "status"): {I("CONDITIONAL")}}
COLLECTED_CLASSES = {(CLASSIFIED, "data_class"): {AGG, I("CONDITIONAL")}, **BY_STATUS}
ON_CLASSES = {(CLASSIFIED, "data_class"): {I("CONDITIONAL")}, **BY_STATUS}
FOUND_COLUMNS = {(CLASSIFIED, "dataset"): {AGG, I("CONDITIONAL")}, (CLASSIFIED, "field"): {AGG, I("CONDITIONAL")},
                 **BY_STATUS}

EXPECTED = {
    "compliance_report": {
        "fields": {
            # coalesce(req.regulation, UNREGULATED/UNCATALOGUED): is_catalogued is a literal from the left join;
            # req is one exploded requirement struct (see REQUIREMENT_STRUCTS)
            "regulation": COALESCED_STRUCTS,
            "requirement_id": COALESCED_STRUCTS,
            "data_category": {(INVENTORY, "data_category"): {TR}},  # upper(trim())
            "accesses": {},  # count(*)
            "violations": VIOLATED,
            "role_violations": VIOLATED,  # count(when(NOT req.role_allowed))
            "purpose_violations": VIOLATED,
            "violation_rate": VIOLATED,
            "users_with_violations": {(LOGS, "user_name"): {COUNT}, **VIOLATED},
            "compliance_status": VIOLATED,
        },
        "dataset": {
            **ACCESS_JOINS,
            # grouped by regulation, requirement_id (struct fields: everything the structs hold) and category
            **{field: {I("GROUP_BY")} for field in REQUIREMENT_STRUCTS},
            (INVENTORY, "data_category"): {I("FILTER"), I("JOIN"), I("GROUP_BY")},
            (RULES, "data_category"): {I("GROUP_BY"), I("JOIN")},
        },
    },
    "data_privacy_assessment": {
        "fields": {
            # the inventory's, and (UNINVENTORIED rows) the findings' key: coalesced over the full join
            "table_name": {(INVENTORY, "table_name"): {ID}, (CLASSIFIED, "dataset"): {TR, I("CONDITIONAL")},
                           (CLASSIFIED, "via"): {TR, I("CONDITIONAL")}},
            "column_name": {(INVENTORY, "column_name"): {ID}, (CLASSIFIED, "field"): {TR, I("CONDITIONAL")},
                            (CLASSIFIED, "via"): {TR, I("CONDITIONAL")}},
            # the left join's USING key: the inventory's, or the top level of the first class lineage finds
            "data_category": {(INVENTORY, "data_category"): {TR}, **COLLECTED_CLASSES},
            "sensitivity": {(INVENTORY, "sensitivity"): {TR}},
            "owner_team": {(INVENTORY, "owner_team"): {ID}},
            "regulations": {(RULES, "regulation"): {AGG, I("CONDITIONAL")}},  # coalesce(regulations, ...)
            "is_encrypted": {(INVENTORY, "is_encrypted"): {ID}},
            "requires_encryption": {(RULES, "requires_encryption"): {AGG, I("CONDITIONAL")}},  # coalesce(bool_or)
            "is_masked": {(INVENTORY, "is_masked"): {ID}},
            "requires_masking": {(RULES, "requires_masking"): {AGG, I("CONDITIONAL")}},
            "retention_days": {(INVENTORY, "retention_days"): {ID}},
            "max_retention_days": {(RULES, "max_retention_days"): {AGG}},
            "retention_excess_days": {(INVENTORY, "retention_days"): {TR}, (RULES, "max_retention_days"): {AGG}},
            # CASE WHEN on each gap; the retention text formats both day counts
            "gaps": {(RULES, "requires_encryption"): {I("CONDITIONAL")}, (INVENTORY, "is_encrypted"): {I("CONDITIONAL")},
                     (RULES, "requires_masking"): {I("CONDITIONAL")}, (INVENTORY, "is_masked"): {I("CONDITIONAL")},
                     (INVENTORY, "retention_days"): {TR, I("CONDITIONAL")},
                     (RULES, "max_retention_days"): {AGG, I("CONDITIONAL")},
                     # masked according to lineage, and the lineage gaps: their texts name the classes
                     **COLLECTED_CLASSES},
            # weight (CASE WHEN on sensitivity) * (1 + the gaps cast to int); each gap a coalesce(..., false)
            "risk_score": {(INVENTORY, "sensitivity"): {I("CONDITIONAL")},
                           (RULES, "requires_encryption"): {AGG, I("CONDITIONAL")},
                           (INVENTORY, "is_encrypted"): {TR, I("CONDITIONAL")},
                           (RULES, "requires_masking"): {AGG, I("CONDITIONAL")},
                           (INVENTORY, "is_masked"): {TR, I("CONDITIONAL")},
                           (INVENTORY, "retention_days"): {TR, I("CONDITIONAL")},
                           (RULES, "max_retention_days"): {AGG, I("CONDITIONAL")},
                           **COLLECTED_CLASSES},  # + the lineage gaps' count, capped at 1
            "risk_level": {**{field: {I("CONDITIONAL")} for field in RISK_INPUTS}, **ON_CLASSES},  # CASE WHEN
            "inventory_status": {},  # a literal on each side of the union
            "lineage_status": ON_CLASSES,  # CASE WHEN on the sizes of the collected classes
            "masked_per_lineage": ON_CLASSES,
            "lineage_classes": COLLECTED_CLASSES,
            "lineage_masked_classes": COLLECTED_CLASSES,
            "lineage_influenced_by": COLLECTED_CLASSES,
            # collect_set(when(carrying, source table.field))
            "lineage_sources": {(CLASSIFIED, "source_dataset"): {AGG, I("CONDITIONAL")},
                                (CLASSIFIED, "source_field"): {AGG, I("CONDITIONAL")}, **BY_STATUS},
            # collect_set(when(status, the column reached)), grouped by each column on the way
            "flows_to_clear": FOUND_COLUMNS,
            "flows_to_masked": FOUND_COLUMNS,
        },
        "dataset": {
            **LATEST_INVENTORY,
            # the inventory left-joined to the findings; the findings of carriers not in it (left anti join)
            (INVENTORY, "table_name"): {I("FILTER"), I("JOIN")},
            (INVENTORY, "column_name"): {I("FILTER"), I("JOIN")},
            (INVENTORY, "data_category"): {I("FILTER"), I("JOIN")},
            (RULES, "data_category"): {I("GROUP_BY"), I("JOIN")},
            # grouped per column (and per column on the way), the job's own outputs filtered out, joined on
            # the column; the carriers kept by their status and hops; the rules joined on the class's category
            (CLASSIFIED, "dataset"): {I("FILTER"), I("GROUP_BY"), I("JOIN")},
            (CLASSIFIED, "via"): {I("FILTER"), I("GROUP_BY"), I("JOIN")},
            (CLASSIFIED, "field"): {I("GROUP_BY"), I("JOIN")},
            (CLASSIFIED, "status"): {I("FILTER"), I("JOIN")},
            (CLASSIFIED, "hops"): {I("FILTER")},
            (CLASSIFIED, "data_class"): {I("JOIN")},
        },
    },
    "governance_dashboard": {
        "fields": {
            "owner_team": {(INVENTORY, "owner_team"): {ID}},
            "tables_owned": {(INVENTORY, "table_name"): {COUNT}},  # countDistinct
            "columns_owned": {},  # count(*)
            "high_sensitivity_columns": {(INVENTORY, "sensitivity"): {COUNTED}},
            "unencrypted_columns": {(INVENTORY, "is_encrypted"): {COUNTED}},
            "access_count": {},  # count(*)
            "violation_count": VIOLATED,  # count(when(is_violation)); is_violation = size(violation_reasons) > 0
            # coalesce(count, 0) after the left joins: the counted fields decide it too (masked, as counted)
            "distinct_users": {(LOGS, "user_name"): {COUNT, COUNTED}},
            "documented_lineage_edges": {field: {COUNT, COUNTED} for field in EDGE_ENDPOINTS},
            # collect_set(when(edge IS NULL, table_name)): the team's tables no documented edge touches
            "undocumented_table_count": {(INVENTORY, "table_name"): {AGG},
                                         **{field: {I("CONDITIONAL")} for field in EDGE_ENDPOINTS}},
            "undocumented_tables": {(INVENTORY, "table_name"): {AGG},
                                    **{field: {I("CONDITIONAL")} for field in EDGE_ENDPOINTS}},
        },
        "dataset": {
            **ACCESS_JOINS,
            # grouped per team three times, the accesses kept where owner_team IS NOT NULL, the three joined on it
            (INVENTORY, "owner_team"): {I("FILTER"), I("GROUP_BY"), I("JOIN")},
            # the team's tables (distinct) left-joined to both endpoints of each documented edge
            (INVENTORY, "table_name"): {I("FILTER"), I("GROUP_BY"), I("JOIN")},
            **{field: {I("JOIN")} for field in EDGE_ENDPOINTS},
        },
    },
    # One row per access: windows per user and over the whole log, both ordered by access_ts, access_id.
    "audit_trail": {
        "fields": {
            "sequence_number": {(LOGS, "access_ts"): {I("WINDOW")}, (LOGS, "access_id"): {I("WINDOW")}},
            "access_id": {(LOGS, "access_id"): {ID}},
            "user_name": {(LOGS, "user_name"): {ID}},
            "role": {(LOGS, "role"): {ID}},
            "user_sequence": BY_USER,
            "access_ts": {(LOGS, "access_ts"): {ID}},
            "previous_access_ts": {**BY_USER, (LOGS, "access_ts"): {TR, I("WINDOW")}},  # lag
            "previous_table_name": {**BY_USER, (LOGS, "table_name"): {TR}},
            "seconds_since_previous": {**BY_USER, (LOGS, "access_ts"): {TR, I("WINDOW")}},
            "table_name": {(LOGS, "table_name"): {ID}},  # the left join's USING keys: the log's
            "column_name": {(LOGS, "column_name"): {ID}},
            "action": {(LOGS, "action"): {ID}},
            "purpose": {(LOGS, "purpose"): {ID}},
            "rows_accessed": {(LOGS, "rows_accessed"): {ID}},
            "client_network": {(LOGS, "client_ip"): {TR}},  # truncating is no masking function
            "approved": {(LOGS, "approved"): {ID}},
            "data_category": {(INVENTORY, "data_category"): {TR}},
            "sensitivity": {(INVENTORY, "sensitivity"): {TR}},
            "is_violation": REASONS,
            "violation_reasons": REASONS,
            # sha2 of the fields, coalesce(purpose, '') among them: its condition is hashed too (masked)
            "event_fingerprint": {**{(LOGS, f): {MASKED} for f in FINGERPRINTED},
                                  (LOGS, "purpose"): {MASKED, I("CONDITIONAL") + "+masked"}},
        },
        "dataset": ACCESS_JOINS,
    },
}
