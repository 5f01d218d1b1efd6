// The lineage graph of a job or dataset: `#/lineage?node=&depth=&columns=&full=[&asOf=|&since=]`. Jobs and
// datasets, the column level as a toggle in the same graph, a side panel that never moves the graph, live by
// polling; as of a past moment, or with the changes since one (AsOfBar).
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { fieldRows, loadColumnGraph, type ColumnGraph } from "../graph/columns";
import { GraphCanvas } from "../graph/GraphCanvas";
import { buildModel, type GraphModel } from "../graph/model";
import { SidePanel } from "../graph/SidePanel";
import { useGraphSelection } from "../graph/selection";
import { useGraphLayout } from "../graph/useGraphLayout";
import { DEFAULT_DEPTH, hrefs, navigate, sensitiveOf, type Route } from "../router";
import { useSensitive } from "../graph/sensitive";
import { AsOfBar, TimeBanner } from "./AsOfBar";
import { GraphToolbar } from "./GraphToolbar";
import { lineageFailure, useLineageInTime, type TimeView } from "./lineageInTime";

export interface GraphOptions {
  node: string;
  depth: number;
  columns: boolean;
  full: boolean;
  asOf: string | null;
  since: string | null;
  sensitive: boolean; // the "sensitive data" filter
  cls: string | null; // its class (null: every class)
}

function optionsOf(route: Route): GraphOptions {
  const depth = Number.parseInt(route.query.get("depth") ?? "", 10);
  return {
    node: route.query.get("node") ?? "",
    depth: Number.isFinite(depth) && depth >= 0 ? Math.min(depth, 50) : DEFAULT_DEPTH,
    columns: route.query.get("columns") === "1",
    full: route.query.get("full") === "1",
    asOf: route.query.get("asOf") || null,
    since: route.query.get("asOf") ? null : route.query.get("since") || null,
    ...sensitiveOf(route.query),
  };
}

/**
 * The column lineage of the graph in view while the column level is on: loaded for each new set of nodes and
 * edges, and again whenever the lineage was re-read after new events (`version`), since an existing dataset
 * may have gained column lineage. One load at a time; a load that ends behind the graph is followed by the next.
 * Column lineage of another moment (asOf) is never shown as this one's.
 */
function useColumnGraph(model: GraphModel | null, on: boolean, version: number, asOf: string | null) {
  const [loaded, setLoaded] = useState<{ tag: string; structure: string; moment: string; graph: ColumnGraph } | null>(
    null);
  const [failed, setFailed] = useState<{ tag: string; message: string } | null>(null);
  const loading = useRef(false);
  const structure = model?.structureKey ?? "";
  const moment = asOf ?? "now";
  const tag = `${version}@${moment}@${structure}`;
  useEffect(() => {
    if (!on || !model || loaded?.tag === tag || failed?.tag === tag || loading.current) return;
    loading.current = true;
    loadColumnGraph(model, asOf).then(
      (graph) => {
        loading.current = false;
        setLoaded({ tag, structure, moment, graph });
        setFailed(null);
      },
      (failure: unknown) => {
        loading.current = false;
        setFailed({ tag, message: `column lineage: ${String(failure)}` });
      },
    );
  }, [on, tag, loaded, failed]); // the model matters only through its structure, in the tag
  const sameMoment = loaded?.moment === moment;
  return {
    graph: on && sameMoment ? (loaded?.graph ?? null) : null,
    last: loaded?.graph ?? null, // also when off: what the last column-level picture showed
    // loaded for these nodes and edges at this moment (maybe before a re-read)
    current: sameMoment && loaded?.structure === structure,
    error: on && failed?.tag === tag ? failed.message : null,
  };
}

export function LineagePage({ route }: { route: Route }) {
  const options = optionsOf(route);
  const { node, depth, columns, full, asOf, since, sensitive, cls } = options;
  const setOptions = useCallback(
    (change: Partial<GraphOptions>) => {
      const next = { node, depth, columns, full, asOf, since, sensitive, cls, ...change };
      navigate(hrefs.lineage(next.node, next), true);
    },
    [node, depth, columns, full, asOf, since, sensitive, cls],
  );
  const time = useMemo<TimeView>(() => ({ asOf, since }), [asOf, since]);
  const lineage = useLineageInTime(node, depth, time);
  const model = useMemo(
    () => (lineage.graph ? buildModel(lineage.graph, node, full) : null),
    [lineage.graph, node, full],
  );
  const columnData = useColumnGraph(model, columns, lineage.version, asOf);
  const rows = useMemo(() => fieldRows(model, columnData.graph), [model, columnData.graph]);
  const waiting = columns && !columnData.current && !columnData.error; // for the rows to lay out
  const fitKey = `${node}|${depth}|${full}|${columns}`;
  const layout = useGraphLayout(model, columns ? rows : null, waiting, fitKey);
  const { placed, layoutCount, error: layoutError } = layout;
  const classes = useSensitive(model, layout.fieldNames, columns, sensitive ? { cls } : null);

  const [centerRequest, setCenterRequest] = useState<{ id: string; seq: number } | null>(null);
  const { selectedNode, selectedField, marks, selectNode, selectField } = useGraphSelection(columnData.graph, node);
  const openNode = useCallback(
    (id: string) => navigate(hrefs.lineage(id, { depth, columns, full, asOf, since, sensitive, cls })),
    [depth, columns, full, asOf, since, sensitive, cls],
  );
  const centerOn = useCallback((id: string) => {
    selectNode(id);
    setCenterRequest((old) => ({ id, seq: (old?.seq ?? 0) + 1 }));
  }, [selectNode]);

  if (!node) return <NoNode />;
  const failure = lineage.graph ? null : lineageFailure(lineage.error, time);
  return (
    <div className={`lineage-page${asOf ? " in-past" : ""}`}>
      <GraphToolbar options={options} setOptions={setOptions} model={model} onFind={centerOn}
        status={graphStatus(model, placed?.layout ? layoutCount : null, waiting, lineage.loading)}
        classes={classes.classes} />
      <AsOfBar node={node} depth={depth} time={time} setTime={setOptions} />
      <TimeBanner time={time} onNow={() => setOptions({ asOf: null, since: null })} />
      <div className="lineage-body">
        <div className="graph-area">
          {failure && <p className="error-box" data-testid="graph-failure">{failure}</p>}
          {(layoutError || columnData.error) && <p className="error-box">{layoutError ?? columnData.error}</p>}
          {lineage.error && lineage.graph && <p className="stale-note">Live updates paused: {lineage.error.message}</p>}
          {sensitive && classes.error && (
            <p className="error-box" data-testid="sensitive-failure">Classes unavailable: {classes.error.message}</p>
          )}
          {asOf && (sensitive || (columns && Boolean(classes.index?.size))) && (
            <p className="stale-note" data-testid="sensitive-now">
              The classes shown are the current ones, not as of this moment.
            </p>
          )}
          {placed && layout.pending && (
            <p className="graph-busy" data-testid="graph-busy" role="status">
              {waiting ? "loading column lineage…" : "laying out…"}
            </p>
          )}
          {/* the last layout of this node's graph: kept on screen while a poll, the depth or the column level
              brings the next one; the graph of another node waits for its own */}
          {model && placed && placed.fitKey.startsWith(`${node}|`) ? (
            <GraphCanvas model={model} placed={placed} layoutCount={layoutCount} root={node}
              selectedNode={selectedNode} columns={layout.fieldNames ? columnData.last : null}
              fieldNames={layout.fieldNames}
              marks={marks} onSelectNode={selectNode} onSelectField={selectField} onOpenNode={openNode}
              centerRequest={centerRequest} changes={lineage.changes} classes={classes.index}
              sensitive={classes.sensitive} />
          ) : (
            !failure && <p className="loading">Laying out the graph…</p>
          )}
        </div>
        <SidePanel model={model} root={node} selectedNode={selectedNode} selectedField={selectedField}
          columns={columnData.graph} marks={marks} onSelectField={selectField} onCenter={centerOn}
          options={options} changes={lineage.changes} classes={classes.index} />
      </div>
    </div>
  );
}

function graphStatus(model: GraphModel | null, layoutCount: number | null, waiting: boolean, loading: boolean) {
  if (loading && !model) return "Loading…";
  if (!model) return "";
  const parts = [`${model.nodes.length} nodes`, `${model.edges.length} edges`];
  if (waiting) parts.push("loading column lineage…");
  else if (layoutCount === null) parts.push("laying out…");
  return parts.join(" · ");
}

function NoNode() {
  return (
    <div className="page">
      <h1>Lineage</h1>
      <p>
        Pick a <a href={hrefs.jobs()}>job</a> or a <a href={hrefs.datasets()}>dataset</a>, or search for one above,
        and open its lineage graph.
      </p>
    </div>
  );
}
