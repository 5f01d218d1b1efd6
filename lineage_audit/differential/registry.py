"""The known differences, entry by entry (see :mod:`lineage_audit.differential.known` for the rules).

Column lineage values are lists of ``<namespace> <name> .<field> <TYPE/SUBTYPE[+masked],...>``;
:func:`lineage_kinds` sorts each input field on which the two captures differ into a kind, and the
column-lineage entries match on the set of kinds a disagreement has. A disagreement with a kind no
entry explains stays unclassified.

>>> from lineage_audit.differential.compare import Disagreement
>>> d = Disagreement("eight-jobs", "column-lineage", "output file t | output file t .total",
...                  ("file /d/orders .amount DIRECT/AGGREGATION",), ("file /d/orders .amount DIRECT/TRANSFORMATION",))
>>> sorted(lineage_kinds(d))
['transformation-types']
>>> classify(d, KNOWN_DIFFERENCES).verdict
'official-bug'
"""

from __future__ import annotations

from lineage_audit.differential.known import KnownDifference, classify

__all__ = ["KNOWN_DIFFERENCES", "classify", "lineage_kinds"]

TESTS = "tests/capture/test_column_lineage.py"


def _parse(value) -> dict[str, set[str]]:
    """``{"<ns> <name> .<field>": {"DIRECT/AGGREGATION", ...}}`` from a column-lineage value."""
    fields: dict[str, set[str]] = {}
    for entry in value or ():
        where, _, codes = entry.rpartition(" ")
        fields[where] = set(codes.split(",")) if codes else set()
    return fields


def _kind(ours: set[str], theirs: set[str], dataset_level: bool) -> str:
    """Why one input field's transformations differ.

    ``official-extra-input`` (an input only the official names; at dataset level only DIRECT ones
    are explained, as ``direct-in-dataset-lineage``), ``official-missing-input``,
    ``conditional-dropped`` (the official adds INDIRECT/CONDITIONAL to the built-in's DIRECT types) or
    ``transformation-types`` (same input, other types).
    """
    direct_only = bool(theirs) and all(code.startswith("DIRECT/") for code in theirs)
    if not ours:
        return "direct-in-dataset-lineage" if dataset_level and direct_only else "official-extra-input"
    if not theirs:
        return "official-missing-input"
    plain = {code.removesuffix("+masked") for code in ours}
    theirs_plain = {code.removesuffix("+masked") for code in theirs}
    if (not dataset_level and any(c.startswith("DIRECT/") for c in plain) and "INDIRECT/CONDITIONAL" not in plain
            and theirs_plain == plain | {"INDIRECT/CONDITIONAL"}):
        return "conditional-dropped"
    return "transformation-types"


def _without_running(event_types) -> tuple:
    return tuple(t for t in event_types or () if t != "RUNNING")


def lineage_kinds(disagreement) -> set[str]:
    """The kinds of the input fields on which a column- or dataset-lineage disagreement differs."""
    if disagreement.builtin is None:
        return {"builtin-missing-field"}
    if disagreement.official is None:
        return {"official-missing-field"}
    ours, theirs = _parse(disagreement.builtin), _parse(disagreement.official)
    dataset_level = disagreement.aspect == "dataset-lineage"
    return {_kind(ours.get(f, set()), theirs.get(f, set()), dataset_level)
            for f in set(ours) | set(theirs) if ours.get(f) != theirs.get(f)}


def _kinds_within(*allowed: str):
    return lambda d: lineage_kinds(d) <= set(allowed)


def _kinds_include(*wanted: str):
    return lambda d: bool(lineage_kinds(d) & set(wanted))


def _pruned_from(theirs, ours) -> bool:
    """Whether schema ``theirs`` is ``ours`` less some nested fields (values as compare.py gives them:
    ``(name, type[, nested])``)."""
    mine = {field[0]: field for field in ours or ()}
    return all(field[0] in mine and field[1] == mine[field[0]][1]
               and _pruned_from(field[2] if len(field) > 2 else (), mine[field[0]][2] if len(mine[field[0]]) > 2 else ())
               for field in theirs or ())


# Kinds where the official listener departs from the OpenLineage column lineage facet's definitions
# (which the built-in follows, pinned literally in tests/capture/test_column_lineage.py).
OFFICIAL_LINEAGE_KINDS = ("official-missing-field", "official-missing-input", "transformation-types",
                          "direct-in-dataset-lineage")

KNOWN_DIFFERENCES: tuple[KnownDifference, ...] = (
    # --- built-in gaps (must be fixed) ------------------------------------------------------------
    KnownDifference("*", "column-lineage", ".*", "builtin-bug",
                    "the official listener adds INDIRECT/CONDITIONAL where a field both feeds the value and "
                    "decides it (coalesce, nvl, nullif, when over the same column) and the built-in does not",
                    when=_kinds_include("conditional-dropped")),
    KnownDifference("*", "dataset-lineage", r"/(explode|posexplode|inline|structured_data_lake) ", "accepted",
                    "explode, posexplode and inline drop the rows whose array is empty, so the official listener "
                    f"counts the exploded array as a FILTER; the built-in counts it as the value only ({TESTS} "
                    "pins no dataset-level lineage for these shapes). Both readings hold",
                    when=lambda d: set(d.builtin) < set(d.official)
                    and all(e.endswith(" INDIRECT/FILTER") for e in set(d.official) - set(d.builtin))),
    KnownDifference("*", "column-lineage",
                    r"(stack_unpivots_argument_by_argument .* \.measure|quality_alerts .* \.(check_name|threshold))$",
                    "official-bug",
                    "a column of literals unpivoted by stack() (the shape's `measure`, data_quality's "
                    "`check_name` and `threshold`): the official listener traces it to the stacked value "
                    f"columns; the built-in gives it no input ({TESTS})",
                    when=lambda d: d.builtin is None),
    KnownDifference("query-shapes", "column-lineage", r"except_and_intersect", "official-bug",
                    "EXCEPT ALL / INTERSECT take their values from the left side only; the official listener also "
                    "names the right side's column as DIRECT/IDENTITY (the built-in, pinned in "
                    f"{TESTS}, names it at dataset level as INDIRECT/JOIN)",
                    when=lambda d: d.builtin and d.official and set(d.builtin) < set(d.official)),
    KnownDifference("*", "*-lineage", ".*", "builtin-bug",
                    "an output field or input field the official listener traces and the built-in does not",
                    when=_kinds_include("builtin-missing-field", "official-extra-input")),
    KnownDifference("*", "job-facets", r":: sql$", "builtin-bug",
                    "the official listener sends the statement text (`sql` job facet) for SQL statements the "
                    "built-in sends none for (LOAD DATA, ALTER/TRUNCATE/DROP TABLE, a WITH query). Reported",
                    when=lambda d: d.builtin is None),
    KnownDifference("delta", "inputs", r"execute_merge|delta/orders #2 \| input :: file parquet$", "builtin-bug",
                    "MERGE by path: the built-in names an input `parquet` (the source's format, not a dataset). "
                    "Reported",
                    when=lambda d: d.official is None),
    KnownDifference("delta", "inputs", r"delta/orders #2 \| input :: file <data>/out/delta/orders$", "builtin-bug",
                    "MERGE reads its target: the official listener lists the Delta table as an input too, the "
                    "built-in does not. Reported",
                    when=lambda d: d.builtin is None),
    KnownDifference("delta", "output-statistics", r"delta/orders #2", "builtin-bug",
                    "MERGE: the built-in reports rowCount 0 (the command's numOutputRows); the official listener "
                    "the rows written (inserted + updated). Reported",
                    when=lambda d: str(d.builtin).startswith("rowCount=0")),
    # --- official listener departures (the built-in keeps its behaviour) ---------------------------
    KnownDifference("query-shapes", "schema", r"struct_map_array_access .*\| input file <data>/tables/items$",
                    "official-bug",
                    "a query that reads one field of a struct (`info.sku`): the official listener describes the "
                    "input by Spark's pruned scan schema, `info` without `qty`; the built-in describes the "
                    "table as it is (the other shapes reading `items` get `info` whole from both)",
                    when=lambda d: d.builtin != d.official and _pruned_from(d.official, d.builtin)),
    KnownDifference("*", "job-name", "^output ", "official-bug",
                    "with jobName.appendDatasetName the official listener appends the dataset to every write's "
                    "job name but not to ALTER TABLE, DROP TABLE and Delta MERGE, though the event names the "
                    "table as its output; the built-in appends it to all",
                    when=lambda d: d.builtin and d.official and d.builtin.startswith(d.official + ".")),
    KnownDifference("extra-shapes", "inputs", r"scalar_subquery|\| input :: ", "official-bug",
                    "a table read only by a scalar subquery is missing from the official listener's inputs, "
                    "though its column lineage needs it (`top` comes from orders.amount)",
                    when=lambda d: d.official is None and "scalar_subquery" in d.key),
    KnownDifference("query-shapes", "inputs", r"scalar_subquery_projected", "official-bug",
                    "a table read only by a scalar subquery is missing from the official listener's inputs, "
                    "though the output's column `top` comes from orders.amount",
                    when=lambda d: d.official is None),
    KnownDifference("extra-shapes", "dataset-facets", r"ddl_people.* :: schema$", "official-bug",
                    "INSERT INTO ... VALUES into a table: the official listener sends the output without its "
                    "schema; the built-in describes the table it writes",
                    when=lambda d: d.official is None),
    KnownDifference("*", "job-name", "^output ", "official-bug",
                    "on Spark 4.x the official listener names a write whose executed plan is adaptive after "
                    "the plan's root node (`adaptive_spark_plan`) instead of the write command; the built-in "
                    "names every file write `execute_insert_into_hadoop_fs_relation_command`, as the official "
                    "listener does for non-adaptive writes",
                    reference="https://github.com/OpenLineage/OpenLineage/issues/2058",
                    when=lambda d: ".adaptive_spark_plan" in (d.official or "")),
    KnownDifference("*", "column-lineage", ".*", "official-bug",
                    "the official listener's transformation types depart from the facet's definitions: "
                    "aggregates (min, max, count) as TRANSFORMATION, counts and hashes (sha2, count) not masked, "
                    "CONDITIONAL and WINDOW inputs as DIRECT, no CONDITIONAL for a nullif over a computed "
                    "value (Spark 4 rewrites it through a common expression), inputs dropped behind "
                    f"to_json/struct, unpivot and higher-order functions; the built-in's answers are pinned in {TESTS}",
                    reference="https://github.com/OpenLineage/OpenLineage/issues/2186",
                    when=_kinds_within(*OFFICIAL_LINEAGE_KINDS)),
    KnownDifference("*", "dataset-lineage", ".*", "official-bug",
                    "the official listener puts DIRECT transformations into the dataset-level list (meant for "
                    "INDIRECT dependencies that shape the whole output) and names window partitioning WINDOW "
                    f"where the built-in says FILTER/GROUP_BY/JOIN of the row-shaping node; see {TESTS}",
                    when=_kinds_within(*OFFICIAL_LINEAGE_KINDS)),
    KnownDifference("eight-jobs", "output-statistics", r"/outputs/data_privacy_assessment$", "official-bug",
                    "the privacy assessment holds a row per inventoried column and one per column the captured "
                    "lineage finds carrying a class the inventory does not list (jobs/compliance.py); which "
                    "columns carry one follows the column lineage, where the official listener departs from the "
                    "facet's definitions (the column-lineage entry): WINDOW and CONDITIONAL inputs as DIRECT "
                    "make more columns carriers, inputs dropped behind to_json/struct fewer",
                    reference="https://github.com/OpenLineage/OpenLineage/issues/2186",
                    when=lambda d: str(d.builtin).startswith("rowCount=") and str(d.official).startswith("rowCount=")),
    KnownDifference("delta", "dataset-facets", r":: outputStatistics$", "official-bug",
                    "the official listener sends no outputStatistics (rows, bytes, files) for a Delta write; "
                    "the built-in reads them from the commit the write made (its operationMetrics)",
                    when=lambda d: d.official is None),
    # --- accepted -----------------------------------------------------------------------------------
    KnownDifference("delta", "dataset-facets", r"delta/orders #2 \| input file <data>/out/delta/orders :: "
                    r"inputStatistics$", "accepted",
                    "MERGE reads its target: the official listener reports the target's size as an input "
                    "statistic; the built-in leaves it out, because Delta computes it by rebuilding the table's "
                    "snapshot (Spark jobs) inside the listener callback",
                    when=lambda d: d.builtin is None),
    KnownDifference("*", "dataset-facets", r":: columnLineage$", "accepted",
                    "data built in the driver (Spark ML metadata, feature importances): the built-in sends a "
                    "columnLineage facet with no input fields, the official listener leaves the facet out; "
                    "both say that no input column feeds it",
                    when=lambda d: d.official is None),
    KnownDifference("extra-shapes", "run", r"warehouse/(status_totals|paid_orders) #2$", "accepted",
                    "a CTAS (saveAsTable, CREATE TABLE AS): Spark runs a file write inside the CTAS command; the "
                    "official listener reports both, the built-in one run (the CTAS, with the write's "
                    "statistics and RUNNING events)",
                    when=lambda d: d.builtin is None),
    KnownDifference("extra-shapes", "*", r"warehouse/(status_totals|paid_orders)( |$)", "accepted",
                    "the CTAS run: the built-in's carries what the official listener spreads over the CTAS run "
                    "and the inner write's run (RUNNING events, spark_jobDetails, the sql text)",
                    when=lambda d: d.official is None or "RUNNING" in (d.builtin or ())),
    KnownDifference("*", "job-facets", r":: sql$", "accepted",
                    "the built-in sends the statement text on the CTAS run; the official listener on the "
                    "inner write's run only",
                    when=lambda d: d.official is None),
    KnownDifference("extra-shapes", "dataset-facets", r"ddl_people.* :: catalog$", "accepted",
                    "the built-in sends the catalog facet on ALTER TABLE too; the official listener only on "
                    "create, insert and drop",
                    when=lambda d: d.official is None),
    KnownDifference("extra-shapes", "schema", r"ddl_people", "accepted",
                    "DROP TABLE: the built-in gives the schema the table had, the official listener an empty one",
                    when=lambda d: d.official == ()),
    KnownDifference("*", "run", "^job ", "accepted",
                    "the official listener reports every Spark job and read-only query (RDD map_partitions, "
                    "collect_limit, count), most with no dataset at all; the built-in reports writes only, the "
                    "lineage the audit trail needs",
                    when=lambda d: d.builtin is None),
    KnownDifference("*", "event-types", "^output ", "accepted",
                    "the official listener sends a RUNNING event for a Spark job of a write when it handles that "
                    "job's start while the write's SQL execution is still open; on a loaded machine a short "
                    "write's job sometimes gets one, sometimes not (seen once on quality_alerts in a test run); "
                    "START and COMPLETE agree",
                    when=lambda d: _without_running(d.builtin) == _without_running(d.official)),
    KnownDifference("*", "run-facets", r"^output .* :: spark_jobDetails$", "accepted",
                    "spark_jobDetails comes with the official listener's RUNNING event for a Spark job of the "
                    "write (see the event-types entry above); the built-in sends no such event there",
                    when=lambda d: d.builtin is None),
    KnownDifference("*", "run-facets", r":: tags$", "accepted",
                    "openlineage-python's client adds a `tags` run facet (its own version) to every event it "
                    "emits; the official listener's Java client does not",
                    when=lambda d: d.official is None),
    KnownDifference("*", "job-facets", r":: sourceCodeLocation$", "accepted",
                    "the built-in adds the driver script and its git commit (sourceCodeLocation); the official "
                    "listener cannot see a PySpark driver script",
                    when=lambda d: d.official is None),
)
