// The overview: namespaces with their counts, recent runs (failed first), and lineage events per hour.
import { paths } from "../api";
import { BreakableName } from "../components/BreakableName";
import { StateBadge } from "../components/StateBadge";
import { failedFirst } from "../components/runs";
import { durationBetween, formatDuration, formatTime, jobNodeId, shortJobName } from "../names";
import { usePolled, usePolledAll } from "../poll";
import { hrefs } from "../router";
import type { EventBucket, LineageEvent, Namespace } from "../types";
import { EventsChart } from "./EventsChart";

const RECENT_EVENTS = 300;
const RECENT_RUNS = 25;

interface RecentRun {
  runId: string;
  namespace: string;
  job: string;
  parent: string | null; // the parent facet's job name
  state: string;
  time: string; // of the latest event
  startedAt: string | null;
  endedAt: string | null;
  error: string | null;
}

const STATE_OF_EVENT: Record<string, string> = {
  START: "RUNNING", RUNNING: "RUNNING", COMPLETE: "COMPLETED", FAIL: "FAILED", ABORT: "ABORTED",
};

/** Runs as the latest events tell them (events come newest first). */
export function recentRuns(events: LineageEvent[]): RecentRun[] {
  const runs = new Map<string, RecentRun>();
  for (const event of events) {
    const id = event.run?.runId;
    if (!id || !event.job) continue;
    let run = runs.get(id);
    if (!run) {
      const parent = (event.run.facets?.parent as { job?: { name?: unknown } } | undefined)?.job?.name;
      run = { runId: id, namespace: event.job.namespace, job: event.job.name, state: "", time: event.eventTime,
        parent: typeof parent === "string" ? parent : null, startedAt: null, endedAt: null, error: null };
      runs.set(id, run);
    }
    const state = STATE_OF_EVENT[event.eventType ?? ""];
    if (state && !run.state) run.state = state; // the newest event with a state decides
    if (event.eventType === "START") run.startedAt = event.eventTime;
    if (state && state !== "RUNNING" && !run.endedAt) run.endedAt = event.eventTime;
    const message = (event.run.facets?.errorMessage as { message?: unknown } | undefined)?.message;
    if (!run.error && typeof message === "string") run.error = message;
  }
  return failedFirst([...runs.values()].filter((r) => r.state)).slice(0, RECENT_RUNS);
}

function NamespaceCards() {
  const namespaces = usePolled<{ namespaces: Namespace[] }>(paths.namespaces());
  const list = namespaces.data?.namespaces ?? [];
  const counts = usePolledAll<{ totalCount: number }>(
    list.length ? list.flatMap((n) => [paths.jobsIn(n.name, 0), paths.datasetsIn(n.name, 0)]) : null,
  );
  if (namespaces.error && !namespaces.data) return <p className="error-box">{namespaces.error.message}</p>;
  if (!list.length) return <p className="muted">{namespaces.loading ? "Loading…" : "No namespaces yet: run a job."}</p>;
  return (
    <div className="cards">
      {list.map((ns, i) => (
        <div key={ns.name} className="card" data-testid="namespace-card" data-name={ns.name}>
          <h3 title={ns.name}>{ns.name}</h3>
          <p className="card-counts">
            <Count href={hrefs.jobs()} count={counts.data?.[2 * i]?.totalCount} what="jobs" />
            <Count href={hrefs.datasets()} count={counts.data?.[2 * i + 1]?.totalCount} what="datasets" />
          </p>
          <p className="muted">updated {formatTime(ns.updatedAt)}</p>
        </div>
      ))}
    </div>
  );
}

function Count({ href, count, what }: { href: string; count: number | undefined; what: string }) {
  return (
    <a href={href} className={count === 0 ? "count-zero" : ""}>
      <strong>{count ?? "…"}</strong> {what}
    </a>
  );
}

function RecentRuns() {
  const events = usePolled<{ events: LineageEvent[] }>(paths.events(RECENT_EVENTS));
  const runs = events.data ? recentRuns(events.data.events) : [];
  return (
    <div className="table-scroll">
      <table className="table" data-testid="recent-runs">
        <thead>
          <tr><th>State</th><th>Job</th><th>Started</th><th>Duration</th><th>Error</th></tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <tr key={run.runId} data-testid="run-row" data-state={run.state}>
              <td><StateBadge state={run.state} /></td>
              <td className="name-cell job-cell">
                <div className="job-name">
                  {run.parent && <span className="muted"><BreakableName name={run.parent} /> › </span>}
                  <a href={hrefs.job(run.namespace, run.job)} title={`${run.namespace}:${run.job}`}>
                    <BreakableName name={shortJobName(run.job, run.parent)} />
                  </a>{" "}
                  <a className="row-link" href={hrefs.lineage(jobNodeId(run.namespace, run.job))}>graph</a>
                </div>
              </td>
              <td className="nowrap">{formatTime(run.startedAt ?? run.time)}</td>
              <td className="nowrap">{formatDuration(durationBetween(run.startedAt, run.endedAt))}</td>
              <td className="error-cell">
                {/* long errors are cut to a few lines: the whole text on hover, and on the job's page */}
                {run.error && <div className="error-text" title={run.error}>{run.error}</div>}
              </td>
            </tr>
          ))}
          {!runs.length && (
            <tr>
              <td colSpan={5} className={events.error ? "error-cell" : "muted"}>
                {events.error ? events.error.message : events.loading ? "Loading…" : "No runs yet."}
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

export function Overview() {
  const stats = usePolled<EventBucket[]>(paths.eventStats());
  return (
    <div className="page">
      <h1>Overview</h1>
      <div className="two-columns">
        <section>
          <h2>Namespaces</h2>
          <NamespaceCards />
        </section>
        <section>
          <h2>Lineage events per hour <span className="muted small">last 24 hours</span></h2>
          {stats.error && !stats.data
            ? <p className="error-box">{stats.error.message}</p>
            : <EventsChart buckets={stats.data ?? []} />}
        </section>
      </div>
      <section>
        <h2>Recent runs <span className="muted small">failed first, then newest</span></h2>
        <RecentRuns />
      </section>
    </div>
  );
}
