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
  if (job.location) return job.location;
  const found = facet(job.facets, "sourceCodeLocation");
  if (!found) return null;
  const parts = [found.url, found.repoUrl, found.path, found.version].filter((p) => typeof p === "string" && p);
  return parts.length ? parts.join(" · ") : null;
}

/** Failed runs first, then the newest. */
export function failedFirst<T extends { state: string; time: string }>(rows: T[]): T[] {
  const failed = (row: T) => (row.state === "FAILED" || row.state === "ABORTED" ? 0 : 1);
  return [...rows].sort((a, b) => failed(a) - failed(b) || (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
}
