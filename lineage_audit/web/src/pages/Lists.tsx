// Jobs and datasets of every namespace, each list with a filter; and the global search's results.
import { useState, type ReactElement } from "react";
import { paths } from "../api";
import { StateBadge } from "../components/StateBadge";
import { datasetNodeId, formatDuration, formatTime, jobNodeId, shortDatasetName, shortJobName } from "../names";
import { usePolled, usePolledAll } from "../poll";
import { hrefs, type Route } from "../router";
import type { Dataset, Job, Namespace, SearchResult } from "../types";

const LIST_LIMIT = 1000;

function useFilter(): [string, (value: string) => boolean, ReactElement] {
  const [text, setText] = useState("");
  const needle = text.trim().toLowerCase();
  const input = (
    <input className="list-filter" data-testid="list-filter" type="search" placeholder="Filter by name"
      value={text} onChange={(e) => setText(e.target.value)} aria-label="Filter by name" />
  );
  return [text, (value: string) => !needle || value.toLowerCase().includes(needle), input];
}

/** The namespaces' names, then one list request per namespace. */
function usePerNamespace<T>(listPath: (ns: string) => string) {
  const namespaces = usePolled<{ namespaces: Namespace[] }>(paths.namespaces());
  const names = namespaces.data?.namespaces.map((n) => n.name) ?? null;
  const lists = usePolledAll<T>(names ? names.map(listPath) : null);
  return { lists: lists.data, error: namespaces.error ?? lists.error, loading: namespaces.loading || lists.loading };
}

function ListStatus({ shown, total, stored, loading, error }: {
  shown: number; total: number; stored: number; loading: boolean; error?: Error;
}) {
  if (error && !total) return <p className="error-box">{error.message}</p>;
  if (loading && !total) return <p className="muted">Loading…</p>;
  // a namespace holding more than LIST_LIMIT: say so, rather than let the list pass for complete
  const more = stored > total
    ? ` (the first ${LIST_LIMIT.toLocaleString()} of each namespace, ${total.toLocaleString()} of `
      + `${stored.toLocaleString()}: the search box finds the others)`
    : "";
  return <p className="muted" data-testid="list-status">{`${shown} of ${total}${more}`}</p>;
}

/** How many the service holds, across the namespaces (totalCount of each list). */
function storedCount(lists: { totalCount: number }[] | null | undefined): number {
  return (lists ?? []).reduce((sum, l) => sum + l.totalCount, 0);
}

export function JobsList() {
  const { lists, error, loading } = usePerNamespace<{ jobs: Job[]; totalCount: number }>(
    (ns) => paths.jobsIn(ns, LIST_LIMIT),
  );
  const [, matches, filter] = useFilter();
  const jobs = (lists ?? []).flatMap((l) => l.jobs);
  const shown = jobs.filter((j) => matches(j.name));
  return (
    <div className="page">
      <div className="page-head">
        <h1>Jobs</h1>
        {filter}
      </div>
      <ListStatus shown={shown.length} total={jobs.length} stored={storedCount(lists)} loading={loading}
        error={error} />
      <table className="table">
        <thead>
          <tr><th>Job</th><th>Namespace</th><th>Latest run</th><th>Started</th><th>Duration</th><th /></tr>
        </thead>
        <tbody>
          {shown.map((job) => (
            <tr key={`${job.namespace}:${job.name}`} data-testid="job-row" data-name={job.name}>
              <td className="name-cell">
                <a href={hrefs.job(job.namespace, job.name)}>{shortJobName(job.name, job.parentJobName)}</a>
                {job.parentJobName && <div className="muted small">{job.name}</div>}
              </td>
              <td className="nowrap">{job.namespace}</td>
              <td><StateBadge state={job.latestRun?.state} /></td>
              <td className="nowrap">{formatTime(job.latestRun?.startedAt ?? job.latestRun?.createdAt)}</td>
              <td>{formatDuration(job.latestRun?.durationMs)}</td>
              <td><a className="row-link" href={hrefs.lineage(jobNodeId(job.namespace, job.name))}>graph</a></td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function DatasetsList() {
  const { lists, error, loading } = usePerNamespace<{ datasets: Dataset[]; totalCount: number }>(
    (ns) => paths.datasetsIn(ns, LIST_LIMIT),
  );
  const [, matches, filter] = useFilter();
  const datasets = (lists ?? []).flatMap((l) => l.datasets);
  const shown = datasets.filter((d) => matches(d.name));
  return (
    <div className="page">
      <div className="page-head">
        <h1>Datasets</h1>
        {filter}
      </div>
      <ListStatus shown={shown.length} total={datasets.length} stored={storedCount(lists)} loading={loading}
        error={error} />
      <table className="table">
        <thead>
          <tr><th>Dataset</th><th>Namespace</th><th>Fields</th><th>Updated</th><th /></tr>
        </thead>
        <tbody>
          {shown.map((d) => (
            <tr key={`${d.namespace}:${d.name}`} data-testid="dataset-row" data-name={d.name}>
              <td className="name-cell">
                <a href={hrefs.dataset(d.namespace, d.name)}>{shortDatasetName(d.name)}</a>
                {shortDatasetName(d.name) !== d.name && <div className="muted small">{d.name}</div>}
              </td>
              <td className="nowrap">{d.namespace}</td>
              <td>{d.fields.length}</td>
              <td className="nowrap">{formatTime(d.updatedAt)}</td>
              <td><a className="row-link" href={hrefs.lineage(datasetNodeId(d.namespace, d.name))}>graph</a></td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function SearchPage({ route }: { route: Route }) {
  const q = route.query.get("q") ?? "";
  const found = usePolled<{ results: SearchResult[]; totalCount: number }>(q ? paths.search(q) : null);
  const results = found.data?.results ?? [];
  return (
    <div className="page">
      <h1>Search: <span className="query-text">{q}</span></h1>
      {found.error && <p className="error-box">{found.error.message}</p>}
      {!q && <p className="muted">Type a name in the search box above and press Enter.</p>}
      {q && !found.loading && !results.length && <p className="muted">Nothing matches.</p>}
      <table className="table">
        <tbody>
          {results.map((r) => {
            const isJob = r.type === "JOB";
            return (
              <tr key={r.nodeId} data-testid="search-row" data-name={r.name}>
                <td><span className={`kind-badge kind-${r.type.toLowerCase()}`}>{isJob ? "Job" : "Dataset"}</span></td>
                <td className="name-cell">
                  <a href={isJob ? hrefs.job(r.namespace, r.name) : hrefs.dataset(r.namespace, r.name)}>
                    {isJob ? r.name : shortDatasetName(r.name)}
                  </a>
                  {!isJob && shortDatasetName(r.name) !== r.name && <div className="muted small">{r.name}</div>}
                </td>
                <td className="nowrap">{r.namespace}</td>
                <td className="nowrap">{formatTime(r.updatedAt)}</td>
                <td><a className="row-link" href={hrefs.lineage(r.nodeId)}>graph</a></td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
