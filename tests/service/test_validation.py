"""POST /api/v1/lineage refuses standard facets that break their OpenLineage schema: a 422 naming the field,
nothing stored. The rules are checked against the spec's own JSON schemas where /work/shared holds them."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

from lineage_audit.service.db import lineage_events
from lineage_audit.service.facet_schemas import DATASET_FACETS, FORMAT_CHECKS, JOB_FACETS, OUTPUT_FACETS, RUN_FACETS
from tests.service.test_ingest import PRODUCER, count, dataset, post, run_event

SPEC = Path("/work/shared/openlineage-spec")
FACET_FILES = {"schema": "SchemaDatasetFacet", "columnLineage": "ColumnLineageDatasetFacet",
               "dataSource": "DatasourceDatasetFacet", "lifecycleStateChange": "LifecycleStateChangeDatasetFacet",
               "documentation": "DocumentationDatasetFacet", "symlinks": "SymlinksDatasetFacet",
               "outputStatistics": "OutputStatisticsOutputDatasetFacet", "nominalTime": "NominalTimeRunFacet",
               "parent": "ParentRunFacet", "jobType": "JobTypeJobFacet", "jobDocumentation": "DocumentationJobFacet"}
BASE = {"_producer": PRODUCER, "_schemaURL": "https://openlineage.io/spec/facets/1-0-0/Facet.json"}
PARENT = {"run": {"runId": str(uuid.uuid4())}, "job": {"namespace": "tests", "name": "parent"}}
LINEAGE = {"fields": {"id": {"inputFields": [{"namespace": "file", "name": "/in", "field": "id",
                                              "transformations": [{"type": "DIRECT", "masking": False}]}]}}}

# (facet as the spec names it, where it goes, its body, the field the 422 names): each breaks the spec
BAD = [
    ("schema", "output", {"fields": [{"name": "id"}, {"type": "int"}]}, "outputs[0].facets.schema.fields[1].name"),
    ("schema", "output", {"fields": [{"name": "id", "fields": [{"name": 3}]}]},
     "outputs[0].facets.schema.fields[0].fields[0].name"),
    ("schema", "output", {"fields": "id"}, "outputs[0].facets.schema.fields"),
    ("columnLineage", "output", {"fields": {"id": {}}}, "outputs[0].facets.columnLineage.fields.id.inputFields"),
    ("columnLineage", "output", {"dataset": []}, "outputs[0].facets.columnLineage.fields"),
    ("columnLineage", "output", {"fields": {"id": {"inputFields": [{"namespace": "file", "name": "/in"}]}}},
     "outputs[0].facets.columnLineage.fields.id.inputFields[0].field"),
    ("columnLineage", "output", {"fields": {"id": {"inputFields": [
        {"namespace": "file", "name": "/in", "field": "id", "transformations": [{"subtype": "IDENTITY"}]}]}}},
     "outputs[0].facets.columnLineage.fields.id.inputFields[0].transformations[0].type"),
    ("columnLineage", "output", {"fields": {"id": {"inputFields": [
        {"namespace": "file", "name": "/in", "field": "id", "transformations": [{"type": "DIRECT",
                                                                                 "masking": "yes"}]}]}}},
     "outputs[0].facets.columnLineage.fields.id.inputFields[0].transformations[0].masking"),
    ("dataSource", "input", {"name": 5}, "inputs[0].facets.dataSource.name"),
    ("lifecycleStateChange", "output", {"lifecycleStateChange": "MELT"},
     "outputs[0].facets.lifecycleStateChange.lifecycleStateChange"),
    ("lifecycleStateChange", "output", {}, "outputs[0].facets.lifecycleStateChange.lifecycleStateChange"),
    ("documentation", "output", {"contentType": "text/plain"}, "outputs[0].facets.documentation.description"),
    ("symlinks", "input", {"identifiers": [{"namespace": "hive", "name": "db.t"}]},
     "inputs[0].facets.symlinks.identifiers[0].type"),
    ("outputStatistics", "outputFacet", {"rowCount": "ten"}, "outputs[0].outputFacets.outputStatistics.rowCount"),
    ("nominalTime", "run", {"nominalStartTime": "yesterday"}, "run.facets.nominalTime.nominalStartTime"),
    ("nominalTime", "run", {"nominalEndTime": "2026-01-01T00:00:00Z"}, "run.facets.nominalTime.nominalStartTime"),
    ("parent", "run", {"job": {"namespace": "tests", "name": "parent"}}, "run.facets.parent.run"),
    ("parent", "run", {"run": {"runId": 42}, "job": {"namespace": "tests", "name": "p"}},
     "run.facets.parent.run.runId"),  # any string is taken: older Airflow sends scheduled__..., Marquez maps it
    ("jobType", "job", {"processingType": "BATCH"}, "job.facets.jobType.integration"),
    ("jobDocumentation", "job", {"description": ["a", "list"]}, "job.facets.documentation.description"),
]
GOOD = [
    ("schema", "output", {"fields": [{"name": "id", "type": "int", "fields": [{"name": "inner"}]}]}),
    ("columnLineage", "output", LINEAGE),
    ("dataSource", "input", {"name": "warehouse", "uri": "postgres://db:5432/x"}),
    ("lifecycleStateChange", "output", {"lifecycleStateChange": "OVERWRITE"}),
    ("documentation", "output", {"description": "orders"}),
    ("symlinks", "input", {"identifiers": [{"namespace": "hive", "name": "db.t", "type": "TABLE"}]}),
    ("outputStatistics", "outputFacet", {"rowCount": 10, "size": 2048}),
    ("nominalTime", "run", {"nominalStartTime": "2026-01-01T00:00:00Z", "nominalEndTime": "2026-01-01T01:00:00Z"}),
    ("parent", "run", PARENT),
    ("jobType", "job", {"processingType": "BATCH", "integration": "SPARK", "jobType": "JOB"}),
    ("jobDocumentation", "job", {"description": "loads orders"}),
]


FORMATS = FormatChecker(())
for _name, _check in FORMAT_CHECKS.items():
    FORMATS.checks(_name)(_check)


def _event(name: str, where: str, body: dict) -> dict:
    """A run event carrying the facet ``name`` at ``where``, with the base facet's keys."""
    facet = {**BASE, **copy.deepcopy(body)}
    key = "documentation" if name == "jobDocumentation" else name
    output = dataset("/out")
    inputs = [dataset("/in")]
    run_facets, job_facets = {}, {}
    if where == "output":
        output["facets"][key] = facet
    elif where == "outputFacet":
        output["outputFacets"] = {key: facet}
    elif where == "input":
        inputs[0]["facets"][key] = facet
    elif where == "run":
        run_facets[key] = facet
    else:
        job_facets[key] = facet
    return run_event("COMPLETE", 0, inputs=inputs, outputs=[output], run_facets=run_facets, job_facets=job_facets)


@pytest.mark.parametrize("name, where, body, field", BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_a_facet_that_breaks_its_schema_is_a_422_naming_the_field(service, name, where, body, field):
    response = post(service, _event(name, where, body))
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert response.json()["message"].startswith(field + " ")
    assert count(service, lineage_events) == 0


def test_a_bad_facet_in_a_batch_names_its_event(service):
    good, bad = _event(*GOOD[0]), _event(*BAD[0][:3])
    response = post(service, [good, bad])
    assert response.status_code == 422, response.text
    assert (response.json()["index"], response.json()["field"]) == (1, BAD[0][3])


@pytest.mark.parametrize("name, where, body", GOOD, ids=[g[0] for g in GOOD])
def test_a_facet_as_the_spec_has_it_is_accepted(service, name, where, body):
    response = post(service, _event(name, where, body))
    assert response.status_code == 201, response.text


def test_a_facet_without_its_base_keys_and_an_unknown_facet_are_accepted(service):
    event = run_event("COMPLETE", 0, outputs=[dataset("/out", documentation={"description": "no _producer"})],
                      run_facets={"custom": {"anything": [1, 2]}})
    assert post(service, event).status_code == 201


def _spec_validator(name: str, format_checker=None) -> Draft202012Validator:
    if not SPEC.is_dir():
        pytest.skip(f"{SPEC} is absent: the OpenLineage JSON schemas are only a reference for this test")
    core = json.loads((SPEC / "OpenLineage.json").read_text())
    document = json.loads((SPEC / "facets" / f"{FACET_FILES[name]}.json").read_text())
    registry = Registry().with_resources([(core["$id"], Resource.from_contents(core)),
                                          (document["$id"], Resource.from_contents(document))])
    key = "documentation" if name == "jobDocumentation" else name
    return Draft202012Validator({"$ref": f"{document['$id']}#/properties/{key}"}, registry=registry,
                                format_checker=format_checker)


@pytest.mark.parametrize("name, where, body, field", BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_the_refused_facets_break_the_spec_too(name, where, body, field):
    # the spec's formats (date-time, uuid) are annotations unless asserted: assert them as the service does
    validator = _spec_validator(name, FORMATS)
    assert list(validator.iter_errors({**BASE, **body})), (name, body)


@pytest.mark.parametrize("name, where, body", GOOD, ids=[g[0] for g in GOOD])
def test_the_accepted_facets_meet_the_spec(name, where, body):
    assert not list(_spec_validator(name).iter_errors({**BASE, **body}))


def test_every_facet_the_service_checks_is_compared_with_the_spec():
    job = {"jobDocumentation" if k == "documentation" else k for k in JOB_FACETS}
    assert set(DATASET_FACETS) | set(OUTPUT_FACETS) | set(RUN_FACETS) | job == set(FACET_FILES)
    assert {b[0] for b in BAD} == {g[0] for g in GOOD} == set(FACET_FILES)
