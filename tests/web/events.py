"""OpenLineage events the browser tests post themselves: one run of a job, shaped like the capture's.

>>> start, end = run_events("demo.write_out", inputs=[dataset("/data/in", ["a"])],
...                         outputs=[dataset("/data/out", ["b"], lineage={"b": [("/data/in", "a", "DIRECT/IDENTITY")]})])
>>> start["eventType"], end["eventType"], end["outputs"][0]["facets"]["columnLineage"]["fields"]["b"]["inputFields"][0]
('START', 'COMPLETE', {'namespace': 'file', 'name': '/data/in', 'field': 'a', 'transformations': \
[{'type': 'DIRECT', 'subtype': 'IDENTITY', 'description': '', 'masking': False}]})
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

PRODUCER = "https://github.com/data-lineage-audit/data-lineage-audit/tree/v0.1.0/tests/web"
SPEC = "https://openlineage.io/spec"
JOB_NAMESPACE = "data-lineage-audit"
TWO_JOBS = ("customers", "orders")


def two_job_events(pipeline_events: list[dict]) -> list[dict]:
    """The pipeline's events of the customers and orders jobs (applications and their writes), oldest first."""
    return [e for e in pipeline_events if e["job"]["name"].split(".", 1)[0] in TWO_JOBS]


def _facet(schema: str, **values) -> dict:
    return {"_producer": PRODUCER, "_schemaURL": f"{SPEC}/{schema}", **values}


def dataset(name: str, fields: list[str] | dict[str, str], *, namespace: str = "file",
            lineage: dict[str, list[tuple[str, str, str]]] | None = None, rows: int | None = None) -> dict:
    """A dataset of an event. ``fields`` are names (type string) or {name: type}; ``lineage`` maps an output
    field to its inputs as (input dataset name, input field, "TYPE/SUBTYPE", "+masked" appended when masked);
    ``rows`` becomes the outputStatistics facet."""
    types = fields if isinstance(fields, dict) else dict.fromkeys(fields, "string")
    facets = {"schema": _facet("facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet",
                               fields=[{"name": n, "type": t, "fields": []} for n, t in types.items()])}
    if lineage:
        facets["columnLineage"] = _facet(
            "facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet",
            fields={out: {"inputFields": [{"namespace": namespace, "name": source, "field": field,
                                           "transformations": [_transformation(code)]}
                                          for source, field, code in inputs]}
                    for out, inputs in lineage.items()})
    entry = {"namespace": namespace, "name": name, "facets": facets}
    if rows is not None:
        entry["outputFacets"] = {"outputStatistics": _facet(
            "facets/1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet",
            rowCount=rows, size=rows * 64, fileCount=1)}
    return entry


def _transformation(code: str) -> dict:
    kind, _, rest = code.partition("/")
    subtype, _, masked = rest.partition("+")
    return {"type": kind, "subtype": subtype, "description": "", "masking": masked == "masked"}


def run_events(job: str, *, inputs: list[dict] = (), outputs: list[dict] = (), state: str = "COMPLETE",
               error: str | None = None, started: datetime | None = None, seconds: float = 42.0,
               namespace: str = JOB_NAMESPACE) -> list[dict]:
    """START and the terminal event (COMPLETE, FAIL, ...) of one new run; a FAIL carries ``error`` in the
    errorMessage run facet. Times default to now, so the run is the job's newest."""
    started = started or datetime.now(timezone.utc) - timedelta(seconds=seconds)
    run_id = str(uuid.uuid4())
    run_facets = {}
    if error is not None:
        run_facets["errorMessage"] = _facet("facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet",
                                            message=error, programmingLanguage="python",
                                            stackTrace=f"Traceback (most recent call last):\n  ...\n{error}")

    def event(event_type: str, at: datetime, facets: dict) -> dict:
        return {"eventType": event_type, "eventTime": at.isoformat(timespec="milliseconds"),
                "run": {"runId": run_id, "facets": facets},
                "job": {"namespace": namespace, "name": job, "facets": {}},
                "inputs": [{k: v for k, v in d.items() if k != "outputFacets"} for d in inputs],
                "outputs": list(outputs) if event_type != "START" else
                [{k: v for k, v in d.items() if k != "outputFacets"} for d in outputs],
                "producer": PRODUCER, "schemaURL": f"{SPEC}/2-0-2/OpenLineage.json#/$defs/RunEvent"}

    return [event("START", started, {}), event(state, started + timedelta(seconds=seconds), run_facets)]
