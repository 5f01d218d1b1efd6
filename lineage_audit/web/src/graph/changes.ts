// "Changes since a moment" on the graph: the graph as of the moment and the graph now, drawn as one. A node or
// edge only now was added, one only then was removed; a dataset in both whose fields differ (added, removed,
// retyped) changed. Fields come from the lineage answers' dataset nodes, which carry each dataset's schema as of
// the moment asked (the dataset detail's fields).
import { fieldKey } from "../names";
import type { Field, LineageEdge, LineageNode } from "../types";
import { edgeKey } from "./layout";

export type Change = "added" | "removed" | "changed";
export type FieldChange = "added" | "removed" | "retyped";

export interface FieldChanges {
  added: Field[];
  removed: Field[];
  retyped: { name: string; fromType: string; toType: string }[];
}

export interface GraphChanges {
  since: string;
  nodes: Map<string, Change>; // node id -> its change (unchanged nodes are absent)
  edges: Map<string, Change>; // layout edgeKey -> "added" | "removed"
  fields: Map<string, FieldChanges>; // dataset node id -> its field changes, when it has some
  fieldMarks: Map<string, FieldChange>; // field key -> its change, for the field rows
}

const key = (edge: LineageEdge) => edgeKey(edge.origin, edge.destination);

function edgesOf(nodes: LineageNode[]): Map<string, LineageEdge> {
  const edges = new Map<string, LineageEdge>();
  for (const node of nodes) for (const edge of [...node.inEdges, ...node.outEdges]) edges.set(key(edge), edge);
  return edges;
}

function unionEdges(a: LineageEdge[], b: LineageEdge[]): LineageEdge[] {
  const seen = new Map(a.map((edge) => [key(edge), edge]));
  for (const edge of b) if (!seen.has(key(edge))) seen.set(key(edge), edge);
  return [...seen.values()];
}

/** What changed in one dataset's schema from `before` to `after`. */
export function fieldChangesOf(before: Field[], after: Field[]): FieldChanges | null {
  const old = new Map(before.map((f) => [f.name, f]));
  const current = new Map(after.map((f) => [f.name, f]));
  const changes: FieldChanges = {
    added: after.filter((f) => !old.has(f.name)),
    removed: before.filter((f) => !current.has(f.name)),
    retyped: after.flatMap((f) => {
      const was = old.get(f.name);
      return was && (was.type ?? "") !== (f.type ?? "")
        ? [{ name: f.name, fromType: was.type ?? "", toType: f.type ?? "" }] : [];
    }),
  };
  return changes.added.length || changes.removed.length || changes.retyped.length ? changes : null;
}

/**
 * The union of the graph then and now, as one lineage answer, with what changed. A dataset in both keeps its
 * current fields followed by the ones removed since, so that a removed field still has a row to mark.
 */
export function unionOfLineage(then: LineageNode[], now: LineageNode[], since: string) {
  const thenById = new Map(then.map((node) => [node.id, node]));
  const nowIds = new Set(now.map((node) => node.id));
  const changes: GraphChanges = { since, nodes: new Map(), edges: new Map(), fields: new Map(), fieldMarks: new Map() };
  const graph: LineageNode[] = now.map((node) => {
    const before = thenById.get(node.id);
    if (!before) {
      changes.nodes.set(node.id, "added");
      return node;
    }
    const merged = {
      ...node, inEdges: unionEdges(node.inEdges, before.inEdges), outEdges: unionEdges(node.outEdges, before.outEdges),
    };
    if (node.type !== "DATASET") return merged;
    const fieldChanges = fieldChangesOf(before.data.fields ?? [], node.data.fields ?? []);
    if (!fieldChanges) return merged;
    changes.nodes.set(node.id, "changed");
    changes.fields.set(node.id, fieldChanges);
    const mark = (name: string, change: FieldChange) =>
      changes.fieldMarks.set(fieldKey(node.data.namespace, node.data.name, name), change);
    fieldChanges.added.forEach((f) => mark(f.name, "added"));
    fieldChanges.removed.forEach((f) => mark(f.name, "removed"));
    fieldChanges.retyped.forEach((f) => mark(f.name, "retyped"));
    return { ...merged, data: { ...node.data, fields: [...(node.data.fields ?? []), ...fieldChanges.removed] } };
  });
  for (const node of then) {
    if (nowIds.has(node.id)) continue;
    changes.nodes.set(node.id, "removed");
    graph.push(node);
  }
  const edgesThen = edgesOf(then);
  const edgesNow = edgesOf(now);
  for (const edge of edgesNow.keys()) if (!edgesThen.has(edge)) changes.edges.set(edge, "added");
  for (const edge of edgesThen.keys()) if (!edgesNow.has(edge)) changes.edges.set(edge, "removed");
  return { graph, changes };
}
