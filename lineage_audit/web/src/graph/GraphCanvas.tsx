// The graph as SVG: node edges, nodes, field edges (column level), zoom and pan, and the measurements the
// browser tests read (data-render-ms: from the start of a layout to the frame after it is on screen).
import { memo, useEffect, useLayoutEffect, useMemo, useRef } from "react";
import { datasetOfKey, fieldKey } from "../names";
import { edgeHighlight, traceOf, type ColumnGraph, type FieldEdge, type Highlight, type Trace } from "./columns";
import { boxToBox, fieldCurve, fieldRowY, smoothPath } from "./geometry";
import { edgeKey, type Layout } from "./layout";
import type { GraphModel } from "./model";
import { NodeView } from "./NodeView";
import { useZoomPan } from "./zoom";
import { Legend } from "./Legend";
import type { GraphChanges } from "./changes";
import { exposureOf, type ClassIndex } from "../classes";
import type { SensitiveFilter, SensitiveView } from "./sensitive";

export interface PlacedLayout {
  layout: Layout;
  startedAt: number; // performance.now() when the layout started
  fitKey: string; // a new value fits the view to the graph
}

interface CanvasProps {
  model: GraphModel;
  placed: PlacedLayout;
  layoutCount: number;
  root: string;
  selectedNode: string | null;
  columns: ColumnGraph | null;
  fieldNames: Map<string, string[]> | null; // per dataset node, when the column level is on
  marks: Map<string, Highlight> | null;
  onSelectNode: (id: string | null) => void;
  onSelectField: (id: string) => void;
  onOpenNode: (id: string) => void;
  centerRequest: { id: string; seq: number } | null;
  /** changes since a moment (added, removed, changed), drawn in colour; absent: the plain graph */
  changes?: GraphChanges | null;
  /** classes of the classified fields (badges at the column level), once read */
  classes?: ClassIndex | null;
  /** the "sensitive data" filter when on, and what it lights in this graph */
  sensitive?: { filter: SensitiveFilter; view: SensitiveView } | null;
}

function arrowOf(traced: string, change: string, touches: boolean): string {
  if (traced) return `arrow-${traced}`;
  if (change) return `arrow-${change}`;
  return touches ? "arrow-hl" : "arrow";
}

const NodeEdges = memo(function NodeEdges({ model, layout, selected, trace, changes }: {
  model: GraphModel; layout: Layout; selected: string | null; trace: Trace | null; changes: GraphChanges | null;
}) {
  return (
    <g className="edges">
      {model.edges.map(({ from, to }) => {
        const a = layout.boxes.get(from);
        const b = layout.boxes.get(to);
        if (!a || !b) return null;
        const route = layout.routes.get(edgeKey(from, to));
        const touches = selected !== null && (from === selected || to === selected);
        const traced = trace?.edges.get(edgeKey(from, to)) ?? "";
        const change = changes?.edges.get(edgeKey(from, to)) ?? "";
        const classes = `edge${touches ? " touching" : ""}${traced ? ` traced hl-${traced}` : ""}${
          change ? ` change-${change}` : ""}`;
        return (
          <path key={edgeKey(from, to)} data-testid="graph-edge" data-from={from} data-to={to} data-trace={traced}
            data-change={change} className={classes} markerEnd={`url(#${arrowOf(traced, change, touches)})`}
            d={smoothPath(route && route.length >= 4 ? route : boxToBox(a, b))} />
        );
      })}
    </g>
  );
});

/** Where each listed field's row is (by field key): its x at the left and right end, and y. */
function fieldAnchors(model: GraphModel, layout: Layout, fieldNames: Map<string, string[]>) {
  const anchors = new Map<string, { left: number; right: number; y: number }>();
  for (const [nodeId, names] of fieldNames) {
    const box = layout.boxes.get(nodeId);
    const node = model.byId.get(nodeId);
    if (!box || !node) continue;
    names.forEach((name, i) => {
      anchors.set(fieldKey(node.namespace, node.name, name),
        { left: box.x, right: box.x + box.width, y: fieldRowY(box, i) });
    });
  }
  return anchors;
}

/** The lines of a field edge's label: each transformation (DIRECT ones first), masking on the last line. */
function labelLines(edge: FieldEdge): string[] {
  const codes = edge.transformation.split(", ");
  const lines = [...codes.filter((c) => c.startsWith("DIRECT")), ...codes.filter((c) => !c.startsWith("DIRECT"))];
  if (edge.masking) lines[lines.length - 1] += " · masked";
  return lines;
}

const LINE = 10.5;

// More label lines than this beside one field's row overlap the neighbouring rows' labels.
const ROOMY_LINES = 2;

/** Label places: beside the output field's row, the labels of one field's inputs stacked in their order;
 * ``crowded`` when the stack is taller than the row, so it shows only when its edges are highlighted. */
function labelPlaces(drawn: FieldEdge[], anchors: Map<string, { left: number; right: number; y: number }>) {
  const byTarget = new Map<string, FieldEdge[]>();
  for (const edge of drawn) (byTarget.get(edge.to) ?? byTarget.set(edge.to, []).get(edge.to)!).push(edge);
  const places = new Map<FieldEdge, { x: number; y: number; lines: string[]; crowded: boolean }>();
  for (const [target, edges] of byTarget) {
    const b = anchors.get(target)!;
    edges.sort((p, q) => anchors.get(p.from)!.y - anchors.get(q.from)!.y);
    const lines = edges.map(labelLines);
    const crowded = lines.flat().length > ROOMY_LINES;
    let y = b.y + 3.5 - ((lines.flat().length - 1) * LINE) / 2;
    edges.forEach((edge, i) => {
      places.set(edge, { x: b.left - 8, y, lines: lines[i], crowded });
      y += lines[i].length * LINE;
    });
  }
  return places;
}

/** With the filter on, what an edge carries: the class reaching its target, when its source holds it in the clear. */
function edgeExposure(edge: FieldEdge, classes: ClassIndex | null, filter: SensitiveFilter | null): string {
  if (!filter || !classes) return "";
  if (exposureOf(classes.get(edge.from), filter.cls) !== "clear") return "";
  return exposureOf(classes.get(edge.to), filter.cls) ?? "";
}

const FieldEdges = memo(function FieldEdges({ model, layout, columns, fieldNames, marks, classes, filter }: {
  model: GraphModel; layout: Layout; columns: ColumnGraph; fieldNames: Map<string, string[]>;
  marks: Map<string, Highlight> | null; classes: ClassIndex | null; filter: SensitiveFilter | null;
}) {
  const anchors = useMemo(() => fieldAnchors(model, layout, fieldNames), [model, layout, fieldNames]);
  const drawn = useMemo(() => columns.edges.filter((e) => anchors.has(e.from) && anchors.has(e.to)),
    [columns, anchors]);
  const places = useMemo(() => labelPlaces(drawn, anchors), [drawn, anchors]);
  return (
    <g className={marks ? "field-edges has-selection" : "field-edges"}>
      {drawn.map((edge: FieldEdge) => {
        const a = anchors.get(edge.from)!;
        const b = anchors.get(edge.to)!;
        const place = places.get(edge)!;
        const hl = marks ? edgeHighlight(edge, marks) : null;
        const carried = edgeExposure(edge, classes, filter);
        return (
          <g key={edgeKey(edge.from, edge.to)} data-testid="field-edge" data-from={edge.fromId} data-to={edge.toId}
            data-transformation={edge.transformation} data-masking={edge.masking ? "true" : "false"}
            data-highlight={hl ?? ""} data-sensitive={carried}
            className={`field-edge${hl ? ` hl-${hl}` : ""}${edge.masking ? " masked" : ""}${
              place.crowded ? " crowded" : ""}${carried ? ` sensitive-${carried}` : ""}`}>
            <path d={fieldCurve(a.right, a.y, b.left, b.y)} />
            <text x={place.x} y={place.y} textAnchor="end">
              {place.lines.map((line, i) => <tspan key={line} x={place.x} dy={i ? LINE : 0}>{line}</tspan>)}
            </text>
          </g>
        );
      })}
    </g>
  );
});

/** The box around the nodes (in graph coordinates), a margin included; null when none is placed. */
function enclosing(ids: string[], layout: Layout): { x: number; y: number; width: number; height: number } | null {
  const boxes = ids.flatMap((id) => layout.boxes.get(id) ?? []);
  if (!boxes.length) return null;
  const x = Math.min(...boxes.map((b) => b.x)) - 16;
  const y = Math.min(...boxes.map((b) => b.y)) - 16;
  return { x, y, width: Math.max(...boxes.map((b) => b.x + b.width)) - x + 16,
    height: Math.max(...boxes.map((b) => b.y + b.height)) - y + 16 };
}

function GraphCanvasInner(props: CanvasProps) {
  const { model, placed, layoutCount, selectedNode, columns, fieldNames, marks } = props;
  const classes = props.classes ?? null;
  const filter = props.sensitive?.filter ?? null;
  const view = props.sensitive?.view ?? null;
  const { layout } = placed;
  const zoom = useZoomPan();
  const containerRef = useRef<HTMLDivElement | null>(null);
  const fitted = useRef<string | null>(null);

  // fit a new graph, or a grown one the user has not zoomed into yet; then measure once it is painted
  useLayoutEffect(() => {
    if (fitted.current !== placed.fitKey || !zoom.moved()) {
      fitted.current = placed.fitKey;
      zoom.fit(layout.width, layout.height);
    }
    let second = 0;
    const first = requestAnimationFrame(() => {
      second = requestAnimationFrame(() => {
        const ms = Math.round(performance.now() - placed.startedAt);
        // data-elk-ms: the worker's share, for whoever profiles the rest (fetch excluded from both)
        containerRef.current?.setAttribute("data-elk-ms", String(layout.elkMs));
        containerRef.current?.setAttribute("data-render-ms", String(ms));
      });
    });
    return () => {
      cancelAnimationFrame(first);
      cancelAnimationFrame(second);
    };
  }, [placed]);

  useEffect(() => {
    const box = props.centerRequest && layout.boxes.get(props.centerRequest.id);
    if (box) zoom.centerOn(box.x + box.width / 2, box.y + box.height / 2);
  }, [props.centerRequest]);

  // the jobs a traced field passes through, and their edges, stand out at table level too
  const trace = useMemo(() => (marks && columns ? traceOf(model, columns, marks) : null), [model, columns, marks]);
  const markedNodes = useMemo(() => {
    const ids = new Set<string>();
    if (marks) for (const key of marks.keys()) ids.add(datasetOfKey(key));
    return ids;
  }, [marks]);

  const onClick = (event: React.MouseEvent) => {
    if (zoom.wasDrag()) return;
    const target = event.target as Element;
    const field = target.closest("[data-field-id]");
    const node = target.closest("[data-node-id]");
    if (field) {
      // the field's parts from its node (its id alone cannot be split: names may hold ":")
      const owner = model.byId.get(node?.getAttribute("data-node-id") ?? "");
      const prefix = owner ? `datasetField:${owner.namespace}:${owner.name}:` : null;
      const id = field.getAttribute("data-field-id") ?? "";
      if (owner && prefix && id.startsWith(prefix)) {
        props.onSelectField(fieldKey(owner.namespace, owner.name, id.slice(prefix.length)));
      }
      return;
    }
    props.onSelectNode(node ? node.getAttribute("data-node-id") : null);
  };
  const onDoubleClick = (event: React.MouseEvent) => {
    const node = (event.target as Element).closest("[data-node-id]");
    if (node) props.onOpenNode(node.getAttribute("data-node-id")!);
  };

  return (
    <div ref={containerRef}
      className={`graph${columns ? " columns-on" : ""}${props.changes ? " changes-on" : ""}${
        view ? " sensitive-on" : ""}`}
      data-testid="graph"
      data-node-count={model.nodes.length} data-edge-count={model.edges.length} data-layout-count={layoutCount}>
      <svg ref={zoom.svgRef} className="graph-svg" onClick={onClick} onDoubleClick={onDoubleClick}>
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
            <path d="M0,1 L9,5 L0,9 z" className="arrow" />
          </marker>
          <marker id="arrow-hl" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7"
            orient="auto">
            <path d="M0,1 L9,5 L0,9 z" className="arrow-hl" />
          </marker>
          {(["upstream", "downstream", "added", "removed"] as const).map((side) => (
            <marker key={side} id={`arrow-${side}`} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6"
              markerHeight="6" orient="auto">
              <path d="M0,1 L9,5 L0,9 z" className={`arrow-${side}`} />
            </marker>
          ))}
        </defs>
        <g ref={zoom.viewportRef}>
          <NodeEdges model={model} layout={layout} selected={selectedNode} trace={trace}
            changes={props.changes ?? null} />
          <g className="nodes">
            {model.nodes.map((node) => {
              const box = layout.boxes.get(node.id);
              return box ? (
                <NodeView key={node.id} node={node} box={box} selected={node.id === selectedNode}
                  focused={node.id === props.root} fieldNames={fieldNames?.get(node.id) ?? null}
                  marks={markedNodes.has(node.id) ? marks : null} trace={trace?.jobs.get(node.id) ?? null}
                  change={props.changes?.nodes.get(node.id) ?? null}
                  fieldChanges={props.changes?.fields.has(node.id) ? props.changes.fieldMarks : null}
                  classes={classes} filter={filter} sensitive={view ? (view.nodes.get(node.id) ?? "") : null} />
              ) : null;
            })}
          </g>
          {columns && fieldNames && (
            <FieldEdges model={model} layout={layout} columns={columns} fieldNames={fieldNames} marks={marks}
              classes={classes} filter={filter} />
          )}
        </g>
      </svg>
      <div className="graph-controls">
        <button type="button" data-testid="zoom-in" title="Zoom in" onClick={() => zoom.zoomBy(1.25)}>+</button>
        <button type="button" data-testid="zoom-out" title="Zoom out" onClick={() => zoom.zoomBy(0.8)}>−</button>
        <button type="button" data-testid="fit" title="Fit the graph to the view"
          onClick={() => zoom.fit(layout.width, layout.height)}>Fit</button>
        {trace && (
          <button type="button" data-testid="fit-trace" title="Fit the traced field's datasets and jobs to the view"
            onClick={() => {
              const box = enclosing([...markedNodes, ...trace.jobs.keys()], layout);
              if (box) zoom.fit(box.width, box.height, box.x, box.y);
            }}>Trace</button>
        )}
      </div>
      <Legend columns={columns !== null} changes={Boolean(props.changes)} sensitive={view}
        badges={columns !== null && classes !== null && classes.size > 0} />
    </div>
  );
}

export const GraphCanvas = memo(GraphCanvasInner);
