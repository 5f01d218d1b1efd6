// A dataset: schema, versions (row counts from the writing run's outputStatistics, the schema difference of
// two versions), its column lineage as a table, and facets.
import { useState } from "react";
import { paths } from "../api";
import { FacetList } from "../components/JsonView";
import { StateBadge } from "../components/StateBadge";
import {
  datasetNodeId, fieldKey, formatTime, jobNodeId, shortDatasetName, transformationLabel,
} from "../names";
import { usePolled } from "../poll";
import { hrefs } from "../router";
import type { Dataset, DatasetVersion, Field, FieldClasses } from "../types";
import { ClassBadges, DatasetClassSummary, useDatasetClasses } from "../components/ClassBadges";
import { SchemaDiff } from "./SchemaDiff";

// outputStatistics is an output facet: the run that wrote the version carries it (Marquez keeps dataset
// facets only on the version itself; an older store had it there, still read)
function statistics(version: DatasetVersion): { rowCount?: unknown; size?: unknown } | undefined {
  const written = version.createdByRun?.outputDatasetVersions?.find(
    (o) => o.datasetVersionId.version === version.version);
  return (written?.facets?.outputStatistics ?? version.facets?.outputStatistics) as
    { rowCount?: unknown; size?: unknown } | undefined;
}

function rowCount(version: DatasetVersion): number | null {
  const stats = statistics(version);
  return typeof stats?.rowCount === "number" ? stats.rowCount : null;
}

function byteSize(version: DatasetVersion): string {
  const size = statistics(version)?.size;
  if (typeof size !== "number") return "–";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = size;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

function Schema({ fields, classes }: { fields: Field[]; classes: Map<string, FieldClasses> | null }) {
  // description and tags columns only when some field has one; classes once the service answered
  const described = fields.some((f) => f.description);
  const tagged = fields.some((f) => f.tags.length);
  return (
    <table className="table compact" data-testid="schema">
      <thead>
        <tr>
          <th>Field</th><th>Type</th>{described && <th>Description</th>}{tagged && <th>Tags</th>}
          {classes && <th>Classes</th>}
        </tr>
      </thead>
      <tbody>
        {fields.map((f) => (
          <tr key={f.name} data-field={f.name}>
            <td><code>{f.name}</code></td>
            <td>{f.type ?? ""}</td>
            {described && <td>{f.description ?? ""}</td>}
            {tagged && <td>{f.tags.join(", ")}</td>}
            {classes && <td data-testid="field-classes"><ClassBadges entry={classes.get(f.name)} /></td>}
          </tr>
        ))}
        {!fields.length && <tr><td colSpan={2} className="muted">No schema reported.</td></tr>}
      </tbody>
    </table>
  );
}

function Versions({ versions }: { versions: DatasetVersion[] }) {
  return (
    <table className="table" data-testid="versions">
      <thead>
        <tr><th>Version</th><th>Created</th><th>Fields</th><th>Rows</th><th>Size</th><th>Written by run</th></tr>
      </thead>
      <tbody>
        {versions.map((v) => {
          const run = v.createdByRun;
          const rows = rowCount(v);
          return (
            <tr key={v.version} data-testid="version-row">
              <td><code title={v.version}>{v.version.slice(0, 8)}</code></td>
              <td>{formatTime(v.createdAt)}</td>
              <td>{v.fields.length}</td>
              <td data-testid="row-count" data-rows={rows ?? ""}>{rows === null ? "–" : rows.toLocaleString("en")}</td>
              <td>{byteSize(v)}</td>
              <td>
                {run ? (
                  <>
                    <StateBadge state={run.state} />{" "}
                    {run.jobVersion && (
                      <a href={hrefs.job(run.jobVersion.namespace, run.jobVersion.name)} title={run.jobVersion.name}>
                        {run.jobVersion.name.slice(run.jobVersion.name.lastIndexOf(".") + 1)}
                      </a>
                    )}
                  </>
                ) : <span className="muted">–</span>}
              </td>
            </tr>
          );
        })}
        {!versions.length && <tr><td colSpan={6} className="muted">No versions yet.</td></tr>}
      </tbody>
    </table>
  );
}

function ColumnLineageTable({ dataset }: { dataset: Dataset }) {
  const rows = (dataset.columnLineage ?? []).flatMap((column) =>
    column.inputFields.map((input) => ({ column: column.name, input })),
  );
  return (
    <table className="table compact" data-testid="column-lineage-table">
      <thead>
        <tr><th>Field</th><th>From dataset</th><th>From field</th><th>Transformation</th><th>Masking</th></tr>
      </thead>
      <tbody>
        {rows.map(({ column, input }) => {
          const labels = [...new Set(input.transformations.map((t) => transformationLabel(t.type, t.subtype)))];
          const masked = input.transformations.some((t) => Boolean(t.masking));
          const key = JSON.stringify([column, fieldKey(input.namespace, input.dataset, input.field)]);
          return (
            <tr key={key}>
              <td><code>{column}</code></td>
              <td>
                <a href={hrefs.dataset(input.namespace, input.dataset)} title={`${input.namespace}:${input.dataset}`}>
                  {shortDatasetName(input.dataset)}
                </a>
              </td>
              <td><code>{input.field}</code></td>
              <td>{labels.join(", ") || transformationLabel(input.transformationType, null)}</td>
              <td>{masked ? <span className="masked-mark">masked</span> : "no"}</td>
            </tr>
          );
        })}
        {!rows.length && <tr><td colSpan={5} className="muted">No column lineage recorded.</td></tr>}
      </tbody>
    </table>
  );
}

export function DatasetDetail({ namespace, name }: { namespace: string; name: string }) {
  const dataset = usePolled<Dataset>(paths.dataset(namespace, name));
  const versions = usePolled<{ versions: DatasetVersion[]; totalCount: number }>(
    paths.datasetVersions(namespace, name),
  );
  const classes = useDatasetClasses(namespace, name);
  const [showFacets, setShowFacets] = useState(false);
  if (dataset.error && !dataset.data) {
    return <div className="page"><p className="error-box">{dataset.error.message}</p></div>;
  }
  const data = dataset.data;
  const list = versions.data?.versions ?? [];
  const writer = list[0]?.createdByRun?.jobVersion;
  return (
    <div className="page">
      <p className="breadcrumb"><a href={hrefs.datasets()}>Datasets</a> / {namespace}</p>
      <div className="page-head">
        <h1 title={name}>{shortDatasetName(name)}</h1>
        <a className="button" href={hrefs.lineage(datasetNodeId(namespace, name))}>Lineage graph</a>
        <a className="button" href={hrefs.lineage(datasetNodeId(namespace, name), { columns: true })}>
          Column lineage graph
        </a>
        <a className="button" data-testid="sensitive-graph-link"
          href={hrefs.lineage(datasetNodeId(namespace, name), { columns: true, sensitive: true })}>
          Sensitive data graph
        </a>
      </div>
      <p className="full-name">{name}</p>
      {data && (
        <dl className="facts wide">
          <dt>Namespace</dt>
          <dd>{namespace}</dd>
          <dt>Source</dt>
          <dd>{data.sourceName}</dd>
          <dt>Updated</dt>
          <dd>{formatTime(data.updatedAt)}</dd>
          {writer && (
            <>
              <dt>Last written by</dt>
              <dd><a href={hrefs.lineage(jobNodeId(writer.namespace, writer.name))}>{writer.name}</a></dd>
            </>
          )}
        </dl>
      )}
      <section>
        <h2>Schema</h2>
        <DatasetClassSummary data={classes.data} />
        {classes.error && !classes.data && (
          <p className="muted small" data-testid="classes-error">Classes unavailable: {classes.error.message}</p>
        )}
        <Schema fields={data?.fields ?? []} classes={classes.data ? classes.byField : null} />
      </section>
      <section>
        <h2>Versions <span className="muted small">{versions.data ? `${versions.data.totalCount} in all` : ""}</span></h2>
        <Versions versions={list} />
        <SchemaDiff versions={list} />
      </section>
      <section>
        <h2>Column lineage</h2>
        {data && <ColumnLineageTable dataset={data} />}
      </section>
      <section>
        <h2>
          Facets{" "}
          <button type="button" className="link-button small" onClick={() => setShowFacets(!showFacets)}>
            {showFacets ? "fold all" : "unfold all"}
          </button>
        </h2>
        <FacetList facets={data?.facets} open={showFacets} />
      </section>
    </div>
  );
}
