// How names and times are shown. Dataset names here are file paths and job names carry their application
// and Spark command: the short form leads, the full name is one hover or click away.

export function jobNodeId(namespace: string, name: string): string {
  return `job:${namespace}:${name}`;
}

export function datasetNodeId(namespace: string, name: string): string {
  return `dataset:${namespace}:${name}`;
}

/** The field id of Marquez and of the DOM (`data-field-id`): not parseable, as any of its parts may hold ":". */
export function fieldId(namespace: string, dataset: string, field: string): string {
  return `datasetField:${namespace}:${dataset}:${field}`;
}

/** A field as its parts: what the graph keys fields by internally (ids are never split back into parts). */
export interface FieldRef {
  namespace: string;
  dataset: string;
  field: string;
}

/** The graph's internal key of a field: one to one with its parts, whatever characters they hold. */
export function fieldKey(namespace: string, dataset: string, field: string): string {
  return JSON.stringify([namespace, dataset, field]);
}

export function fieldOfKey(key: string): FieldRef {
  const [namespace, dataset, field] = JSON.parse(key) as [string, string, string];
  return { namespace, dataset, field };
}

/** The dataset node id (`dataset:<ns>:<name>`) of a field key. */
export function datasetOfKey(key: string): string {
  const { namespace, dataset } = fieldOfKey(key);
  return datasetNodeId(namespace, dataset);
}

export function fieldIdOfKey(key: string): string {
  const { namespace, dataset, field } = fieldOfKey(key);
  return fieldId(namespace, dataset, field);
}

/** The last segment of a path-like dataset name: `/data/outputs/enriched_orders` -> `enriched_orders`. */
export function shortDatasetName(name: string): string {
  const trimmed = name.replace(/\/+$/, "");
  const slash = trimmed.lastIndexOf("/");
  return slash >= 0 && slash < trimmed.length - 1 ? trimmed.slice(slash + 1) : trimmed || name;
}

/** A child job's own part: `orders.execute_insert_..._command.outputs_enriched_orders` -> `outputs_enriched_orders`. */
export function shortJobName(name: string, parent?: string | null): string {
  if (parent && name.startsWith(`${parent}.`)) {
    const rest = name.slice(parent.length + 1);
    const dot = rest.lastIndexOf(".");
    return dot >= 0 && dot < rest.length - 1 ? rest.slice(dot + 1) : rest;
  }
  return name;
}

/** The part of a dataset path before its last segment, for a second line: `/data/outputs`. */
export function datasetFolder(name: string): string {
  const trimmed = name.replace(/\/+$/, "");
  const slash = trimmed.lastIndexOf("/");
  return slash > 0 ? trimmed.slice(0, slash) : "";
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "–";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, "0");
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "–";
  if (ms < 1000) return `${ms} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function durationBetween(start: string | null | undefined, end: string | null | undefined): number | null {
  if (!start || !end) return null;
  const ms = new Date(end).getTime() - new Date(start).getTime();
  return Number.isFinite(ms) ? ms : null;
}

/** `DIRECT/IDENTITY`, or the type alone when there is no subtype. */
export function transformationLabel(type: string | null, subtype: string | null): string {
  if (!type && !subtype) return "?";
  return subtype ? `${type ?? "?"}/${subtype}` : (type ?? "?");
}
