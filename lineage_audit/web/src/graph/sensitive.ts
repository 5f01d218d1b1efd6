// The graph's "sensitive data" filter (issue 14): which datasets and columns in view hold a class (one class, or
// any), in the clear, masked or as an influence; the rest is dimmed. Jobs stay lit when they read or write a
// dataset holding a class in the clear or masked: the places where personal data moves or is masked.
import { useMemo } from "react";
import { paths } from "../api";
import { exposureOf, indexClasses, stronger, type ClassIndex, type Exposure } from "../classes";
import { usePolled } from "../poll";
import type { Classifications } from "../types";
import { datasetNodeId, fieldKey } from "../names";
import type { GraphModel } from "./model";

export interface SensitiveFilter {
  cls: string | null; // null: every class
}

export interface SensitiveView {
  cls: string | null;
  /** dataset and job node ids by the strongest exposure they hold (absent: none: dimmed) */
  nodes: Map<string, Exposure>;
  /** fields in view by exposure */
  counts: Record<Exposure, number>;
}

function countFields(model: GraphModel, index: ClassIndex, cls: string | null,
  fieldNames: Map<string, string[]> | null): Record<Exposure, number> {
  const counts: Record<Exposure, number> = { clear: 0, masked: 0, influenced: 0 };
  for (const node of model.nodes) {
    if (node.kind !== "DATASET") continue;
    const names = fieldNames?.get(node.id) ?? node.fields.map((f) => f.name);
    for (const name of names) {
      const exposure = exposureOf(index.get(fieldKey(node.namespace, node.name, name)), cls);
      if (exposure) counts[exposure] += 1;
    }
  }
  return counts;
}

/** The filter applied to the graph in view (`fieldNames`: the rows listed at the column level, else the schemas). */
export function sensitiveView(model: GraphModel, index: ClassIndex, filter: SensitiveFilter,
  fieldNames: Map<string, string[]> | null): SensitiveView {
  const nodes = new Map<string, Exposure>();
  for (const entry of index.values()) {
    const id = datasetNodeId(entry.namespace, entry.dataset);
    if (!model.byId.has(id)) continue;
    const exposure = stronger(nodes.get(id) ?? null, exposureOf(entry, filter.cls));
    if (exposure) nodes.set(id, exposure);
  }
  for (const { from, to } of model.edges) {
    const [job, dataset] = model.byId.get(from)?.kind === "JOB" ? [from, to] : [to, from];
    const exposure = nodes.get(dataset);
    if (model.byId.get(job)?.kind !== "JOB" || (exposure !== "clear" && exposure !== "masked")) continue;
    const held = stronger(nodes.get(job) ?? null, exposure);
    if (held) nodes.set(job, held);
  }
  return { cls: filter.cls, nodes, counts: countFields(model, index, filter.cls, fieldNames) };
}

/**
 * The classes for a graph page: read (and kept current) while badges can show (column level) or the filter is
 * on; the filter's view of the graph in view when it is on. `classes` lists the declared classes (the selector).
 */
export function useSensitive(model: GraphModel | null, fieldNames: Map<string, string[]> | null, read: boolean,
  filter: SensitiveFilter | null) {
  const answer = usePolled<Classifications>(read || filter ? paths.classifications() : null);
  const index = useMemo(() => indexClasses(answer.data), [answer.data]);
  const cls = filter?.cls;
  const stableFilter = useMemo(() => (cls === undefined ? null : { cls }), [cls]);
  const sensitive = useMemo(() => {
    if (!stableFilter || !model || !index) return null;
    return { filter: stableFilter, view: sensitiveView(model, index, stableFilter, fieldNames) };
  }, [stableFilter, model, index, fieldNames]);
  return { index, sensitive, classes: answer.data?.classes ?? null, error: answer.error ?? null };
}
