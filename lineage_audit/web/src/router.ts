// Hash routing: every page is `#/<page>/<part>/<part>?<query>`, parts URL-encoded (dataset names hold slashes).
// Static files only: the service needs no route per page.
import { useEffect, useState } from "react";

export interface Route {
  page: string; // "" for the overview
  parts: string[]; // decoded path parts after the page
  query: URLSearchParams;
}

const ROUTE_CHANGED = "lineage-audit:route";

export function parseHash(hash: string): Route {
  const body = hash.replace(/^#\/?/, "");
  const [path, query = ""] = splitOnce(body, "?");
  const [page = "", ...parts] = path.split("/").map(safeDecode);
  return { page, parts, query: new URLSearchParams(query) };
}

function splitOnce(text: string, separator: string): [string, string?] {
  const at = text.indexOf(separator);
  return at < 0 ? [text] : [text.slice(0, at), text.slice(at + 1)];
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

export function useRoute(): Route {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const update = () => setHash(window.location.hash);
    window.addEventListener("hashchange", update);
    window.addEventListener(ROUTE_CHANGED, update);
    return () => {
      window.removeEventListener("hashchange", update);
      window.removeEventListener(ROUTE_CHANGED, update);
    };
  }, []);
  return parseHash(hash);
}

/** Go to a hash; `replace` keeps the history entry (control changes: depth, toggles). */
export function navigate(hash: string, replace = false): void {
  if (window.location.hash === hash) return;
  if (replace) {
    history.replaceState(null, "", hash);
    window.dispatchEvent(new Event(ROUTE_CHANGED));
  } else {
    window.location.hash = hash;
  }
}

const enc = encodeURIComponent;

export interface LineageLinkOptions {
  depth?: number;
  columns?: boolean;
  full?: boolean;
  asOf?: string | null;
  since?: string | null;
  /** the "sensitive data" filter on; `cls`: one class only (else every class) */
  sensitive?: boolean;
  cls?: string | null;
}

export const hrefs = {
  overview: () => "#/",
  jobs: () => "#/jobs",
  datasets: () => "#/datasets",
  search: (q: string) => `#/search?q=${enc(q)}`,
  /** `compare`: two of the job's runs compared (older first), in its run history */
  job: (ns: string, name: string, compare?: [string, string] | null) =>
    `#/job/${enc(ns)}/${enc(name)}${compare ? `?compare=${enc(compare.join(","))}` : ""}`,
  dataset: (ns: string, name: string) => `#/dataset/${enc(ns)}/${enc(name)}`,
  /** `asOf`: the graph as of a past moment; `since`: the graph now with what changed since the moment. */
  lineage: (node: string, options: LineageLinkOptions = {}) => {
    const query = new URLSearchParams({ node });
    query.set("depth", String(options.depth ?? DEFAULT_DEPTH));
    query.set("columns", options.columns ? "1" : "0");
    query.set("full", options.full ? "1" : "0");
    if (options.asOf) query.set("asOf", options.asOf);
    else if (options.since) query.set("since", options.since);
    setSensitive(query, options);
    return `#/lineage?${query.toString()}`;
  },
  pipeline: (ns?: string, options: { columns?: boolean; sensitive?: boolean; cls?: string | null } = {}) => {
    const query = new URLSearchParams();
    if (options.columns) query.set("columns", "1");
    setSensitive(query, options);
    const text = query.toString();
    return (ns ? `#/pipeline/${enc(ns)}` : "#/pipeline") + (text ? `?${text}` : "");
  },
};

export const DEFAULT_DEPTH = 5;

function setSensitive(query: URLSearchParams, options: { sensitive?: boolean; cls?: string | null }): void {
  if (!options.sensitive) return;
  query.set("sensitive", "1");
  if (options.cls) query.set("class", options.cls);
}

/** The "sensitive data" filter a page's address asks for: `sensitive=1[&class=<class>]`. */
export function sensitiveOf(query: URLSearchParams): { sensitive: boolean; cls: string | null } {
  const sensitive = query.get("sensitive") === "1";
  return { sensitive, cls: sensitive ? query.get("class") || null : null };
}
