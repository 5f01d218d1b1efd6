// The page's side of the layout: node sizes, one long-lived worker, and the answer as positions and routes.
import type { LayoutRequest, LayoutResult } from "./layoutTypes";
import type { GraphModel, GraphNode } from "./model";

export const JOB_SIZE = { width: 232, height: 50 };
export const DATASET_SIZE = { width: 216, height: 46 };
export const FIELD_ROW = 20;
export const FIELD_LIST_PADDING = 6;
// Between layers at the column level: room for a field edge's label beside the field it leads to.
const COLUMN_LAYER_GAP = 170;

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Layout {
  boxes: Map<string, Box>;
  /** edge key (from + "\n" + to) -> flat x,y list from source to target */
  routes: Map<string, number[]>;
  width: number;
  height: number;
  elkMs: number;
}

export function edgeKey(from: string, to: string): string {
  return `${from}\n${to}`;
}

export function nodeSize(node: GraphNode, fieldCount: number | null): { width: number; height: number } {
  if (node.kind === "JOB") return JOB_SIZE;
  if (fieldCount === null) return DATASET_SIZE;
  return { width: DATASET_SIZE.width, height: DATASET_SIZE.height + fieldCount * FIELD_ROW + FIELD_LIST_PADDING };
}

let worker: Worker | null = null;
let sequence = 0;
const pending = new Map<number, (result: LayoutResult | Error) => void>();

function layoutWorker(): Worker {
  if (worker) return worker;
  worker = new Worker(new URL("./layout.worker.ts", import.meta.url), { type: "module" });
  worker.onmessage = (event: MessageEvent<LayoutResult | { seq: number; error: string }>) => {
    const settle = pending.get(event.data.seq);
    pending.delete(event.data.seq);
    if (settle) settle("error" in event.data ? new Error(event.data.error) : event.data);
  };
  return worker;
}

function post(request: Omit<LayoutRequest, "seq">): Promise<LayoutResult> {
  const seq = ++sequence;
  return new Promise((resolve, reject) => {
    pending.set(seq, (result) => (result instanceof Error ? reject(result) : resolve(result)));
    layoutWorker().postMessage({ ...request, seq });
  });
}

let realLayoutAsked = false;

/** A made-up graph like a lineage graph: layered, with edges that skip layers (ELK's costly case). */
function warmUpGraph(size: number, seed: number, fast: boolean): Omit<LayoutRequest, "seq"> {
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const nodes = Array.from({ length: size }, (_, i) => ({ id: `w${i}`, width: 216, height: 46 }));
  const edges = nodes.slice(4).flatMap((node, i) => [
    { from: `w${Math.floor(random() * (i + 4))}`, to: node.id },
    { from: `w${Math.floor(random() * (i + 4))}`, to: node.id },
  ]);
  return { nodes, edges, fast };
}

/**
 * Start the worker and run ELK on made-up graphs while the page loads its first data: ELK is compiled Java,
 * several times slower on its first runs than once the JavaScript engine has optimised it. Growing rounds,
 * stopped as soon as a real graph is asked for, so that one never waits long behind them.
 */
export function warmUpLayout(): void {
  const sizes = [40, 60, 100, 160, 240, 300, 300, 300];
  const round = (i: number) => {
    if (i >= sizes.length || realLayoutAsked) return;
    // the big-graph strategies but for one round: there the first layout has the most to lose
    post(warmUpGraph(sizes[i], i + 1, i !== 1)).then(() => round(i + 1), () => undefined);
  };
  round(0);
}

export async function layoutGraph(model: GraphModel, fieldCounts: Map<string, number> | null): Promise<Layout> {
  const nodes = model.nodes.map((node) => ({
    id: node.id,
    ...nodeSize(node, fieldCounts ? (fieldCounts.get(node.id) ?? 0) : null),
  }));
  realLayoutAsked = true;
  const result = await post({ nodes, edges: model.edges, layerGap: fieldCounts ? COLUMN_LAYER_GAP : undefined });
  const sizes = new Map(nodes.map((n) => [n.id, n]));
  const boxes = new Map<string, Box>();
  for (const [id, x, y] of result.boxes) {
    const size = sizes.get(id);
    if (size) boxes.set(id, { x, y, width: size.width, height: size.height });
  }
  const routes = new Map<string, number[]>();
  model.edges.forEach((edge, i) => routes.set(edgeKey(edge.from, edge.to), result.routes[i] ?? []));
  return { boxes, routes, width: result.width, height: result.height, elkMs: Math.round(result.elkMs) };
}
