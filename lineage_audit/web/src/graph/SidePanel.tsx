// Details of what was clicked in the graph: a job, a dataset or a field. It reads what it needs by itself and
// never touches the graph's layout.
import type { ReactNode } from "react";
import { paths } from "../api";
import { ClassBadges, DatasetClassSummary, useDatasetClasses } from "../components/ClassBadges";
import { StateBadge } from "../components/StateBadge";
import { errorOfRun, sourceLocation } from "../components/runs";
import { fieldIdOfKey, fieldOfKey, formatDuration, formatTime, shortDatasetName } from "../names";
import { usePolled } from "../poll";
import { hrefs } from "../router";
import type { Field, Job } from "../types";
import type { GraphOptions } from "../pages/LineagePage";
import type { GraphChanges } from "./changes";
import { ChangeDetails } from "./ChangeDetails";
import { traceOf, type ColumnGraph, type FieldEdge, type Highlight } from "./columns";
import type { GraphModel, GraphNode } from "./model";
import type { ClassIndex } from "../classes";

interface PanelProps {
  model: GraphModel | null;
  root: string;
  selectedNode: string | null;
  selectedField: string | null; // a field key
  columns: ColumnGraph | null;
  marks: Map<string, Highlight> | null;
  onSelectField: (id: string) => void;
  onCenter: (id: string) => void;
  options: GraphOptions;
  /** shown when nothing is selected (default: how to use the graph) */
  hint?: ReactNode;
  /** what changed since a moment, in a "changes since" view */
  changes?: GraphChanges | null;
  /** the classes of classified fields by field key, once read (a selected field's badges) */
  classes?: ClassIndex | null;
}

export function SidePanel(props: PanelProps) {
  const { model, selectedNode, selectedField } = props;
  const node = selectedNode ? model?.byId.get(selectedNode) : undefined;
  return (
    <aside className="side-panel" data-testid="side-panel">
      {selectedField && props.columns ? (
        <FieldDetails id={selectedField} columns={props.columns} marks={props.marks} onSelect={props.onSelectField}
          model={model} onCenter={props.onCenter} classes={props.classes ?? null} />
      ) : node ? (
        <NodeDetails node={node} model={model!} onCenter={props.onCenter} options={props.options}
          changes={props.changes ?? null} />
      ) : (
        props.hint ?? <Hint columns={props.options.columns} />
      )}
    </aside>
  );
}

function Hint({ columns }: { columns: boolean }) {
  return (
    <div className="panel-hint">
      <h2>Details</h2>
      <p>Click a job or a dataset to see it here; double-click one to centre the graph on it.</p>
      <p>
        {columns
          ? "Click a field to highlight every field it comes from and every field computed from it."
          : "Turn on Column level to see each dataset's fields and trace them across jobs."}
      </p>
      <p>Scroll to zoom, drag to pan.</p>
    </div>
  );
}

function Neighbours({ title, ids, model, onCenter }: {
  title: string; ids: string[]; model: GraphModel; onCenter: (id: string) => void;
}) {
  if (!ids.length) return null;
  return (
    <>
      <h3>{title}</h3>
      <ul className="plain-list">
        {ids.map((id) => (
          <li key={id}>
            <button type="button" className="link-button" title={id} onClick={() => onCenter(id)}>
              {model.byId.get(id)?.label ?? id}
            </button>
          </li>
        ))}
      </ul>
    </>
  );
}

function NodeDetails({ node, model, onCenter, options, changes }: {
  node: GraphNode; model: GraphModel; onCenter: (id: string) => void; options: GraphOptions;
  changes: GraphChanges | null;
}) {
  const upstream = model.edges.filter((e) => e.to === node.id).map((e) => e.from);
  const downstream = model.edges.filter((e) => e.from === node.id).map((e) => e.to);
  const isJob = node.kind === "JOB";
  const page = isJob ? hrefs.job(node.namespace, node.name) : hrefs.dataset(node.namespace, node.name);
  return (
    <div>
      <p className="panel-kind">{isJob ? "Job" : "Dataset"}</p>
      <h2 className="panel-title">{node.label}</h2>
      <p className="full-name">{node.name}</p>
      {changes && <ChangeDetails node={node} changes={changes} />}
      <dl className="facts">
        <dt>Namespace</dt>
        <dd>{node.namespace}</dd>
        {isJob && <JobFacts node={node} asOf={options.asOf} />}
      </dl>
      {!isJob && <DatasetFields node={node} removed={changes?.fields.get(node.id)?.removed ?? []} />}
      <div className="panel-actions">
        <a href={page}>Open {isJob ? "job" : "dataset"} page</a>
        <a href={hrefs.lineage(node.id, options)}>Centre the graph here</a>
      </div>
      <Neighbours title={isJob ? "Reads" : "Written by"} ids={upstream} model={model} onCenter={onCenter} />
      <Neighbours title={isJob ? "Writes" : "Read by"} ids={downstream} model={model} onCenter={onCenter} />
    </div>
  );
}

/** dt/dd pairs of a job's latest run, error and source, inside the panel's list of facts. */
function JobFacts({ node, asOf }: { node: GraphNode; asOf: string | null }) {
  // as of the graph's moment (a removed job, in a "changes since" view, is read as it is now: still kept)
  const job = usePolled<Job>(paths.job(node.namespace, node.name, asOf));
  const run = job.data?.latestRun ?? node.source.data.latestRun ?? null;
  const error = job.data?.latestRun ? errorOfRun(job.data.latestRun) : null;
  const location = job.data ? sourceLocation(job.data) : null;
  return (
    <>
      <dt>Latest run</dt>
      <dd>{run ? <StateBadge state={run.state} /> : "none yet"}</dd>
      {run && (
        <>
          <dt>Started</dt>
          <dd>{formatTime(run.startedAt ?? run.createdAt)}</dd>
          <dt>Duration</dt>
          <dd>{formatDuration(run.durationMs)}</dd>
        </>
      )}
      {error && (
        <>
          <dt>Error</dt>
          <dd className="run-error-text">{error}</dd>
        </>
      )}
      {location && (
        <>
          <dt>Source</dt>
          <dd className="full-name">{location}</dd>
        </>
      )}
    </>
  );
}

/** The dataset's schema; in a "changes since" view, the fields removed since are listed last, struck out. */
function DatasetFields({ node, removed }: { node: GraphNode; removed: Field[] }) {
  const gone = new Set(removed.map((f) => f.name));
  const classes = useDatasetClasses(node.namespace, node.name);
  return (
    <>
      <h3>Schema ({node.fields.length - gone.size} fields)</h3>
      <DatasetClassSummary data={classes.data} />
      <table className="mini-table" data-testid="panel-schema">
        <tbody>
          {node.fields.map((f) => (
            <tr key={f.name} className={gone.has(f.name) ? "removed-field" : ""} data-field={f.name}>
              <td>{f.name}</td>
              <td className="muted">{gone.has(f.name) ? `${f.type ?? ""} (removed)` : (f.type ?? "")}</td>
              <td data-testid="field-classes"><ClassBadges entry={classes.byField.get(f.name)} /></td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** A field (by its key) as a link that selects it. */
function FieldLink({ id, onSelect, note }: { id: string; onSelect: (id: string) => void; note?: string }) {
  const { dataset, field } = fieldOfKey(id);
  return (
    <li>
      <button type="button" className="link-button" title={fieldIdOfKey(id)} onClick={() => onSelect(id)}>
        {shortDatasetName(dataset)}.{field}
      </button>
      {note && <span className="muted"> {note}</span>}
    </li>
  );
}

function edgeNote(edge: FieldEdge): string {
  return `${edge.transformation}${edge.masking ? " · masked" : ""}${edge.description ? ` · ${edge.description}` : ""}`;
}

function FieldDetails({ id, columns, marks, onSelect, model, onCenter, classes }: {
  id: string; columns: ColumnGraph; marks: Map<string, Highlight> | null; onSelect: (id: string) => void;
  model: GraphModel | null; onCenter: (id: string) => void; classes: ClassIndex | null;
}) {
  const { dataset, field } = fieldOfKey(id);
  const inputs = columns.into.get(id) ?? [];
  const outputs = columns.outOf.get(id) ?? [];
  const upstream = [...(marks ?? [])].filter(([, mark]) => mark === "upstream").map(([f]) => f);
  const sources = upstream.filter((f) => !(columns.into.get(f) ?? []).length);
  const downstream = [...(marks ?? [])].filter(([, mark]) => mark === "downstream").length;
  const jobs = model && marks ? [...traceOf(model, columns, marks).jobs] : [];
  return (
    <div>
      <p className="panel-kind">Field</p>
      <h2 className="panel-title">{field}</h2>
      <p className="full-name">{dataset}</p>
      {classes?.has(id) && (
        <p data-testid="panel-field-classes"><ClassBadges entry={classes.get(id)} /></p>
      )}
      <p>
        {upstream.length} upstream field{upstream.length === 1 ? "" : "s"}, {downstream} downstream.
      </p>
      <h3>Computed from</h3>
      {inputs.length ? (
        <ul className="plain-list">
          {inputs.map((e) => <FieldLink key={e.from} id={e.from} onSelect={onSelect} note={edgeNote(e)} />)}
        </ul>
      ) : <p className="muted">No input fields: a source column.</p>}
      {sources.length > 0 && (
        <>
          <h3>Source columns</h3>
          <ul className="plain-list">
            {sources.map((f) => <FieldLink key={f} id={f} onSelect={onSelect} />)}
          </ul>
        </>
      )}
      {outputs.length > 0 && (
        <>
          <h3>Feeds</h3>
          <ul className="plain-list">
            {outputs.map((e) => <FieldLink key={e.to} id={e.to} onSelect={onSelect} note={edgeNote(e)} />)}
          </ul>
        </>
      )}
      {jobs.length > 0 && model && (
        <>
          <h3>Through jobs ({jobs.length})</h3>
          <ul className="plain-list" data-testid="trace-jobs">
            {jobs.map(([job, mark]) => (
              <li key={job} data-node-id={job} data-trace={mark}>
                <button type="button" className="link-button" title={job} onClick={() => onCenter(job)}>
                  {model.byId.get(job)?.label ?? job}
                </button>
                <span className="muted"> {model.byId.get(job)?.sublabel} · {mark}</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
