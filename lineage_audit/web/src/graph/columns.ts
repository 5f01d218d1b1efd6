// Column level of the graph: the field-to-field edges among the datasets in view, and the closure of a field.
//
// Only field-level lineage is used (each output field's inputFields, as /column-lineage gives them);
// dataset-level dependencies (fields that only filter or join rows) are not a field's lineage.
// Loading avoids one request per dataset on big graphs: with many datasets in view, the namespaces' dataset
// lists (which carry each dataset's columnLineage) are read a page at a time instead.
import { fetchJson, paths } from "../api";
import { datasetNodeId, datasetOfKey, fieldId, fieldKey, fieldOfKey, transformationLabel } from "../names";
import type { ColumnLineage, ColumnNode, Dataset, InputField } from "../types";
import { edgeKey } from "./layout";
import type { GraphModel } from "./model";

// Fields are keyed by `fieldKey` (namespace, dataset, field) throughout: Marquez's field ids
// (`datasetField:<ns>:<dataset>:<field>`) cannot be split back, since names may hold colons; they are
// only made for the DOM.
export interface FieldEdge {
  from: string; // input field key
  to: string; // output field key
  fromId: string; // their field ids (data-from, data-to)
  toId: string;
  transformation: string; // e.g. DIRECT/IDENTITY; several joined with ", "
  masking: boolean;
  description: string;
}

export type Highlight = "selected" | "upstream" | "downstream";

export interface ColumnGraph {
  edges: FieldEdge[];
  /** every field named by an edge, per dataset node id, so that each edge has a row at both ends */
  extraFields: Map<string, string[]>;
  into: Map<string, FieldEdge[]>; // by output field
  outOf: Map<string, FieldEdge[]>; // by input field
}

const FEW_DATASETS = 12; // up to this many, one /column-lineage request each
const PAGE = 500;
const MAX_PAGES = 20; // per namespace; datasets still missing after that are asked one by one

/** Edges of one dataset's column lineage: its fields with their input fields. */
function edgesOf(namespace: string, dataset: string, lineage: ColumnLineage[]): FieldEdge[] {
  return lineage.flatMap((column) =>
    column.inputFields.map((input) => fieldEdge(input, namespace, dataset, column.name)),
  );
}

function fieldEdge(input: InputField, namespace: string, dataset: string, field: string): FieldEdge {
  const seen = new Set<string>();
  const labels: string[] = [];
  let masking = false;
  for (const t of input.transformations ?? []) {
    const label = transformationLabel(t.type, t.subtype);
    if (!seen.has(label)) labels.push(label);
    seen.add(label);
    masking ||= Boolean(t.masking);
  }
  if (!labels.length) labels.push(transformationLabel(input.transformationType, null));
  const description = (input.transformations ?? []).map((t) => t.description).filter(Boolean).join("; ");
  return {
    from: fieldKey(input.namespace, input.dataset, input.field), to: fieldKey(namespace, dataset, field),
    fromId: fieldId(input.namespace, input.dataset, input.field), toId: fieldId(namespace, dataset, field),
    transformation: labels.join(", "), masking, description,
  };
}

async function columnLineageOfOne(namespace: string, name: string, asOf: string | null): Promise<FieldEdge[]> {
  const answer = await fetchJson<{ graph: ColumnNode[] }>(
    paths.columnLineage(`dataset:${namespace}:${name}`, 1, false, asOf),
  );
  const own = answer.graph.filter((n) => n.data.namespace === namespace && n.data.dataset === name);
  return own.flatMap((n) => n.data.inputFields.map((input) => fieldEdge(input, namespace, name, n.data.field)));
}

async function columnLineageOfNamespace(namespace: string, wanted: Set<string>): Promise<[FieldEdge[], string[]]> {
  const edges: FieldEdge[] = [];
  const missing = new Set(wanted);
  for (let page = 0; page < MAX_PAGES && missing.size; page++) {
    const answer = await fetchJson<{ datasets: Dataset[]; totalCount: number }>(
      paths.datasetsIn(namespace, PAGE, page * PAGE),
    );
    for (const dataset of answer.datasets) {
      if (!missing.delete(dataset.name)) continue;
      edges.push(...edgesOf(namespace, dataset.name, dataset.columnLineage ?? []));
    }
    if ((page + 1) * PAGE >= answer.totalCount) break;
  }
  return [edges, [...missing]];
}

/**
 * Column lineage of every dataset in view that a job in view writes (the only ones with field edges here), as
 * of `asOf` when given (then one request per dataset: the namespaces' dataset lists are the current state).
 */
export async function loadColumnGraph(model: GraphModel, asOf: string | null = null): Promise<ColumnGraph> {
  const targets = new Set(model.edges.map((e) => e.to));
  const written = model.nodes.filter((n) => n.kind === "DATASET" && targets.has(n.id));
  const edges: FieldEdge[] = [];
  let oneByOne = written.map((n) => [n.namespace, n.name]);
  if (written.length > FEW_DATASETS && !asOf) {
    const byNamespace = new Map<string, Set<string>>();
    for (const n of written) {
      (byNamespace.get(n.namespace) ?? byNamespace.set(n.namespace, new Set()).get(n.namespace)!).add(n.name);
    }
    oneByOne = [];
    const answers = await Promise.all(
      [...byNamespace].map(([namespace, names]) => columnLineageOfNamespace(namespace, names)),
    );
    for (const [[namespace], [found, missing]] of [...byNamespace].map((entry, i) => [entry, answers[i]] as const)) {
      edges.push(...found);
      oneByOne.push(...missing.map((name) => [namespace, name]));
    }
  }
  for (let start = 0; start < oneByOne.length; start += 4) {
    const batch = oneByOne.slice(start, start + 4);
    const answers = await Promise.all(batch.map(([ns, name]) => columnLineageOfOne(ns, name, asOf)));
    answers.forEach((found) => edges.push(...found));
  }
  return indexColumnGraph(model, edges);
}

/** The column graph of a `/column-lineage` answer (the pipeline's: every field of the namespace's datasets). */
export function columnGraphOf(model: GraphModel, nodes: ColumnNode[]): ColumnGraph {
  const edges = nodes.flatMap(({ data }) =>
    data.inputFields.map((input) => fieldEdge(input, data.namespace, data.dataset, data.field)),
  );
  return indexColumnGraph(model, edges);
}

/** Field rows of each dataset node: its schema, then fields only column lineage names. */
export function fieldRows(model: GraphModel | null, columns: ColumnGraph | null): Map<string, string[]> | null {
  if (!model || !columns) return null;
  const rows = new Map<string, string[]>();
  for (const node of model.nodes) {
    if (node.kind !== "DATASET") continue;
    rows.set(node.id, [...node.fields.map((f) => f.name), ...(columns.extraFields.get(node.id) ?? [])]);
  }
  return rows;
}

function indexColumnGraph(model: GraphModel, edges: FieldEdge[]): ColumnGraph {
  const inView = new Set(model.nodes.flatMap((n) => (n.kind === "DATASET" ? [n.id] : [])));
  const known = new Set(model.nodes.flatMap((n) => n.fields.map((f) => fieldKey(n.namespace, n.name, f.name))));
  const extraFields = new Map<string, string[]>();
  const into = new Map<string, FieldEdge[]>();
  const outOf = new Map<string, FieldEdge[]>();
  for (const edge of edges) {
    for (const key of [edge.from, edge.to]) {
      if (known.has(key)) continue;
      const { namespace, dataset, field } = fieldOfKey(key);
      const datasetNode = datasetNodeId(namespace, dataset);
      if (!inView.has(datasetNode)) continue;
      known.add(key);
      (extraFields.get(datasetNode) ?? extraFields.set(datasetNode, []).get(datasetNode)!).push(field);
    }
    (into.get(edge.to) ?? into.set(edge.to, []).get(edge.to)!).push(edge);
    (outOf.get(edge.from) ?? outOf.set(edge.from, []).get(edge.from)!).push(edge);
  }
  return { edges, extraFields, into, outOf };
}

/** The selected field, every field it is computed from (transitively) and every field computed from it. */
export function fieldClosure(graph: ColumnGraph, selected: string): Map<string, Highlight> {
  const marks = new Map<string, Highlight>([[selected, "selected"]]);
  const walk = (index: Map<string, FieldEdge[]>, next: (e: FieldEdge) => string, mark: Highlight) => {
    const stack = [selected];
    const seen = new Set(stack);
    while (stack.length) {
      for (const edge of index.get(stack.pop()!) ?? []) {
        const field = next(edge);
        if (seen.has(field)) continue;
        seen.add(field);
        if (!marks.has(field)) marks.set(field, mark);
        stack.push(field);
      }
    }
  };
  walk(graph.into, (e) => e.from, "upstream");
  walk(graph.outOf, (e) => e.to, "downstream");
  return marks;
}

/** An edge lies on the closure when it links two upstream fields (or one to the selected), or two downstream. */
export function edgeHighlight(edge: FieldEdge, marks: Map<string, Highlight>): Highlight | null {
  const from = marks.get(edge.from);
  const to = marks.get(edge.to);
  if (from === "upstream" && (to === "upstream" || to === "selected")) return "upstream";
  if (to === "downstream" && (from === "downstream" || from === "selected")) return "downstream";
  return null;
}

/** What a traced field passes through at table level: the jobs and node edges of its highlighted hops. */
export interface Trace {
  jobs: Map<string, Highlight>; // job node id -> "upstream" or "downstream"
  edges: Map<string, Highlight>; // node edge key (layout's edgeKey) -> the same
}

/**
 * Each highlighted field edge, from a field of dataset A to one of dataset B, was made by the jobs in view
 * that read A and write B: those jobs, and their edges from A and to B, are on the trace.
 */
export function traceOf(model: GraphModel, columns: ColumnGraph, marks: Map<string, Highlight>): Trace {
  const reads = new Map<string, Set<string>>(); // job -> datasets it reads
  const writers = new Map<string, string[]>(); // dataset -> jobs writing it
  for (const { from, to } of model.edges) {
    if (model.byId.get(to)?.kind === "JOB") (reads.get(to) ?? reads.set(to, new Set()).get(to)!).add(from);
    else (writers.get(to) ?? writers.set(to, []).get(to)!).push(from);
  }
  const trace: Trace = { jobs: new Map(), edges: new Map() };
  for (const edge of columns.edges) {
    const mark = edgeHighlight(edge, marks);
    if (!mark) continue;
    const source = datasetOfKey(edge.from);
    const target = datasetOfKey(edge.to);
    for (const job of writers.get(target) ?? []) {
      if (!reads.get(job)?.has(source)) continue;
      if (!trace.jobs.has(job)) trace.jobs.set(job, mark);
      for (const key of [edgeKey(source, job), edgeKey(job, target)]) {
        if (!trace.edges.has(key)) trace.edges.set(key, mark);
      }
    }
  }
  return trace;
}
