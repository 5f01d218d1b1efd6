// A job: its source location, inputs and outputs, child jobs, run history (with the error of failed runs, and
// two runs compared), and facets.
import { paths } from "../api";
import { FacetList } from "../components/JsonView";
import { StateBadge } from "../components/StateBadge";
import { sourceLocation } from "../components/runs";
import { datasetNodeId, formatDuration, formatTime, jobNodeId, shortDatasetName, shortJobName } from "../names";
import { usePolled } from "../poll";
import { hrefs, navigate } from "../router";
import type { DatasetRef, Job, Run } from "../types";
import { RunHistory } from "./RunHistory";

function DatasetLinks({ title, refs }: { title: string; refs: DatasetRef[] }) {
  return (
    <div>
      <h3>{title}</h3>
      {refs.length ? (
        <ul className="plain-list">
          {refs.map((d) => (
            <li key={`${d.namespace}:${d.name}`}>
              <a href={hrefs.dataset(d.namespace, d.name)} title={`${d.namespace}:${d.name}`}>
                {shortDatasetName(d.name)}
              </a>
              <a className="row-link" href={hrefs.lineage(datasetNodeId(d.namespace, d.name))}>graph</a>
            </li>
          ))}
        </ul>
      ) : <p className="muted">none</p>}
    </div>
  );
}

/** The jobs a job started (a Spark application's writes): named ``<parent>.<child>`` by the service. */
function ChildJobs({ namespace, name }: { namespace: string; name: string }) {
  const list = usePolled<{ jobs: Job[] }>(paths.jobsIn(namespace));
  const children = (list.data?.jobs ?? []).filter((j) => j.parentJobName === name);
  if (!children.length) return null;
  return (
    <section>
      <h2>Child jobs <span className="muted small">{children.length}</span></h2>
      <table className="table" data-testid="child-jobs">
        <thead><tr><th>Job</th><th>Latest run</th><th>Started</th><th>Duration</th><th /></tr></thead>
        <tbody>
          {children.map((child) => (
            <tr key={child.name} data-testid="child-job-row" data-name={child.name}>
              <td><a href={hrefs.job(namespace, child.name)}>{shortJobName(child.name, name)}</a></td>
              <td><StateBadge state={child.latestRun?.state} /></td>
              <td className="nowrap">{formatTime(child.latestRun?.startedAt ?? child.latestRun?.createdAt)}</td>
              <td>{formatDuration(child.latestRun?.durationMs)}</td>
              <td><a className="row-link" href={hrefs.lineage(jobNodeId(namespace, child.name))}>graph</a></td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** The two run ids of `?compare=<from>,<to>`, or null. */
function comparedRuns(compare: string | null): [string, string] | null {
  const ids = (compare ?? "").split(",").filter(Boolean);
  return ids.length === 2 ? [ids[0], ids[1]] : null;
}

export function JobDetail({ namespace, name, compare }: { namespace: string; name: string; compare: string | null }) {
  const job = usePolled<Job>(paths.job(namespace, name));
  const runs = usePolled<{ runs: Run[]; totalCount: number }>(paths.jobRuns(namespace, name));
  if (job.error && !job.data) return <div className="page"><p className="error-box">{job.error.message}</p></div>;
  const data = job.data;
  const location = data ? sourceLocation(data) : null;
  return (
    <div className="page">
      <p className="breadcrumb"><a href={hrefs.jobs()}>Jobs</a> / {namespace}</p>
      <div className="page-head">
        <h1 title={name}>{shortJobName(name, data?.parentJobName)}</h1>
        <StateBadge state={data?.latestRun?.state} />
        <a className="button" href={hrefs.lineage(jobNodeId(namespace, name))}>Lineage graph</a>
      </div>
      <p className="full-name">{name}</p>
      {data && (
        <dl className="facts wide">
          <dt>Namespace</dt>
          <dd>{namespace}</dd>
          {data.parentJobName && (
            <>
              <dt>Parent job</dt>
              <dd><a href={hrefs.job(namespace, data.parentJobName)}>{data.parentJobName}</a></dd>
            </>
          )}
          <dt>Source location</dt>
          <dd data-testid="source-location">{location ?? <span className="muted">not reported</span>}</dd>
          <dt>Type</dt>
          <dd>{data.type}</dd>
          {data.description && (
            <>
              <dt>Description</dt>
              <dd>{data.description}</dd>
            </>
          )}
        </dl>
      )}
      {data && (
        <div className="two-columns">
          <DatasetLinks title="Inputs" refs={data.inputs} />
          <DatasetLinks title="Outputs" refs={data.outputs} />
        </div>
      )}
      <ChildJobs namespace={namespace} name={name} />
      <RunHistory runs={runs.data?.runs ?? []} totalCount={runs.data ? runs.data.totalCount : null}
        compared={comparedRuns(compare)}
        onCompare={(pair) => navigate(hrefs.job(namespace, name, pair), true)} />
      <section>
        <h2>Job facets</h2>
        <FacetList facets={data?.facets} />
      </section>
    </div>
  );
}
