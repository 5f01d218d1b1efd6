// The service's JSON API, the UI's only data source. Every request goes through `fetchText`, which adds the
// read API key (when the user gave one) and turns a 401 into a prompt for it.

const API = "./api/v1";
const KEY_STORAGE = "lineage-audit.read-api-key";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type AuthListener = () => void;
const authListeners = new Set<AuthListener>();

/** Called whenever the service answers 401: the app shows its API key prompt. */
export function onAuthRequired(listener: AuthListener): () => void {
  authListeners.add(listener);
  return () => authListeners.delete(listener);
}

export function readApiKey(): string | null {
  try {
    return sessionStorage.getItem(KEY_STORAGE);
  } catch {
    return null; // storage disabled: the key is asked again on the next 401
  }
}

export function saveApiKey(key: string): void {
  try {
    if (key) sessionStorage.setItem(KEY_STORAGE, key);
    else sessionStorage.removeItem(KEY_STORAGE);
  } catch {
    /* storage disabled: nothing to keep */
  }
}

/** The body of a GET as text: pollers compare it with the last one before parsing anything. */
export async function fetchText(path: string, signal?: AbortSignal): Promise<string> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const key = readApiKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  const response = await fetch(`${API}${path}`, { headers, signal, cache: "no-store" });
  const text = await response.text();
  if (!response.ok) {
    if (response.status === 401) authListeners.forEach((listener) => listener());
    throw new ApiError(response.status, errorMessage(response.status, text));
  }
  return text;
}

export async function fetchJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return JSON.parse(await fetchText(path, signal)) as T;
}

function errorMessage(status: number, body: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: string };
    if (parsed.message) return `${status}: ${parsed.message}`;
  } catch {
    /* not JSON: fall through */
  }
  return status === 401 ? "401: a read API key is required" : `${status}: ${body.slice(0, 200) || "request failed"}`;
}

const enc = encodeURIComponent;

/** `&asOf=<moment>` when a past moment is asked for, else nothing: the current state. */
function asOfParam(asOf?: string | null): string {
  return asOf ? `&asOf=${enc(asOf)}` : "";
}

/** Paths of the API routes the UI reads, relative to /api/v1. */
/** ``text`` as a LIKE pattern matching itself: ``%``, ``_`` and the escape character escaped. */
export function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export const paths = {
  namespaces: () => "/namespaces?limit=1000",
  jobsIn: (ns: string, limit = 1000, offset = 0) => `/namespaces/${enc(ns)}/jobs?limit=${limit}&offset=${offset}`,
  datasetsIn: (ns: string, limit = 1000, offset = 0) =>
    `/namespaces/${enc(ns)}/datasets?limit=${limit}&offset=${offset}`,
  job: (ns: string, name: string, asOf?: string | null) =>
    `/namespaces/${enc(ns)}/jobs/${enc(name)}${asOf ? `?asOf=${enc(asOf)}` : ""}`,
  jobRuns: (ns: string, name: string, limit = 50) => `/namespaces/${enc(ns)}/jobs/${enc(name)}/runs?limit=${limit}`,
  dataset: (ns: string, name: string) => `/namespaces/${enc(ns)}/datasets/${enc(name)}`,
  datasetVersions: (ns: string, name: string, limit = 50) =>
    `/namespaces/${enc(ns)}/datasets/${enc(name)}/versions?limit=${limit}`,
  lineage: (nodeId: string, depth: number, asOf?: string | null) =>
    `/lineage?nodeId=${enc(nodeId)}&depth=${depth}${asOfParam(asOf)}`,
  columnLineage: (nodeId: string, depth: number, withDownstream: boolean, asOf?: string | null) =>
    `/column-lineage?nodeId=${enc(nodeId)}&depth=${depth}&withDownstream=${withDownstream}${asOfParam(asOf)}`,
  // this service's extension (not in Marquez): the whole graph of a job namespace
  namespaceLineage: (ns: string) => `/namespaces/${enc(ns)}/lineage`,
  namespaceColumnLineage: (ns: string) => `/namespaces/${enc(ns)}/column-lineage`,
  // The API reads q as a LIKE pattern (as Marquez does); what a user types is meant literally.
  search: (q: string, limit = 100) => `/search?q=${enc(likeLiteral(q))}&limit=${limit}`,
  events: (limit: number) => `/events/lineage?limit=${limit}`,
  eventStats: () => "/stats/lineage-events?period=DAY",
  // the audit trail (issue 13): the run events of a graph (the as-of control's stops), two runs' difference
  moments: (nodeId: string, depth: number) => `/audit/moments?nodeId=${enc(nodeId)}&depth=${depth}`,
  runsDiff: (from: string, to: string) => `/audit/diff/runs?from=${enc(from)}&to=${enc(to)}`,
  datasetDiff: (ns: string, name: string, from: string) =>
    `/namespaces/${enc(ns)}/datasets/${enc(name)}/diff?from=${enc(from)}`,
  // where personal data flows (issue 14): the classes every classified field carries, one dataset's fields
  classifications: () => "/audit/classifications",
  datasetClassifications: (ns: string, name: string) =>
    `/namespaces/${enc(ns)}/datasets/${enc(name)}/classifications`,
};
