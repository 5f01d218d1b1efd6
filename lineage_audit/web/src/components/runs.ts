// What the UI reads from runs and jobs beyond their plain fields: the OpenLineage facets.
import type { Facets, Job, Run } from "../types";

function facet(facets: Facets | undefined, name: string): Record<string, unknown> | null {
  const value = facets?.[name];
  return value && typeof value === "object" ? (value as Record<string, unknown>) : null;
}

/** The message of a failed run's errorMessage facet, if it has one. */
export function errorOfRun(run: Run): string | null {
  const message = facet(run.facets, "errorMessage")?.message;
  return typeof message === "string" && message ? message : null;
}

export function stackTraceOfRun(run: Run): string | null {
  const trace = facet(run.facets, "errorMessage")?.stackTrace;
  return typeof trace === "string" && trace ? trace : null;
}

/** Where a job's code lives: its `location`, else its sourceCodeLocation facet (url, or repo and path). */
export function sourceLocation(job: Job): string | null {
  // the facet says more than the job's location (its URL): the commit and branch the code ran from
  const found = facet(job.facets, "sourceCodeLocation");
  const url = typeof found?.url === "string" && found.url ? found.url : job.location;
  if (!url) return null;
  const text = (key: string) => (typeof found?.[key] === "string" && found[key] ? (found[key] as string) : null);
  const version = text("version");
  const branch = text("branch");
  const commit = version ? `commit ${version.slice(0, 12)}${branch ? ` on ${branch}` : ""}` : null;
  return [url, commit, text("repoUrl")].filter(Boolean).join(" · ");
}

/** Failed runs first, then the newest. */
export function failedFirst<T extends { state: string; time: string }>(rows: T[]): T[] {
  const failed = (row: T) => (row.state === "FAILED" || row.state === "ABORTED" ? 0 : 1);
  return [...rows].sort((a, b) => failed(a) - failed(b) || (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
}
