// Live pages. One cheap change marker for the whole app, the number of lineage events the service holds
// (GET /events/lineage?limit=0: `{"events":[],"totalCount":N}`; the service keeps every distinct event and
// never updates or deletes one, so the count moves exactly when something new arrived), is read every few
// seconds (3 s, or `?poll=<ms>` before the hash); a page re-reads its own data only when the marker changed.
// Everything the pages show comes from events but time (per-hour charts) and the few writes that are not
// events (namespaces, tags): for those, the pages also re-read every SAFETY_POLLS intervals. A re-read changes
// state only when an answer's text changed, so an idle page does not re-render, let alone relayout.
import { useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import { fetchText, paths } from "./api";

const DEFAULT_POLL_MS = 3000;
const MIN_POLL_MS = 100;
const SAFETY_POLLS = 20;

export function pollInterval(): number {
  const asked = Number(new URLSearchParams(window.location.search).get("poll"));
  return Number.isFinite(asked) && asked > 0 ? Math.max(MIN_POLL_MS, asked) : DEFAULT_POLL_MS;
}

// -- the change marker ----------------------------------------------------------------------------------

interface Marker {
  ready: boolean; // read once (or failed once): pages wait for it, so that their first read is its version's
  version: number; // +1 whenever the marker changed
  refresh: number; // +1 every SAFETY_POLLS reads
  error: Error | undefined; // of the last read, if it failed
}

let marker: Marker = { ready: false, version: 0, refresh: 0, error: undefined };
let markerText: string | null = null;
let reads = 0;
let looping = false;
const listeners = new Set<() => void>();

function setMarker(next: Marker): void {
  marker = next;
  listeners.forEach((listener) => listener());
}

async function readMarker(first = false): Promise<void> {
  if (!first && !listeners.size) {
    looping = false; // no page listens: the next subscriber starts the loop again
    return;
  }
  try {
    const text = await fetchText(paths.events(0));
    const changed = markerText !== null && text !== markerText;
    markerText = text;
    reads += 1;
    const refresh = reads % SAFETY_POLLS === 0;
    if (changed || refresh || !marker.ready || marker.error) {
      setMarker({
        ready: true, error: undefined,
        version: marker.version + (changed ? 1 : 0), refresh: marker.refresh + (refresh ? 1 : 0),
      });
    }
  } catch (error) {
    setMarker({ ...marker, ready: true, error: error as Error });
  }
  window.setTimeout(() => void readMarker(), pollInterval());
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (!looping) {
    looping = true;
    void readMarker();
  }
  // stopping is left to the loop: a page change unsubscribes and subscribes again in one go
  return () => listeners.delete(listener);
}

/** The first read of the marker, as the app starts: pages wait for it before their own first reads. */
export function startChangeMarker(): void {
  if (looping) return;
  looping = true;
  void readMarker(true);
}

/** The change marker: its `version` changes whenever new lineage events arrived. */
export function useChangeMarker(): Marker {
  return useSyncExternalStore(subscribe, () => marker);
}

// -- polled reads -----------------------------------------------------------------------------------------

export interface Polled<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  /** the marker version the data is known to be current with (-1: none yet) */
  version: number;
}

interface PolledState<T> extends Polled<T> {
  key: string | null; // the paths the data answers: never show one page's data under another's paths
}

function initial<T>(key: string | null): PolledState<T> {
  return { key, data: undefined, error: undefined, loading: key !== null, version: -1 };
}

/** Several paths read together (one state change when any answer changed); null: nothing to fetch. */
export function usePolledAll<T>(pathList: string[] | null): Polled<T[]> {
  const key = pathList ? JSON.stringify(pathList) : null;
  const changes = useChangeMarker();
  const [state, setState] = useState<PolledState<T[]>>(() => initial(key));
  const [retry, setRetry] = useState(0);
  const lastText = useRef<string | null>(null);
  const readFor = useRef<{ key: string | null; tag: string }>({ key, tag: "" });

  useEffect(() => {
    if (readFor.current.key !== key) {
      readFor.current = { key, tag: "" };
      lastText.current = null;
      setState(initial(key));
    }
    if (key === null || !changes.ready) return;
    const version = changes.version;
    const tag = `${version}/${changes.refresh}/${retry}`;
    if (readFor.current.tag === tag) return;
    readFor.current.tag = tag;
    const list = JSON.parse(key) as string[];
    const controller = new AbortController();
    let timer: number | undefined;
    let finished = false;
    const read = async () => {
      try {
        const texts = await Promise.all(list.map((path) => fetchText(path, controller.signal)));
        const joined = texts.join("\u0000");
        if (joined !== lastText.current) {
          lastText.current = joined;
          const data = texts.map((text) => JSON.parse(text) as T);
          setState({ key, data, error: undefined, loading: false, version });
        } else {
          setState((old) => (old.error || old.version !== version ? { ...old, error: undefined, version } : old));
        }
      } catch (error) {
        if (controller.signal.aborted) return;
        // keep what was shown: a failed read only adds the error, and is tried again
        setState((old) => ({ ...old, error: error as Error, loading: false }));
        timer = window.setTimeout(() => setRetry((n) => n + 1), pollInterval());
      }
      finished = true;
    };
    void read();
    return () => {
      controller.abort();
      window.clearTimeout(timer);
      if (!finished && readFor.current.tag === tag) readFor.current.tag = ""; // cut short: read again
    };
  }, [key, changes.ready, changes.version, changes.refresh, retry]);

  return useMemo(() => {
    const shown = state.key === key ? state : initial<T[]>(key);
    // a failed marker read pauses every page's updates: say so where the page shows errors
    return changes.error && !shown.error ? { ...shown, error: changes.error } : shown;
  }, [state, key, changes.error]);
}

/** The parsed answer of `path` (null: nothing to fetch), read again whenever the change marker changed. */
export function usePolled<T>(path: string | null): Polled<T> {
  const list = useMemo(() => (path === null ? null : [path]), [path]);
  const all = usePolledAll<T>(list);
  return useMemo(() => ({ ...all, data: all.data?.[0] }), [all]);
}
