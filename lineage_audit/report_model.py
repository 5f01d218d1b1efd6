"""The provenance report's content: what the running lineage service says about one dataset, read over HTTP.

``build_report`` asks the service (through ``diff_cli.ServiceClient``, as the other commands do) for the
dataset and its current version, every run of the jobs that write it (and of any job that wrote one of its
versions), the upstream lineage graph, the column lineage, the dataset's classifications and, last, the
event ledger's head, and returns one JSON-ready dict. The ledger is read last so that every event behind the
other answers is among the ledger's first ``length`` entries: the head hash an auditor notes covers them.
The HTML (``report_html``) and the JSON file are two renderings of this dict.
"""

from __future__ import annotations

import urllib.parse
from datetime import datetime, timezone
from typing import Any

from lineage_audit.diff_cli import BadInput, ServiceClient
from lineage_audit.service.classification import short_name  # the short name classification rules match

PAGE = 100  # runs and versions per request (the service's largest page is bigger; 100 keeps answers small)
UPSTREAM_DEPTH = 100  # job steps asked of /lineage: further than any pipeline of this project reaches
FAILED_STATES = ("FAILED", "ABORTED")


def segment(name: str) -> str:
    """A name as one URL path segment (slashes encoded, as Marquez's clients send them)."""
    return urllib.parse.quote(name, safe="")


def dataset_path(namespace: str, name: str) -> str:
    return f"/namespaces/{segment(namespace)}/datasets/{segment(name)}"


def build_report(client: ServiceClient, namespace: str, name: str,
                 now: datetime | None = None) -> dict[str, Any]:
    """The report on dataset ``namespace``/``name`` (which must exist), as of ``now`` (default: the clock)."""
    made_at = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    dataset = client.get(dataset_path(namespace, name))
    versions = _all_pages(client, dataset_path(namespace, name) + "/versions", "versions")
    graph = client.get("/lineage", nodeId=f"dataset:{namespace}:{name}", depth=UPSTREAM_DEPTH)["graph"]
    upstream = upstream_of(graph, f"dataset:{namespace}:{name}")
    writers = [job for job in upstream["jobs"] if job["distance"] == 1]
    runs = writing_runs(client, namespace, name, writers, versions)
    report = {
        "report": {"generatedAt": _iso(made_at), "serviceUrl": client.url, "command": "lineage-audit report"},
        "dataset": {"namespace": namespace, "name": name, "shortName": short_name(name),
                    "description": dataset.get("description"), "tags": dataset.get("tags") or []},
        "currentVersion": current_version(dataset, versions),
        "schema": [{"name": f["name"], "type": f.get("type"), "description": f.get("description"),
                    "tags": f.get("tags") or []} for f in dataset.get("fields") or []],
        "runs": runs,
        "upstream": upstream,
        "columnLineage": column_lineage(client, namespace, name, dataset),
        "classifications": classifications(client, namespace, name),
    }
    report["ledger"] = _ledger(client)
    report["summary"] = summary(report, writers)
    return report


# -- the dataset's version and its writers' runs --------------------------------------------------------------

def current_version(dataset: dict[str, Any], versions: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The version the dataset is at, with the run that produced it; None for a dataset never written or read
    with a schema (no version)."""
    version_id = dataset.get("currentVersion")
    found = next((v for v in versions if v.get("version") == version_id), None)
    if found is None:
        return None
    run = found.get("createdByRun") or None
    return {"version": version_id, "createdAt": found.get("createdAt"), "updatedAt": dataset.get("updatedAt"),
            "lifecycleState": found.get("lifecycleState") or dataset.get("lastLifecycleState"),
            "createdByRun": None if run is None else {
                "id": run["id"], "state": run.get("state"),
                "job": {"namespace": run["jobVersion"]["namespace"], "name": run["jobVersion"]["name"]}}}


def writing_runs(client: ServiceClient, namespace: str, name: str, writers: list[dict[str, Any]],
                 versions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every run that wrote the dataset, newest first: the runs of the jobs that write it now (a failed run
    among them too, whether or not it got to name its outputs) and the runs that created one of its versions
    (a job that no longer writes it included)."""
    found: dict[str, dict[str, Any]] = {}
    for job in writers:
        path = f"/namespaces/{segment(job['namespace'])}/jobs/{segment(job['name'])}/runs"
        for run in _all_pages(client, path, "runs"):
            if _writes(run, namespace, name) or (run.get("state") in FAILED_STATES
                                                 and not run.get("outputDatasetVersions")):
                found[run["id"]] = run
    for version in versions:
        creator = version.get("createdByRun")
        if creator and creator["id"] not in found:
            found[creator["id"]] = client.get(f"/jobs/runs/{segment(creator['id'])}")
    job_facets = _JobFacets(client)
    entries = [run_entry(run, namespace, name, job_facets) for run in found.values()]
    return sorted(entries, key=lambda r: (r["startedAt"] or r["createdAt"] or "", r["id"]), reverse=True)


def _writes(run: dict[str, Any], namespace: str, name: str) -> bool:
    return any(_names(out["datasetVersionId"], namespace, name) for out in run.get("outputDatasetVersions") or [])


def _names(version_id: dict[str, Any], namespace: str, name: str) -> bool:
    return version_id.get("namespace") == namespace and version_id.get("name") == name


def run_entry(run: dict[str, Any], namespace: str, name: str, job_facets: "_JobFacets") -> dict[str, Any]:
    """One run as the report lists it: its job (and the application run it belongs to), times, state, the
    rows it wrote into the dataset, and the code it ran."""
    written = next((out for out in run.get("outputDatasetVersions") or []
                    if _names(out["datasetVersionId"], namespace, name)), None)
    statistics = ((written or {}).get("facets") or {}).get("outputStatistics") or {}
    parent = (run.get("facets") or {}).get("parent") or {}
    code = job_facets.code_location(run["id"], run.get("parentRunUuid"))
    return {"id": run["id"], "job": {"namespace": run["jobVersion"]["namespace"], "name": run["jobVersion"]["name"]},
            "parent": None if not parent.get("job") else {
                "job": {"namespace": parent["job"].get("namespace"), "name": parent["job"].get("name")},
                "runId": (parent.get("run") or {}).get("runId")},
            "createdAt": run.get("createdAt"), "startedAt": run.get("startedAt"), "endedAt": run.get("endedAt"),
            "state": run.get("state"), "failed": run.get("state") in FAILED_STATES,
            "datasetVersion": None if written is None else written["datasetVersionId"]["version"],
            "rowsWritten": statistics.get("rowCount"), "bytesWritten": statistics.get("size"),
            "filesWritten": statistics.get("fileCount"), "codeLocation": code}


class _JobFacets:
    """The sourceCodeLocation facet a run's events carried (GET /jobs/runs/{id}/facets?type=job), else its parent
    run's: Spark's actions report to the application's run, whose job facets may hold the code location alone."""

    def __init__(self, client: ServiceClient):
        self.client, self.cache = client, {}

    def source_code(self, run_id: str) -> dict[str, Any] | None:
        if run_id not in self.cache:
            try:
                answer = self.client.get(f"/jobs/runs/{segment(run_id)}/facets", type="job")
            except BadInput:  # a parent run the service never received events of
                answer = {}
            self.cache[run_id] = (answer.get("facets") or {}).get("sourceCodeLocation")
        return self.cache[run_id]

    def code_location(self, run_id: str, parent_run_id: str | None) -> dict[str, Any] | None:
        facet, origin = self.source_code(run_id), "run"
        if facet is None and parent_run_id:
            facet, origin = self.source_code(parent_run_id), "parent run"
        if facet is None:
            return None
        return {"type": facet.get("type"), "url": facet.get("url") or facet.get("repoUrl"),
                "path": facet.get("path"), "branch": facet.get("branch"), "tag": facet.get("tag"),
                "commit": facet.get("version"), "from": origin}


# -- upstream tables and column lineage -------------------------------------------------------------------------

def upstream_of(graph: list[dict[str, Any]], start: str) -> dict[str, Any]:
    """The jobs and datasets upstream of node ``start`` in a /lineage graph, each with its distance in job steps,
    and the raw sources among them: datasets no job writes."""
    nodes = {node["id"]: node for node in graph}
    jobs: dict[str, dict[str, Any]] = {}
    datasets: dict[str, dict[str, Any]] = {}
    frontier, distance = [start], 0
    while frontier:
        distance += 1
        next_frontier = []
        for dataset_id in frontier:
            for edge in nodes[dataset_id]["inEdges"]:
                job_id = edge["origin"]
                if job_id in jobs or job_id not in nodes:
                    continue
                job = nodes[job_id]
                jobs[job_id] = _job_entry(job, distance, nodes)
                for read in job["inEdges"]:
                    if read["origin"] not in datasets and read["origin"] != start and read["origin"] in nodes:
                        datasets[read["origin"]] = _dataset_entry(nodes[read["origin"]], distance)
                        next_frontier.append(read["origin"])
        frontier = next_frontier
    return {"jobs": sorted(jobs.values(), key=lambda j: (j["distance"], j["name"])),
            "datasets": sorted(datasets.values(), key=lambda d: (d["distance"], d["name"])),
            "rawSources": sorted((d for d in datasets.values() if not d["writtenBy"]),
                                 key=lambda d: (d["namespace"], d["name"]))}


def _job_entry(job: dict[str, Any], distance: int, nodes: dict[str, Any]) -> dict[str, Any]:
    data = job.get("data") or {}
    return {"namespace": data["namespace"], "name": data["name"], "parentJobName": data.get("parentJobName"),
            "distance": distance, "location": data.get("location"),
            "latestRunState": (data.get("latestRun") or {}).get("state"),
            "inputs": [_dataset_ref(nodes, e["origin"]) for e in job["inEdges"] if e["origin"] in nodes],
            "outputs": [_dataset_ref(nodes, e["destination"]) for e in job["outEdges"] if e["destination"] in nodes]}


def _dataset_entry(dataset: dict[str, Any], distance: int) -> dict[str, Any]:
    data = dataset.get("data") or {}
    return {"namespace": data["namespace"], "name": data["name"], "shortName": short_name(data["name"]),
            "distance": distance, "writtenBy": [_job_ref(e["origin"]) for e in dataset["inEdges"]]}


def _dataset_ref(nodes: dict[str, Any], node_id: str) -> dict[str, str]:
    data = nodes[node_id]["data"]
    return {"namespace": data["namespace"], "name": data["name"]}


def _job_ref(node_id: str) -> str:
    return node_id.removeprefix("job:")


def column_lineage(client: ServiceClient, namespace: str, name: str,
                   dataset: dict[str, Any]) -> list[dict[str, Any]]:
    """Each current field of the dataset with the fields it is computed from (one step up) and how."""
    graph = client.get("/column-lineage", nodeId=f"dataset:{namespace}:{name}", depth=1)["graph"]
    computed = {node["data"]["field"]: node["data"] for node in graph
                if node["data"]["namespace"] == namespace and node["data"]["dataset"] == name}
    fields = []
    for field in dataset.get("fields") or []:
        inputs = (computed.get(field["name"]) or {}).get("inputFields") or []
        fields.append({"field": field["name"], "type": field.get("type"), "inputs": [
            {"namespace": i["namespace"], "dataset": i["dataset"], "field": i["field"],
             "transformations": [{"type": t.get("type"), "subtype": t.get("subtype"),
                                  "description": t.get("description") or None, "masking": bool(t.get("masking"))}
                                 for t in i.get("transformations") or []]}
            for i in inputs]})
    return fields


# -- classes, ledger, summary ------------------------------------------------------------------------------------

def classifications(client: ServiceClient, namespace: str, name: str) -> dict[str, Any]:
    """The service's answer on the classes the dataset's columns carry; on a service without the route, a note
    saying so (the report is still worth having, and says it lacks the section)."""
    try:
        answer = client.get(dataset_path(namespace, name) + "/classifications")
    except BadInput as exc:
        return {"available": False, "reason": f"the service did not answer classifications: {exc}"}
    return {"available": True, **answer}


def _ledger(client: ServiceClient) -> dict[str, Any]:
    ledger = client.get("/audit/ledger")
    return {"length": ledger.get("length"), "headHash": ledger.get("headHash"),
            "algorithm": ledger.get("algorithm"), "lastAppendedAt": ledger.get("lastAppendedAt")}


def summary(report: dict[str, Any], writers: list[dict[str, Any]]) -> dict[str, Any]:
    runs = report["runs"]
    last = runs[0] if runs else None
    version = report["currentVersion"] or {}
    creator = (version.get("createdByRun") or {}).get("id")
    current_rows = next((r["rowsWritten"] for r in runs if r["id"] == creator), None)
    found = report["classifications"]
    return {
        "writers": [{"namespace": j["namespace"], "name": j["name"], "parentJobName": j["parentJobName"]}
                    for j in writers],
        "runCount": len(runs), "failedRunCount": sum(1 for r in runs if r["failed"]),
        "lastRun": None if last is None else {"id": last["id"], "state": last["state"],
                                              "startedAt": last["startedAt"], "endedAt": last["endedAt"],
                                              "rowsWritten": last["rowsWritten"],
                                              "codeLocation": last["codeLocation"]},
        "currentVersionRows": current_rows,
        "rawSources": [f"{d['namespace']}:{d['name']}" for d in report["upstream"]["rawSources"]],
        "classesInTheClear": found.get("classes", []) if found["available"] else None,
        "maskedClasses": found.get("maskedClasses", []) if found["available"] else None,
        "influencedByClasses": found.get("influencedByClasses", []) if found["available"] else None,
    }


def _all_pages(client: ServiceClient, path: str, key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = client.get(path, limit=PAGE, offset=len(items))
        items.extend(page.get(key) or [])
        if not page.get(key) or len(items) >= page.get("totalCount", 0):
            return items


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
