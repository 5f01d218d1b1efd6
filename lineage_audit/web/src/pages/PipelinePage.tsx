// The whole pipeline of a job namespace in one graph: `#/pipeline/<namespace>?columns=1`. Every job of the
// namespace and every dataset it reads or writes, laid out left to right, from the service's
// /namespaces/{ns}/lineage and /namespaces/{ns}/column-lineage (its extension of Marquez's API). Same graph,
// column level, side panel and live updates as the lineage page; a traced field also marks the jobs it
// passes through.
import { useCallback, useEffect, useMemo, useState } from "react";
import { paths } from "../api";
import { columnGraphOf, fieldRows, type ColumnGraph } from "../graph/columns";
import { GraphCanvas } from "../graph/GraphCanvas";
import { buildModel, type GraphModel } from "../graph/model";
import { SidePanel } from "../graph/SidePanel";
import { useGraphSelection } from "../graph/selection";
import { useGraphLayout } from "../graph/useGraphLayout";
import { jobNodeId } from "../names";
import { usePolled, usePolledAll } from "../poll";
import { DEFAULT_DEPTH, hrefs, navigate, sensitiveOf, type Route } from "../router";
import { useSensitive } from "../graph/sensitive";
import type { ColumnNode, LineageNode, Namespace } from "../types";
import { FindInGraph, SensitiveControl } from "./GraphToolbar";

/** Namespaces holding at least one job (null while loading), by name. */
function useJobNamespaces(): { names: string[] | null; error: string | null } {
  const namespaces = usePolled<{ namespaces: Namespace[] }>(paths.namespaces());
  const list = namespaces.data?.namespaces ?? [];
  const counts = usePolledAll<{ totalCount: number }>(list.length ? list.map((n) => paths.jobsIn(n.name, 0)) : null);
  const error = (namespaces.error ?? counts.error)?.message ?? null;
  if (!namespaces.data || (list.length && !counts.data)) return { names: null, error };
  return { names: list.filter((_, i) => (counts.data?.[i]?.totalCount ?? 0) > 0).map((n) => n.name), error };
}

/**
 * The application jobs: a Spark application's own job, parent of the jobs its actions ran, with no dataset of
 * its own. Its children stand for it in the graph (their second line names it); it is listed beside the graph.
 */
function applicationsOf(graph: LineageNode[]): Set<string> {
  const parents = new Set(graph.flatMap((n) => (n.type === "JOB" && n.data.parentJobName ? [n.data.parentJobName] : [])));
  return new Set(graph.filter((n) => n.type === "JOB" && !n.inEdges.length && !n.outEdges.length
    && parents.has(n.data.name)).map((n) => n.id));
}

export function PipelinePage({ route }: { route: Route }) {
  const namespace = route.parts[0] ?? "";
  const { names, error } = useJobNamespaces();
  useEffect(() => {
    if (!namespace && names?.length === 1) navigate(hrefs.pipeline(names[0]), true);
  }, [namespace, names]);
  if (!namespace) return <NamespacePicker names={names} error={error} />;
  return <PipelineGraph namespace={namespace} columns={route.query.get("columns") === "1"} namespaces={names}
    {...sensitiveOf(route.query)} />;
}

function NamespacePicker({ names, error }: { names: string[] | null; error: string | null }) {
  return (
    <div className="page">
      <h1>Pipeline</h1>
      <p className="muted">Every job of a namespace and every dataset it reads or writes, in one graph.</p>
      {error && <p className="error-box">{error}</p>}
      {names === null ? (
        !error && <p className="muted">Loading…</p>
      ) : names.length ? (
        <ul className="plain-list" data-testid="pipeline-namespaces">
          {names.map((name) => <li key={name}><a href={hrefs.pipeline(name)}>{name}</a></li>)}
        </ul>
      ) : (
        <p className="muted">No jobs yet: run one.</p>
      )}
    </div>
  );
}

function PipelineGraph({ namespace, columns, namespaces, sensitive, cls }: {
  namespace: string; columns: boolean; namespaces: string[] | null; sensitive: boolean; cls: string | null;
}) {
  const lineage = usePolled<{ graph: LineageNode[] }>(paths.namespaceLineage(namespace));
  const fields = usePolled<{ graph: ColumnNode[] }>(columns ? paths.namespaceColumnLineage(namespace) : null);
  const applications = useMemo(() => (lineage.data ? applicationsOf(lineage.data.graph) : new Set<string>()),
    [lineage.data]);
  const model = useMemo(
    () => (lineage.data ? buildModel(lineage.data.graph.filter((n) => !applications.has(n.id)), "", true) : null),
    [lineage.data, applications],
  );
  const columnGraph = useMemo(
    () => (model && fields.data ? columnGraphOf(model, fields.data.graph) : null), [model, fields.data]);
  // what the last column-level layout showed: kept while the table-level one is laid out
  const [lastColumns, setLastColumns] = useState<ColumnGraph | null>(null);
  useEffect(() => {
    if (columnGraph) setLastColumns(columnGraph);
  }, [columnGraph]);
  const rows = useMemo(() => fieldRows(model, columnGraph), [model, columnGraph]);
  const waiting = columns && !fields.data && !fields.error;
  const layout = useGraphLayout(model, columns ? rows : null, waiting, `${namespace}|${columns}`);
  const { placed, layoutCount } = layout;
  const classes = useSensitive(model, layout.fieldNames, columns, sensitive ? { cls } : null);

  const [centerRequest, setCenterRequest] = useState<{ id: string; seq: number } | null>(null);
  const { selectedNode, selectedField, marks, selectNode, selectField } = useGraphSelection(columnGraph, namespace);
  const openNode = useCallback((id: string) => navigate(hrefs.lineage(id, { depth: DEFAULT_DEPTH, columns })),
    [columns]);
  const centerOn = useCallback((id: string) => {
    selectNode(id);
    setCenterRequest((old) => ({ id, seq: (old?.seq ?? 0) + 1 }));
  }, [selectNode]);

  const failure = lineage.error && !lineage.data ? lineage.error.message : null;
  const options = { node: "", depth: DEFAULT_DEPTH, columns, full: false, asOf: null, since: null, sensitive, cls };
  return (
    <div className="lineage-page pipeline-page" data-testid="pipeline" data-namespace={namespace}>
      <div className="graph-toolbar">
        <div className="toolbar-title">
          <span className="root-name">
            <span className="kind-badge kind-pipeline">Pipeline</span>
            {namespaces && namespaces.length > 1 ? (
              <select data-testid="pipeline-namespace" aria-label="Namespace" value={namespace}
                onChange={(e) => navigate(hrefs.pipeline(e.target.value, { columns, sensitive, cls }))}>
                {!namespaces.includes(namespace) && <option value={namespace}>{namespace}</option>}
                {namespaces.map((name) => <option key={name} value={name}>{name}</option>)}
              </select>
            ) : namespace}
          </span>
          <span className="toolbar-status">{pipelineStatus(model, columnGraph, rows, waiting, lineage.loading)}</span>
        </div>
        <div className="toolbar-controls">
          <label title="Datasets list their fields; click a field to trace it across the jobs">
            <input type="checkbox" data-testid="column-toggle" checked={columns}
              onChange={(e) => navigate(hrefs.pipeline(namespace, { columns: e.target.checked, sensitive, cls }), true)} />
            Column level
          </label>
          <SensitiveControl on={sensitive} cls={cls} classes={classes.classes}
            onChange={(change) => navigate(hrefs.pipeline(namespace, {
              ...change, columns: change.sensitive || columns }), true)} />
          <FindInGraph model={model} onFind={centerOn} />
        </div>
      </div>
      <div className="lineage-body">
        <div className="graph-area">
          {failure && <p className="error-box">Could not load the pipeline: {failure}</p>}
          {(layout.error || fields.error) && <p className="error-box">{layout.error ?? fields.error?.message}</p>}
          {lineage.error && lineage.data && <p className="stale-note">Live updates paused: {lineage.error.message}</p>}
          {sensitive && classes.error && (
            <p className="error-box" data-testid="sensitive-failure">Classes unavailable: {classes.error.message}</p>
          )}
          {placed && layout.pending && (
            <p className="graph-busy" data-testid="graph-busy" role="status">
              {waiting ? "loading column lineage…" : "laying out…"}
            </p>
          )}
          {model && !model.nodes.length && <p className="loading">No job of {namespace} has read or written a dataset.</p>}
          {model && placed && placed.fitKey.startsWith(`${namespace}|`) ? (
            <GraphCanvas model={model} placed={placed} layoutCount={layoutCount} root=""
              selectedNode={selectedNode} columns={layout.fieldNames ? (columnGraph ?? lastColumns) : null}
              fieldNames={layout.fieldNames} marks={marks} onSelectNode={selectNode} onSelectField={selectField}
              onOpenNode={openNode} centerRequest={centerRequest} classes={classes.index}
              sensitive={classes.sensitive} />
          ) : (
            !failure && model?.nodes.length !== 0 && <p className="loading">Laying out the pipeline…</p>
          )}
        </div>
        <SidePanel model={model} root="" selectedNode={selectedNode} selectedField={selectedField}
          columns={columnGraph} marks={marks} onSelectField={selectField} onCenter={centerOn} options={options}
          classes={classes.index}
          hint={model && lineage.data && (
            <JobList namespace={namespace} graph={lineage.data.graph} model={model} applications={applications}
              onCenter={centerOn} />
          )} />
      </div>
    </div>
  );
}

function pipelineStatus(model: GraphModel | null, columns: ColumnGraph | null,
  rows: Map<string, string[]> | null, waiting: boolean, loading: boolean): string {
  if (loading && !model) return "Loading…";
  if (!model) return "";
  const jobs = model.nodes.filter((n) => n.kind === "JOB").length;
  const parts = [`${jobs} jobs`, `${model.nodes.length - jobs} datasets`];
  if (columns && rows) parts.push(`${[...rows.values()].reduce((sum, r) => sum + r.length, 0)} fields`);
  if (waiting) parts.push("loading column lineage…");
  return parts.join(" · ");
}

/** With nothing selected, the side panel lists the namespace's jobs by application; a click centres one. */
function JobList({ namespace, graph, model, applications, onCenter }: {
  namespace: string; graph: LineageNode[]; model: GraphModel; applications: Set<string>;
  onCenter: (id: string) => void;
}) {
  const groups = new Map<string, LineageNode[]>(); // by application ("" for jobs without one)
  for (const node of graph) {
    if (node.type !== "JOB" || applications.has(node.id)) continue;
    const parent = node.data.parentJobName ?? "";
    (groups.get(parent) ?? groups.set(parent, []).get(parent)!).push(node);
  }
  for (const id of applications) {
    const name = graph.find((n) => n.id === id)?.data.name ?? id;
    if (!groups.has(name)) groups.set(name, []);
  }
  const ordered = [...groups].sort(([a], [b]) => (a === "" ? 1 : b === "" ? -1 : a.localeCompare(b)));
  return (
    <div className="panel-hint">
      <h2>Jobs of {namespace}</h2>
      <p>
        Click a job or a dataset for its details; double-click one to open its own lineage graph. With Column level
        on, click a field to trace it through every job.
      </p>
      <ul className="plain-list pipeline-jobs" data-testid="pipeline-jobs">
        {ordered.map(([application, children]) => (
          <li key={application || "-"}>
            {application && (applications.has(jobNodeId(namespace, application)) ? (
              <span className="pipeline-application" data-node-id={jobNodeId(namespace, application)}
                data-application="true">{application}</span>
            ) : <span className="pipeline-application">{application}</span>)}
            <ul className="plain-list">
              {children.sort((a, b) => a.data.name.localeCompare(b.data.name)).map((job) => (
                <li key={job.id} data-node-id={job.id}>
                  <button type="button" className="link-button" title={job.data.name} onClick={() => onCenter(job.id)}>
                    {model.byId.get(job.id)?.label ?? job.data.name}
                  </button>
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ul>
    </div>
  );
}
