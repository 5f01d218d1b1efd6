"""Normalise, pair, compare, classify and render, on tiny literal events (no Spark)."""

from __future__ import annotations

import pytest

from lineage_audit.differential.compare import Disagreement, compare_case, pair_runs
from lineage_audit.differential.known import KnownDifference, classify
from lineage_audit.differential.normalise import normalise, run_key, runs_of
from lineage_audit.differential.registry import KNOWN_DIFFERENCES
from lineage_audit.differential.report import render_report

OURS, THEIRS = "/tmp/builtin-run", "/tmp/official-run"


def _field(name: str, field: str, *codes: str) -> dict:
    kinds = [code.split("/") for code in codes]
    return {"namespace": "file", "name": name, "field": field,
            "transformations": [{"type": t, "subtype": s, "description": "", "masking": False} for t, s in kinds]}


def write_event(root: str, event_type: str, run_id: str, *, job: str = "app.execute_insert.out_totals",
                rows: int | None = 2, lineage: dict | None = None, with_schema: bool = True) -> dict:
    """A write of ``<root>/tables/orders`` to ``<root>/out/totals`` as a capture would send it."""
    output_facets = {"outputStatistics": {"_producer": root, "rowCount": rows, "size": 100}} if rows else {}
    facets = {"dataSource": {"_producer": root, "name": "file", "uri": "file"}}
    if with_schema:
        facets["schema"] = {"_schemaURL": "x", "fields": [{"name": "status", "type": "string"},
                                                           {"name": "total", "type": "double"}]}
    if lineage is not None:
        facets["columnLineage"] = lineage
    return {
        "eventType": event_type, "eventTime": f"2025-10-30T10:00:0{len(event_type)}Z", "producer": root,
        "run": {"runId": run_id, "facets": {"parent": {"run": {"runId": root}, "job": {"namespace": "ns",
                                                                                       "name": "app"}}}},
        "job": {"namespace": "ns", "name": job, "facets": {}},
        "inputs": [{"namespace": "file", "name": f"{root}/tables/orders", "facets": {}}],
        "outputs": [{"namespace": "file", "name": f"{root}/out/totals", "facets": facets,
                     "outputFacets": output_facets}],
    }


def totals_lineage(root: str, total_codes=("DIRECT/AGGREGATION",)) -> dict:
    return {"fields": {"status": {"inputFields": [_field(f"{root}/tables/orders", "status", "DIRECT/IDENTITY")]},
                       "total": {"inputFields": [_field(f"{root}/tables/orders", "amount", *total_codes)]}},
            "dataset": [_field(f"{root}/tables/orders", "status", "INDIRECT/GROUP_BY")]}


def app_event(event_type: str, run_id: str, job: str = "app") -> dict:
    return {"eventType": event_type, "run": {"runId": run_id, "facets": {}},
            "job": {"namespace": "ns", "name": job,
                    "facets": {"jobType": {"jobType": "APPLICATION", "processingType": "BATCH"}}}}


def test_normalise_drops_what_differs_between_runs_and_writes_the_data_dir():
    event = normalise(write_event(OURS, "COMPLETE", "r1"), [OURS])
    assert "eventTime" not in event and "producer" not in event and "runId" not in event["run"]
    assert event["run"]["facets"]["parent"] == {"job": {"namespace": "ns", "name": "app"}}
    assert event["outputs"][0]["name"] == "<data>/out/totals"
    assert event["outputs"][0]["outputFacets"]["outputStatistics"] == {"rowCount": 2, "size": 100}
    assert "_schemaURL" not in event["outputs"][0]["facets"]["schema"]


def test_the_same_write_from_two_data_dirs_normalises_to_the_same_event():
    ours = normalise(write_event(OURS, "COMPLETE", "r1", lineage=totals_lineage(OURS)), [OURS])
    theirs = normalise(write_event(THEIRS, "COMPLETE", "other-run", lineage=totals_lineage(THEIRS)), [THEIRS])
    assert ours == theirs


def test_run_keys_name_the_output_the_application_or_the_job():
    assert run_key([write_event(OURS, "START", "r1")]) == f"output file {OURS}/out/totals"
    assert run_key([app_event("START", "a1")]) == "application app"
    drop = {"eventType": "COMPLETE", "run": {"runId": "d", "facets": {"parent": {"job": {"name": "app"}}}},
            "job": {"name": "app.drop_table"}}
    assert run_key([drop]) == "job app.drop_table"


def test_runs_group_events_by_run_id_in_order():
    events = [app_event("START", "a"), write_event(OURS, "START", "w"), write_event(OURS, "COMPLETE", "w"),
              app_event("COMPLETE", "a")]
    runs = runs_of(events, [OURS])
    assert [(r.key, r.event_types) for r in runs] == [
        ("application app", ("START", "COMPLETE")),
        ("output file <data>/out/totals", ("START", "COMPLETE")),
    ]


def test_pairs_follow_key_then_order_and_leave_the_unmatched_alone():
    ours = runs_of([write_event(OURS, "START", "1"), write_event(OURS, "START", "2")], [OURS])
    theirs = runs_of([write_event(THEIRS, "START", "9")], [THEIRS])
    pairs = pair_runs(ours, theirs)
    assert [(label, a is not None, b is not None) for label, a, b in pairs] == [
        ("output file <data>/out/totals", True, True),
        ("output file <data>/out/totals #2", True, False),
    ]


def test_identical_work_agrees_on_every_aspect():
    ours = [write_event(OURS, "START", "1", rows=None, lineage=totals_lineage(OURS)),
            write_event(OURS, "COMPLETE", "1", lineage=totals_lineage(OURS))]
    theirs = [write_event(THEIRS, "START", "2", rows=None, lineage=totals_lineage(THEIRS)),
              write_event(THEIRS, "COMPLETE", "2", lineage=totals_lineage(THEIRS))]
    result = compare_case("same", ours, theirs, [OURS], [THEIRS])
    assert result.disagreements == []
    assert dict(result.agreed) == {"run": 1, "event-types": 1, "job-name": 1, "parent-job": 1, "run-facets": 1,
                                   "inputs": 1, "outputs": 1, "dataset-facets": 4, "schema": 1,
                                   "column-lineage": 2, "dataset-lineage": 1, "output-statistics": 1}


def test_each_difference_is_one_disagreement_with_both_values():
    ours = [write_event(OURS, "START", "1", rows=None, lineage=totals_lineage(OURS)),
            write_event(OURS, "COMPLETE", "1", lineage=totals_lineage(OURS))]
    theirs = [write_event(THEIRS, "START", "2", rows=None, job="app.adaptive_spark_plan.out_totals",
                          lineage=totals_lineage(THEIRS, ("DIRECT/TRANSFORMATION",))),
              write_event(THEIRS, "RUNNING", "2", rows=None, lineage=totals_lineage(THEIRS)),
              write_event(THEIRS, "RUNNING", "2", rows=None, lineage=totals_lineage(THEIRS)),  # one per Spark job
              write_event(THEIRS, "COMPLETE", "2", rows=3, lineage=totals_lineage(THEIRS))]
    theirs[0]["outputs"][0]["facets"]["columnLineage"] = totals_lineage(THEIRS, ("DIRECT/TRANSFORMATION",))
    theirs[-1]["outputs"][0]["facets"]["columnLineage"] = totals_lineage(THEIRS, ("DIRECT/TRANSFORMATION",))
    result = compare_case("diff", ours, theirs, [OURS], [THEIRS])
    key = "output file <data>/out/totals"
    output = f"{key} | output file <data>/out/totals"
    assert result.disagreements == [
        Disagreement("diff", "event-types", key, ("START", "COMPLETE"), ("START", "RUNNING", "COMPLETE")),
        Disagreement("diff", "job-name", key, "app.execute_insert.out_totals", "app.adaptive_spark_plan.out_totals"),
        Disagreement("diff", "column-lineage", f"{output} .total",
                     ("file <data>/tables/orders .amount DIRECT/AGGREGATION",),
                     ("file <data>/tables/orders .amount DIRECT/TRANSFORMATION",)),
        Disagreement("diff", "output-statistics", output, "rowCount=2 size=set fileCount=absent",
                     "rowCount=3 size=set fileCount=absent"),
    ]


def test_a_facet_one_side_lacks_is_a_facet_disagreement_not_a_content_one():
    ours = [write_event(OURS, "COMPLETE", "1", with_schema=False)]
    theirs = [write_event(THEIRS, "COMPLETE", "2")]
    result = compare_case("facets", ours, theirs, [OURS], [THEIRS])
    assert [(d.aspect, d.key, d.builtin, d.official) for d in result.disagreements] == [
        ("dataset-facets", "output file <data>/out/totals | output file <data>/out/totals :: schema", None, "present"),
    ]


def test_a_run_only_one_capture_sent_is_a_run_disagreement():
    result = compare_case("apps", [app_event("START", "a"), app_event("COMPLETE", "a")], [], [OURS], [THEIRS])
    assert result.disagreements == [Disagreement("apps", "run", "application app", ("START", "COMPLETE"), None)]


def test_classify_takes_the_first_matching_entry_and_tests_values():
    names = Disagreement("eight-jobs", "job-name", "output file <data>/out/t", "a.execute_x.t",
                         "a.adaptive_spark_plan.t")
    registry = [
        KnownDifference("delta", "*", ".*", "accepted", "delta only"),
        KnownDifference("*", "job-name", "^output ", "official-bug", "adaptive names",
                        when=lambda d: "adaptive_spark_plan" in d.official),
        KnownDifference("*", "*", ".*", "builtin-bug", "anything else"),
    ]
    assert classify(names, registry).reason == "adaptive names"
    other = Disagreement("eight-jobs", "job-name", "output file <data>/out/t", "a.x", "a.y")
    assert classify(other, registry).reason == "anything else"
    assert classify(other, registry[:2]) is None


def test_a_registry_entry_needs_a_known_verdict():
    with pytest.raises(ValueError):
        KnownDifference("*", "*", ".*", "fine", "no such verdict")


def test_every_registry_entry_has_a_reason_and_official_bugs_have_evidence():
    for entry in KNOWN_DIFFERENCES:
        assert entry.reason.strip(), entry
        if entry.verdict == "official-bug":
            assert entry.reference.startswith("https://") or len(entry.reason) > 60, entry


def test_the_report_counts_per_aspect_and_marks_the_unclassified():
    result = compare_case("apps", [app_event("START", "a")], [app_event("START", "b", job="other")], [OURS],
                          [THEIRS])
    text = render_report([result], ["# Title"], registry=())
    assert "| apps | 1 | 1 | 2 | 0 | 2 |" in text
    assert "| unclassified | 2 |" in text
    assert '| run | application app | `["START"]` | — | **unclassified** |  |' in text
