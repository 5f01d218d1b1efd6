// What changed from one run of a job to another (GET /audit/diff/runs): inputs and outputs added or removed, and
// per dataset its fields added, removed or retyped, its column-lineage edges added, removed or with other
// transformations, and its row count before and after.
import { paths } from "../api";
import { StateBadge } from "../components/StateBadge";
import { formatTime, shortDatasetName, transformationLabel } from "../names";
import { usePolled } from "../poll";
import { hrefs } from "../router";
import type {
  AddedRemoved, ColumnEdgeChange, DatasetDiff, DatasetRef, DiffEnd, DiffTransformation, LineageDiff,
} from "../types";

function transformations(list: DiffTransformation[] | undefined): string {
  if (!list?.length) return "no transformation";
  return list.map((t) => `${transformationLabel(t.type, t.subtype)}${t.masking ? " · masked" : ""}${
    t.description ? ` (${t.description})` : ""}`).join(", ");
}

function RunEnd({ label, end }: { label: string; end: DiffEnd }) {
  return (
    <span className="diff-end">
      {label} run <code title={end.runId ?? ""}>{end.runId?.slice(0, 8) ?? "–"}</code>{" "}
      {end.state && <StateBadge state={end.state} />} <span className="muted">{formatTime(end.time)}</span>
    </span>
  );
}

function DatasetChanges({ title, verb, changes }: {
  title: string; verb: string; changes: AddedRemoved<DatasetRef>;
}) {
  if (!changes.added.length && !changes.removed.length) return null;
  const item = (d: DatasetRef, kind: "added" | "removed") => (
    <li key={`${kind}:${d.namespace}:${d.name}`} className={`diff-${kind}`} data-change={kind}
      data-dataset={d.name}>
      <span className="diff-sign">{kind === "added" ? "+" : "−"}</span>{" "}
      <a href={hrefs.dataset(d.namespace, d.name)} title={`${d.namespace}:${d.name}`}>{shortDatasetName(d.name)}</a>
      <span className="muted"> {kind === "added" ? `now ${verb}` : `no longer ${verb}`}</span>
    </li>
  );
  return (
    <div data-testid={`diff-${title.toLowerCase()}`}>
      <h4>{title}</h4>
      <ul className="diff-list">
        {changes.added.map((d) => item(d, "added"))}
        {changes.removed.map((d) => item(d, "removed"))}
      </ul>
    </div>
  );
}

function edgeText(edge: ColumnEdgeChange): string {
  return `${edge.field} ← ${shortDatasetName(edge.input.name)}.${edge.input.field}`;
}

export function ColumnLineageChanges({ lineage }: { lineage: DatasetDiff["columnLineage"] }) {
  const rows = [
    ...lineage.added.map((e) => ({ e, kind: "added", sign: "+", note: transformations(e.transformations) })),
    ...lineage.removed.map((e) => ({ e, kind: "removed", sign: "−", note: transformations(e.transformations) })),
    ...lineage.changed.map((e) => ({
      e, kind: "type", sign: "~",
      note: `${transformations(e.fromTransformations)} → ${transformations(e.toTransformations)}`,
    })),
  ];
  if (!rows.length) return null;
  return (
    <>
      <h5>Column lineage</h5>
      <ul className="diff-list column-changes" data-testid="column-lineage-changes">
        {rows.map(({ e, kind, sign, note }) => (
          <li key={`${kind}:${edgeText(e)}`} className={`diff-${kind}`} data-change={kind === "type" ? "changed" : kind}
            data-field={e.field} data-input={`${e.input.name}:${e.input.field}`}>
            <span className="diff-sign">{sign}</span> <code>{edgeText(e)}</code> <span className="muted">{note}</span>
          </li>
        ))}
      </ul>
    </>
  );
}

/** "older" or "newer" when only that run read (or wrote) the dataset, else null. */
type OnlyIn = "older" | "newer" | null;

function onlyIn(data: LineageDiff, dataset: DatasetDiff): OnlyIn {
  const changes = dataset.role === "INPUT" ? data.inputs : data.outputs;
  const same = (d: DatasetRef) => d.namespace === dataset.namespace && d.name === dataset.name;
  if (changes.added.some(same)) return "newer";
  return changes.removed.some(same) ? "older" : null;
}

function DatasetDiffView({ dataset, only }: { dataset: DatasetDiff; only: OnlyIn }) {
  const { fields, rowCount } = dataset;
  // a dataset only one run touched: its fields all came or went with it, the input and output lists say so
  const hasFields = !only && fields.added.length + fields.removed.length + fields.retyped.length > 0;
  const schema = [...fields.added, ...fields.removed].map((f) => f.name).join(", ");
  return (
    <div className="diff-dataset" data-testid="diff-dataset" data-dataset={dataset.name} data-role={dataset.role}>
      <h4>
        <a href={hrefs.dataset(dataset.namespace, dataset.name)} title={`${dataset.namespace}:${dataset.name}`}>
          {shortDatasetName(dataset.name)}
        </a>{" "}
        <span className="muted small">{dataset.role === "OUTPUT" ? "output" : "input"}</span>
      </h4>
      {only && (
        <p className="muted" data-testid="only-in">
          {dataset.role === "OUTPUT" ? "Written" : "Read"} by the {only} run only{schema ? ` (fields: ${schema})` : ""}.
        </p>
      )}
      {hasFields && (
        <>
          <h5>Fields</h5>
          <ul className="diff-list" data-testid="field-changes">
            {fields.added.map((f) => (
              <li key={`+${f.name}`} className="diff-added" data-change="added" data-field={f.name}>
                <span className="diff-sign">+</span> <code>{f.name}</code> <span className="muted">{f.type}</span>
              </li>
            ))}
            {fields.removed.map((f) => (
              <li key={`-${f.name}`} className="diff-removed" data-change="removed" data-field={f.name}>
                <span className="diff-sign">−</span> <code>{f.name}</code> <span className="muted">{f.type}</span>
              </li>
            ))}
            {fields.retyped.map((f) => (
              <li key={`~${f.name}`} className="diff-type" data-change="retyped" data-field={f.name}>
                <span className="diff-sign">~</span> <code>{f.name}</code>{" "}
                <span className="muted">{f.fromType} → {f.toType}</span>
              </li>
            ))}
          </ul>
        </>
      )}
      <ColumnLineageChanges lineage={dataset.columnLineage} />
      {(rowCount.from !== null || rowCount.to !== null) && (
        <p className="diff-rows" data-testid="row-count">
          Rows: {rowCount.from ?? "–"} → {rowCount.to ?? "–"}
        </p>
      )}
    </div>
  );
}

export function RunsDiffView({ from, to }: { from: string; to: string }) {
  const diff = usePolled<LineageDiff>(paths.runsDiff(from, to));
  if (diff.error && !diff.data) {
    return <p className="error-box" data-testid="runs-diff-error">Could not compare the runs: {diff.error.message}</p>;
  }
  const data = diff.data;
  if (!data) return <p className="loading">Comparing the runs…</p>;
  const changed = data.datasets.filter((d) => d.changed);
  return (
    <div className="runs-diff" data-testid="runs-diff" data-changed={data.changed ? "true" : "false"}>
      <p className="diff-ends">
        <RunEnd label="From" end={data.from} /> <span className="muted">→</span> <RunEnd label="to" end={data.to} />
      </p>
      {!data.changed ? (
        <p className="no-differences">No differences</p>
      ) : (
        <>
          <DatasetChanges title="Inputs" verb="read" changes={data.inputs} />
          <DatasetChanges title="Outputs" verb="written" changes={data.outputs} />
          {changed.map((d) => (
            <DatasetDiffView key={`${d.role}:${d.namespace}:${d.name}`} dataset={d} only={onlyIn(data, d)} />
          ))}
        </>
      )}
    </div>
  );
}
