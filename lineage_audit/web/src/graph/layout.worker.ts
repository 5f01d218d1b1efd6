// Runs ELK's layered layout off the main thread: the page stays responsive while a big graph is laid out.
// Protocol: {seq, nodes, edges} in, {seq, boxes, routes, width, height} or {seq, error} out.
import ELK from "elkjs/lib/elk.bundled.js";
import type { ElkExtendedEdge, ElkNode } from "elkjs/lib/elk-api";
import type { LayoutRequest, LayoutResult } from "./layoutTypes";
import { layers, orderInLayers } from "./presort";

const elk = new ELK();

// Above this many nodes, speed first (a 1,000-node graph must be on screen within 2 s): layers and order
// come from a quick pre-pass (presort.ts) that ELK takes as given, nodes are placed simply and edges into
// one side of a node share a port. Smaller graphs get ELK's full treatment and straighter edges.
const LARGE_GRAPH = 300;
const LAYER_STEP = 1000; // x given to each layer for ELK's interactive layering: wider than any node
const ROW_STEP = 60;

function layoutOptions(large: boolean, layerGap: number): Record<string, string> {
  const common = {
    "elk.algorithm": "layered",
    "elk.direction": "RIGHT",
    "elk.edgeRouting": "POLYLINE",
    "elk.spacing.nodeNode": "16",
    "elk.layered.spacing.nodeNodeBetweenLayers": String(layerGap),
    "elk.spacing.componentComponent": "48",
  };
  if (!large) return { ...common, "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF" };
  return {
    ...common,
    "elk.layered.cycleBreaking.strategy": "INTERACTIVE",
    "elk.layered.layering.strategy": "INTERACTIVE",
    "elk.layered.crossingMinimization.strategy": "INTERACTIVE",
    "elk.layered.nodePlacement.strategy": "SIMPLE",
    "elk.layered.mergeEdges": "true",
    "elk.layered.thoroughness": "1",
  };
}

function children(request: LayoutRequest, large: boolean): ElkNode[] {
  if (!large) return request.nodes.map((n) => ({ id: n.id, width: n.width, height: n.height }));
  const layer = layers(request.nodes.map((n) => n.id), request.edges);
  const place = orderInLayers(layer, request.edges);
  return request.nodes.map((n) => ({
    id: n.id, width: n.width, height: n.height, x: layer.get(n.id)! * LAYER_STEP, y: place.get(n.id)! * ROW_STEP,
  }));
}

async function layout(request: LayoutRequest): Promise<LayoutResult> {
  const started = performance.now();
  const large = request.fast ?? request.nodes.length > LARGE_GRAPH;
  const graph: ElkNode = {
    id: "root",
    layoutOptions: layoutOptions(large, request.layerGap ?? 64),
    children: children(request, large),
    edges: request.edges.map(
      (e, i): ElkExtendedEdge => ({ id: `e${i}`, sources: [e.from], targets: [e.to] }),
    ),
  };
  const done = await elk.layout(graph);
  const elkMs = performance.now() - started;
  const boxes: LayoutResult["boxes"] = (done.children ?? []).map((c) => [c.id, c.x ?? 0, c.y ?? 0]);
  const routes: LayoutResult["routes"] = (done.edges ?? []).map((edge) => {
    const section = (edge as ElkExtendedEdge).sections?.[0];
    const points = section ? [section.startPoint, ...(section.bendPoints ?? []), section.endPoint] : [];
    return points.flatMap((p) => [p.x, p.y]);
  });
  return { seq: request.seq, boxes, routes, width: done.width ?? 0, height: done.height ?? 0, elkMs };
}

const scope = self as unknown as {
  onmessage: (event: MessageEvent<LayoutRequest>) => void;
  postMessage: (message: LayoutResult | { seq: number; error: string }) => void;
};

scope.onmessage = (event) => {
  layout(event.data).then(
    (result) => scope.postMessage(result),
    (error: unknown) => scope.postMessage({ seq: event.data.seq, error: String(error) }),
  );
};
