// The graph page's time control: which moment the graph shows. Its stops are the run events of the jobs in the
// graph (GET /audit/moments) and "now"; a date and time input reaches any moment. At a past moment the graph is
// as of it, or (changes since) the graph now with what changed since it. A banner says so whenever the graph is
// not simply the current state.
import { useEffect, useState, type FormEvent } from "react";
import { paths } from "../api";
import { formatTime, shortJobName } from "../names";
import { usePolled } from "../poll";
import type { Moment } from "../types";
import type { TimeView } from "./lineageInTime";

const ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || "local time";

/** A moment as the page shows it: local date and time, and the zone they are in. */
export function formatMoment(iso: string): string {
  return `${formatTime(iso)} ${ZONE}`;
}

const millis = (iso: string) => new Date(iso).getTime();

/** The stop a moment sits at: the one at that very time, else the last one before it (-1: before them all). */
function stopIndex(moments: Moment[], moment: string | null): number {
  if (moment === null) return moments.length; // now
  const at = millis(moment);
  let index = -1;
  moments.forEach((m, i) => {
    if (millis(m.time) <= at) index = i;
  });
  return index;
}

function describeStop(stop: Moment): string {
  const job = shortJobName(stop.job.name, stop.job.name.split(".")[0]);
  return `${formatMoment(stop.time)} · ${stop.eventType} · ${job} · run ${stop.runId.slice(0, 8)}`;
}

/** `YYYY-MM-DDTHH:MM:SS` in local time, as a datetime-local input holds it. */
function localInputValue(iso: string | null): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${
    pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

function MomentInput({ moment, onPick }: { moment: string | null; onPick: (iso: string) => void }) {
  const [text, setText] = useState(localInputValue(moment));
  useEffect(() => setText(localInputValue(moment)), [moment]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const date = new Date(text); // a datetime-local value is read in local time
    if (!Number.isNaN(date.getTime())) onPick(date.toISOString());
  };
  return (
    <form className="asof-input" onSubmit={submit}>
      <input type="datetime-local" step={1} aria-label="Moment (date and time)" value={text}
        onChange={(e) => setText(e.target.value)} />
      <button type="submit" disabled={!text}>Go</button>
    </form>
  );
}

interface BarProps {
  node: string;
  depth: number;
  time: TimeView;
  setTime: (time: TimeView) => void;
}

export function AsOfBar({ node, depth, time, setTime }: BarProps) {
  const answer = usePolled<{ moments: Moment[] }>(paths.moments(node, depth));
  const moments = answer.data?.moments ?? [];
  const moment = time.asOf ?? time.since;
  const index = stopIndex(moments, moment);
  const exact = index >= 0 && index < moments.length && millis(moments[index].time) === millis(moment ?? "");
  const go = (at: string | null) => setTime(time.since && at ? { asOf: null, since: at } : { asOf: at, since: null });
  const goToStop = (i: number) => go(i >= moments.length ? null : moments[Math.max(0, i)].time);
  const earlier = moment === null ? moments.length - 1 : exact ? index - 1 : index;
  let shown = "now: the current state";
  if (moment && exact) shown = describeStop(moments[index]);
  else if (moment) shown = `${formatMoment(moment)} (${index < 0 ? "before the first run event" : "between run events"})`;
  return (
    <div className="asof-bar" role="group" aria-label="Time">
      <span className="asof-title">As of</span>
      <button type="button" className="asof-step" aria-label="Earlier moment" title="The run event before"
        disabled={earlier < 0} onClick={() => goToStop(earlier)}>‹</button>
      <input type="range" className="asof-slider" aria-label="As of" min={0} max={moments.length}
        value={Math.max(0, index)} aria-valuetext={shown} onChange={(e) => goToStop(Number(e.target.value))} />
      <button type="button" className="asof-step" aria-label="Later moment" title="The run event after"
        disabled={moment === null} onClick={() => goToStop(index + 1)}>›</button>
      <span className="asof-stop" data-testid="asof-stop" title={moment ? `${shown} (${moment})` : undefined}>
        {shown}
      </span>
      {answer.error && <span className="asof-error">run events unavailable: {answer.error.message}</span>}
      <MomentInput moment={moment} onPick={go} />
      <label className="asof-since" title="The graph now, with what was added, removed or changed since the moment">
        <input type="checkbox" checked={time.since !== null} disabled={moment === null}
          onChange={(e) => setTime(e.target.checked ? { asOf: null, since: moment } : { asOf: moment, since: null })} />
        Show changes since this moment
      </label>
    </div>
  );
}

/** Over the graph whenever it is not simply the current state: which moment it shows, and the way back. */
export function TimeBanner({ time, onNow }: { time: TimeView; onNow: () => void }) {
  if (time.asOf) {
    return (
      <div className="time-banner past" role="status" data-testid="time-banner">
        <strong>Lineage as of {formatMoment(time.asOf)}: not the current state</strong>
        <button type="button" onClick={onNow}>Back to now</button>
      </div>
    );
  }
  if (time.since) {
    return (
      <div className="time-banner changes" role="status" data-testid="time-banner">
        <strong>Changes since {formatMoment(time.since)}</strong>
        <span>green: added · red, dashed: removed · amber: fields changed (select a dataset for the list)</span>
        <button type="button" onClick={onNow}>Leave changes view</button>
      </div>
    );
  }
  return null;
}
