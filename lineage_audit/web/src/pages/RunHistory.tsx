// A job's run history (newest first, with the error of failed runs), where two runs can be picked and compared:
// "Compare" shows what changed from the older to the newer (GET /audit/diff/runs). The comparison is in the page's
// address (`?compare=<from>,<to>`), so it can be shared.
import { useState } from "react";
import { FacetView } from "../components/JsonView";
import { StateBadge } from "../components/StateBadge";
import { errorOfRun, stackTraceOfRun } from "../components/runs";
import { formatDuration, formatTime } from "../names";
import type { Run } from "../types";
import { RunsDiffView } from "./RunsDiff";

function RunRow({ run, picked, onPick }: { run: Run; picked: boolean; onPick: (on: boolean) => void }) {
  const error = errorOfRun(run);
  const trace = stackTraceOfRun(run);
  const facetCount = Object.keys(run.facets ?? {}).length;
  return (
    <tr data-testid="run-row" data-state={run.state} data-run-id={run.id} className={picked ? "picked" : ""}>
      <td>
        <input type="checkbox" checked={picked} onChange={(e) => onPick(e.target.checked)}
          aria-label={`Pick run ${run.id.slice(0, 8)} to compare`} />
      </td>
      <td><StateBadge state={run.state} /></td>
      <td>{formatTime(run.startedAt ?? run.createdAt)}</td>
      <td>{formatTime(run.endedAt)}</td>
      <td>{formatDuration(run.durationMs)}</td>
      <td className="run-detail">
        <code className="muted" title={run.id}>{run.id.slice(0, 8)}</code>
        {error && <div className="run-error" data-testid="run-error">{error}</div>}
        {trace && (
          <details className="stack-trace">
            <summary>stack trace</summary>
            <pre>{trace}</pre>
          </details>
        )}
        {facetCount > 0 && (
          <div className="run-facets">
            {Object.entries(run.facets ?? {}).map(([facetName, value]) => (
              <FacetView key={facetName} name={facetName} value={value} />
            ))}
          </div>
        )}
      </td>
    </tr>
  );
}

const startOf = (run: Run) => new Date(run.startedAt ?? run.createdAt).getTime();

/** The two picked runs, older first. */
function inOrder(runs: Run[], ids: string[]): [Run, Run] | null {
  const picked = runs.filter((r) => ids.includes(r.id)).sort((a, b) => startOf(a) - startOf(b));
  return picked.length === 2 ? [picked[0], picked[1]] : null;
}

interface HistoryProps {
  runs: Run[];
  totalCount: number | null;
  compared: [string, string] | null;
  onCompare: (pair: [string, string] | null) => void;
}

export function RunHistory({ runs, totalCount, compared, onCompare }: HistoryProps) {
  const [picked, setPicked] = useState<string[]>(compared ?? []);
  const pair = inOrder(runs, picked);
  // a third pick replaces the older of the two before it
  const pick = (id: string, on: boolean) =>
    setPicked((old) => (on ? [...old.filter((p) => p !== id), id].slice(-2) : old.filter((p) => p !== id)));
  return (
    <section>
      <h2>Run history <span className="muted small">{totalCount !== null ? `${totalCount} runs` : ""}</span></h2>
      <div className="compare-bar">
        <span className="muted">
          {picked.length === 2 ? "Two runs picked." : `Pick two runs to compare (${picked.length} of 2).`}
        </span>
        <button type="button" className="button" disabled={!pair}
          onClick={() => pair && onCompare([pair[0].id, pair[1].id])}>Compare</button>
        {compared && <button type="button" className="button" onClick={() => onCompare(null)}>Close comparison</button>}
      </div>
      {compared && <RunsDiffView from={compared[0]} to={compared[1]} />}
      <table className="table" data-testid="run-history">
        <thead>
          <tr><th><span className="sr-only">Pick</span></th><th>State</th><th>Started</th><th>Ended</th><th>Duration</th>
            <th>Run</th></tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <RunRow key={run.id} run={run} picked={picked.includes(run.id)} onPick={(on) => pick(run.id, on)} />
          ))}
        </tbody>
      </table>
    </section>
  );
}
