// The lineage API's answer as the graph the page draws: nodes with short labels, edges, and the focused
// subset (the root's upstream and downstream only) unless the full graph is asked for.
import { datasetFolder, shortDatasetName, shortJobName } from "../names";
import type { Field, LineageNode } from "../types";

export interface GraphNode {
  id: string;
  kind: "JOB" | "DATASET";
  namespace: string;
  name: string;
  label: string;
  sublabel: string;
  state: string; // latest run state of a job, "" if none (and for datasets)
  fields: Field[];
  source: LineageNode;
}

export interface GraphEdge {
  from: string;
  to: string;
}

export interface GraphModel {
  nodes: GraphNode[];
  edges: GraphEdge[];
  byId: Map<string, GraphNode>;
  /** node ids and edges, without run states: equal keys need no new layout */
  structureKey: string;
}

function toGraphNode(node: LineageNode): GraphNode {
  const { data } = node;
  if (node.type === "JOB") {
    const label = shortJobName(data.name, data.parentJobName);
    return {
      id: node.id, kind: "JOB", namespace: data.namespace, name: data.name, label,
      sublabel: data.parentJobName ?? data.namespace,
      state: data.latestRun?.state ?? "", fields: [], source: node,
    };
  }
  const folder = datasetFolder(data.name);
  return {
    id: node.id, kind: "DATASET", namespace: data.namespace, name: data.name, label: shortDatasetName(data.name),
    sublabel: folder || data.namespace,
    state: "", fields: data.fields ?? [], source: node,
  };
}

/** The ids reachable from `root` along edges (downstream) and against them (upstream), root included. */
export function focusIds(root: string, edges: GraphEdge[]): Set<string> {
  const down = new Map<string, string[]>();
  const up = new Map<string, string[]>();
  for (const { from, to } of edges) {
    (down.get(from) ?? down.set(from, []).get(from)!).push(to);
    (up.get(to) ?? up.set(to, []).get(to)!).push(from);
  }
  const kept = new Set([root]);
  for (const next of [down, up]) {
    const stack = [root];
    const seen = new Set([root]);
    while (stack.length) {
      for (const neighbour of next.get(stack.pop()!) ?? []) {
        if (!seen.has(neighbour)) {
          seen.add(neighbour);
          kept.add(neighbour);
          stack.push(neighbour);
        }
      }
    }
  }
  return kept;
}

export function buildModel(lineage: LineageNode[], root: string, full: boolean): GraphModel {
  const all = new Map(lineage.map((node) => [node.id, node]));
  const edgeSet = new Set<string>();
  const edges: GraphEdge[] = [];
  for (const node of lineage) {
    for (const edge of [...node.inEdges, ...node.outEdges]) {
      const key = `${edge.origin}\n${edge.destination}`;
      if (!edgeSet.has(key) && all.has(edge.origin) && all.has(edge.destination)) {
        edgeSet.add(key);
        edges.push({ from: edge.origin, to: edge.destination });
      }
    }
  }
  const kept = full || !all.has(root) ? null : focusIds(root, edges);
  const nodes = lineage.filter((n) => !kept || kept.has(n.id)).map(toGraphNode);
  const keptEdges = kept ? edges.filter((e) => kept.has(e.from) && kept.has(e.to)) : edges;
  keptEdges.sort((a, b) => (a.from + a.to < b.from + b.to ? -1 : 1));
  const structureKey = [
    ...nodes.map((n) => `${n.id}|${n.kind}`),
    ...keptEdges.map((e) => `${e.from}>${e.to}`),
  ].join("\n");
  return { nodes, edges: keptEdges, byId: new Map(nodes.map((n) => [n.id, n])), structureKey };
}
