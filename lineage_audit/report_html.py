"""The provenance report as one self-contained HTML document: inline CSS, no script, nothing fetched.

It renders the dict ``report_model.build_report`` returns, section by section (``<section id=...>``: summary,
version, schema, runs, upstream, column-lineage, classes, ledger), so that it reads in any browser from a file
or a mail attachment, prints on paper, and says the same as the JSON written beside it.
"""

from __future__ import annotations

from html import escape
from typing import Any, Iterable

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2430; margin: 0;
       background: #f4f6f9; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 2px solid #dfe4ec;
     padding-bottom: 4px; } h3 { font-size: 15px; margin: 18px 0 6px; }
.meta { color: #5a6475; margin: 0 0 16px; } code, .mono { font-family: ui-monospace, Menlo, Consolas, monospace;
     font-size: 12.5px; word-break: break-all; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; } th, td { border: 1px solid #dfe4ec;
     padding: 5px 8px; text-align: left; vertical-align: top; } th { background: #eef2f7; font-weight: 600; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 8px 0; }
dl.facts dt { color: #5a6475; } dl.facts dd { margin: 0; }
.badge { display: inline-block; padding: 1px 7px; border-radius: 10px; font-size: 12px; font-weight: 600;
     margin: 1px 3px 1px 0; background: #e3e8ef; }
.state-COMPLETED { background: #d8f0dd; color: #17612a; } .state-FAILED, .state-ABORTED { background: #fbd9d7;
     color: #8f1d16; } .state-RUNNING, .state-START { background: #fff1c9; color: #7a5a00; }
tr.failed td { background: #fdf0ef; } .clear { background: #fbd9d7; color: #8f1d16; }
.masked { background: #dde9fb; color: #1f4b8f; } .influenced { background: #f1e6fb; color: #5b2a86; }
.summary { background: #f7f9fc; border: 1px solid #dfe4ec; border-radius: 6px; padding: 10px 16px; }
.none { color: #8a93a3; font-style: italic; } ol.path { margin: 4px 0 4px 18px; padding: 0; }
.note { color: #5a6475; font-size: 13px; } tr[data-field] > td:first-child code { white-space: nowrap; }
@media print { body { background: #fff; } main { padding: 0; } }
"""


def render(report: dict[str, Any]) -> str:
    """The whole document."""
    dataset = report["dataset"]
    title = f"Provenance of {dataset['shortName']}"
    body = "".join([
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">Dataset <code data-testid="dataset-name">{escape(dataset["namespace"])}:'
        f'{escape(dataset["name"])}</code><br>Report made at <span data-testid="generated-at">'
        f'{escape(report["report"]["generatedAt"])}</span> from the lineage service at '
        f'<code data-testid="service-url">{escape(report["report"]["serviceUrl"])}</code></p>',
        _summary(report), _version(report), _schema(report), _runs(report), _upstream(report),
        _column_lineage(report), _classes(report), _ledger(report)])
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
            f"<body><main>{body}</main></body></html>\n")


def _section(key: str, heading: str, content: str) -> str:
    return f'<section id="{key}" data-section="{key}"><h2>{escape(heading)}</h2>{content}</section>'


def _text(value: Any) -> str:
    return '<span class="none">none</span>' if value in (None, "", []) else escape(str(value))


def _count(value: int | None) -> str:
    return '<span class="none">not recorded</span>' if value is None else f"{value:,}"


def _state(state: str | None) -> str:
    return f'<span class="badge state-{escape(state or "")}">{_text(state)}</span>'


def _table(headers: Iterable[str], rows: Iterable[str], testid: str) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    return f'<table data-testid="{testid}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _facts(pairs: list[tuple[str, str]], testid: str) -> str:
    items = "".join(f'<dt>{escape(label)}</dt><dd data-fact="{escape(label)}">{value}</dd>' for label, value in pairs)
    return f'<dl class="facts" data-testid="{testid}">{items}</dl>'


def _job_name(job: dict[str, Any], parent: str | None = None) -> str:
    full = f'<code>{escape(job["namespace"])}:{escape(job["name"])}</code>'
    return f"<strong>{escape(parent)}</strong> ({full})" if parent else full


def _classes_list(classes: list[str] | None, kind: str) -> str:
    if classes is None:
        return '<span class="none">not available</span>'
    if not classes:
        return '<span class="none">none</span>'
    return "".join(f'<span class="badge {kind}" data-class="{escape(c)}">{escape(c)}</span>' for c in classes)


# -- sections ---------------------------------------------------------------------------------------------------

def _summary(report: dict[str, Any]) -> str:
    summary = report["summary"]
    writers = ", ".join(_job_name(w, w["parentJobName"]) for w in summary["writers"]) or _text(None)
    last_run, last_code = _last_run(summary["lastRun"])
    failed = summary["failedRunCount"]
    runs = f'{summary["runCount"]}' + (
        f' (<strong class="badge state-FAILED">{failed} failed</strong>)' if failed else "")
    return _section("summary", "Summary", '<div class="summary">' + _facts([
        ("Written by", writers), ("Runs that wrote it", runs), ("Last run", last_run), ("Its code", last_code),
        ("Rows in the current version", _count(summary["currentVersionRows"])),
        ("Raw sources", "<br>".join(f"<code>{escape(s)}</code>" for s in summary["rawSources"]) or _text(None)),
        ("Classes in the clear", _classes_list(summary["classesInTheClear"], "clear")),
        ("Classes masked", _classes_list(summary["maskedClasses"], "masked")),
        ("Influenced by", _classes_list(summary["influencedByClasses"], "influenced")),
        ("Ledger head", f'<code>{escape(str(report["ledger"]["headHash"]))}</code> '
                        f'({_count(report["ledger"]["length"])} events)'),
    ], "summary-facts") + "</div>")


def _last_run(last: dict[str, Any] | None) -> tuple[str, str]:
    """The last run (state, time, id) and the code it ran (location, commit)."""
    if last is None:
        return _text(None), _text(None)
    run = (f'{_state(last["state"])} {_text(last["endedAt"] or last["startedAt"])} '
           f'(run <code>{escape(last["id"])}</code>)')
    code = last.get("codeLocation")
    if code is None:
        return run, _text(None)
    commit = f' at commit <code data-testid="last-commit">{escape(code["commit"])}</code>' if code["commit"] else ""
    return run, f'<code>{escape(code["url"] or code["path"] or "")}</code>{commit}'


def _version(report: dict[str, Any]) -> str:
    version = report["currentVersion"]
    if version is None:
        return _section("version", "Current version", '<p class="none">The service holds no version of it.</p>')
    run = version["createdByRun"]
    made_by = _text(None) if run is None else (
        f'run <code>{escape(run["id"])}</code> of {_job_name(run["job"])} {_state(run["state"])}')
    return _section("version", "Current version", _facts([
        ("Version", f'<code data-testid="version-id">{escape(version["version"])}</code>'),
        ("Created", _text(version["createdAt"])), ("Updated", _text(version["updatedAt"])),
        ("Lifecycle state", _text(version["lifecycleState"])), ("Produced by", made_by),
        ("Description", _text(report["dataset"]["description"])),
        ("Tags", _text(", ".join(report["dataset"]["tags"]))),
    ], "version-facts"))


def _schema(report: dict[str, Any]) -> str:
    rows = [f'<tr data-field="{escape(f["name"])}"><td><code>{escape(f["name"])}</code></td><td>{_text(f["type"])}'
            f'</td><td>{_text(f["description"])}</td><td>{_text(", ".join(f["tags"]))}</td></tr>'
            for f in report["schema"]]
    return _section("schema", f"Schema ({len(rows)} fields)",
                    _table(["Field", "Type", "Description", "Tags"], rows, "schema-table"))


def _runs(report: dict[str, Any]) -> str:
    rows = []
    for run in report["runs"]:
        code = run["codeLocation"]
        where = _text(None) if code is None else (
            f'<code>{escape(code["url"] or code["path"] or "")}</code>'
            + (f'<br>path {escape(code["path"])}' if code["path"] and code["url"] else "")
            + (f'<br>branch {escape(code["branch"])}' if code["branch"] else ""))
        commit = _text(None) if code is None or not code["commit"] else f'<code>{escape(code["commit"])}</code>'
        parent = "" if run["parent"] is None else (
            f'<br>in run <code>{escape(str(run["parent"]["runId"]))}</code> of '
            f'<strong>{escape(str(run["parent"]["job"]["name"]))}</strong>')
        flag = ' <strong class="badge state-FAILED">FAILED RUN</strong>' if run["failed"] else ""
        rows.append(
            f'<tr data-run="{escape(run["id"])}" data-state="{escape(run["state"] or "")}"'
            f'{" class=failed" if run["failed"] else ""}><td><code>{escape(run["id"])}</code>{parent}</td>'
            f'<td>{_job_name(run["job"])}</td><td>{_text(run["startedAt"])}</td><td>{_text(run["endedAt"])}</td>'
            f'<td>{_state(run["state"])}{flag}</td><td data-rows>{_count(run["rowsWritten"])}</td>'
            f'<td>{where}</td><td>{commit}</td></tr>')
    if not rows:
        return _section("runs", "Runs that wrote it", '<p class="none">No run wrote it: it is a raw source.</p>')
    return _section("runs", f"Runs that wrote it ({len(rows)})", _table(
        ["Run", "Job", "Started", "Ended", "State", "Rows written", "Code location", "Commit"], rows, "runs-table"))


def _upstream(report: dict[str, Any]) -> str:
    upstream = report["upstream"]
    rows = [f'<tr data-job="{escape(j["name"])}"><td>{j["distance"]}</td><td>{_job_name(j, j["parentJobName"])}</td>'
            f'<td>{"<br>".join(_dataset_code(d) for d in j["inputs"])}</td>'
            f'<td>{"<br>".join(_dataset_code(d) for d in j["outputs"])}</td></tr>' for j in upstream["jobs"]]
    sources = "".join(f'<li data-source="{escape(d["name"])}">{_dataset_code(d)}</li>' for d in upstream["rawSources"])
    content = ('<p class="note">Job steps back from this table (1: the jobs that write it), each with all it reads '
               'and writes. Raw sources are the datasets on the way that no job writes.</p>'
               + (_table(["Steps back", "Job", "Reads", "Writes"], rows, "upstream-table") if rows
                  else '<p class="none">No job writes it.</p>')
               + f'<h3>Raw sources ({len(upstream["rawSources"])})</h3>'
               + (f'<ul data-testid="raw-sources">{sources}</ul>' if sources else '<p class="none">none</p>'))
    return _section("upstream", "Upstream tables", content)


def _dataset_code(dataset: dict[str, Any]) -> str:
    return f'<code>{escape(dataset["namespace"])}:{escape(dataset["name"])}</code>'


def _transformation(t: dict[str, Any]) -> str:
    text = f'{t["type"] or "?"}/{t["subtype"] or "?"}' + (" masking" if t["masking"] else "")
    if t.get("description"):
        text += f" '{t['description']}'"
    return f'<span class="badge{" masked" if t["masking"] else ""}">{escape(text)}</span>'


def _column_lineage(report: dict[str, Any]) -> str:
    rows = []
    for field in report["columnLineage"]:
        inputs = "<br>".join(
            f'<code>{escape(i["namespace"])}:{escape(i["dataset"])}</code> . <code>{escape(i["field"])}</code> '
            + "".join(_transformation(t) for t in i["transformations"]) for i in field["inputs"])
        rows.append(f'<tr data-field="{escape(field["field"])}"><td><code>{escape(field["field"])}</code></td>'
                    f'<td>{inputs or _text(None)}</td></tr>')
    return _section("column-lineage", "Column lineage",
                    '<p class="note">Each field with the fields it is computed from in the job that writes it.</p>'
                    + _table(["Field", "Computed from (transformation type/subtype)"], rows, "column-lineage-table"))


def _ref(ref: dict[str, Any]) -> str:
    """A column, or a whole dataset's rows where a step reaches the dataset rather than a field (field "")."""
    column = f'.{escape(ref["field"])}' if ref.get("field") else " (rows)"
    return f'<code>{escape(ref["namespace"])}:{escape(ref["dataset"])}{column}</code>'


def _step(step: dict[str, Any]) -> str:
    job = step.get("job")
    by = f' by <code>{escape(job["namespace"])}:{escape(job["name"])}</code>' if job else ""
    declared = step.get("declared")
    correction = "" if not declared else (
        f' <span class="badge masked">declared {escape(declared["as"])}</span> '
        f'<span class="note">{escape(declared["reason"])} (conf/classification.yml)</span>')
    return f'{_ref(step["from"])} &rarr; {_ref(step["to"])}{by} {_transformation(step["transformation"])}{correction}'


def _carry(carry: dict[str, Any], kind: str) -> str:
    source = carry["source"]
    origin = f'{escape(source["origin"])}: {escape(str(source.get("detail") or ""))}'
    steps = "".join(f"<li>{_step(s)}</li>" for s in carry.get("path") or [])
    masked = carry.get("maskedAt")
    where = "" if not masked else f' <span class="badge masked">masked at</span> {_step(masked)}'
    return (f'<div data-carry="{escape(carry["class"])}" data-kind="{kind}"><span class="badge {kind}">'
            f'{escape(carry["class"])}</span> from {_ref(source)} ({origin}){where}'
            + (f'<ol class="path">{steps}</ol>' if steps else ' <span class="note">(the source itself)</span>')
            + "</div>")


def _classes(report: dict[str, Any]) -> str:
    found = report["classifications"]
    if not found["available"]:
        return _section("classes", "Classes its columns carry", f'<p class="none">{escape(found["reason"])}</p>')
    rows = []
    for field in found["fields"]:
        cells = ["".join(_carry(c, kind) for c in field[key]) or _text(None)
                 for key, kind in (("carries", "clear"), ("masked", "masked"), ("influencedBy", "influenced"))]
        rows.append(f'<tr data-field="{escape(field["field"])}"><td><code>{escape(field["field"])}</code></td>'
                    + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    dataset_level = "".join(_carry(c, "influenced") for c in found.get("rowsInfluencedBy") or [])
    return _section("classes", "Classes its columns carry", _facts([
        ("In the clear", _classes_list(found.get("classes", []), "clear")),
        ("Masked", _classes_list(found.get("maskedClasses", []), "masked")),
        ("Influenced by", _classes_list(found.get("influencedByClasses", []), "influenced")),
    ], "classes-facts") + _table(["Field", "In the clear", "Masked (where)", "Influenced by"], rows, "classes-table")
        + "<h3>Rows influenced by (filters and joins on whole rows)</h3>"
        + (f'<div data-testid="rows-influenced-by">{dataset_level}</div>' if dataset_level else _text(None)))


def _ledger(report: dict[str, Any]) -> str:
    ledger = report["ledger"]
    return _section("ledger", "Event ledger head", _facts([
        ("Length", _count(ledger["length"])),
        ("Head hash", f'<code data-testid="ledger-head">{escape(str(ledger["headHash"]))}</code>'),
        ("Algorithm", _text(ledger["algorithm"])), ("Last appended", _text(ledger["lastAppendedAt"])),
    ], "ledger-facts") + '<p class="note">Read after every other answer: the events behind this report are among '
        "the ledger's first <em>length</em> entries. <code>lineage-audit verify --expect LENGTH:HASH</code> later "
        "proves they have not changed since.</p>")
