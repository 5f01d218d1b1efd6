// Live pages: each reads its API paths again every few seconds (3 s, or `?poll=<ms>` before the hash) and
// changes state only when an answer's text changed, so an idle page does not re-render, let alone relayout.
import { useEffect, useMemo, useRef, useState } from "react";
import { fetchText } from "./api";

const DEFAULT_POLL_MS = 3000;
const MIN_POLL_MS = 100;

export function pollInterval(): number {
  const asked = Number(new URLSearchParams(window.location.search).get("poll"));
  return Number.isFinite(asked) && asked > 0 ? Math.max(MIN_POLL_MS, asked) : DEFAULT_POLL_MS;
}

export interface Polled<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
}

interface PolledState<T> extends Polled<T> {
  key: string | null; // the paths the data answers: never show one page's data under another's paths
}

/** Several paths read together (one state change when any answer changed); null: nothing to fetch. */
export function usePolledAll<T>(pathList: string[] | null, live = true): Polled<T[]> {
  const key = pathList ? JSON.stringify(pathList) : null;
  const [state, setState] = useState<PolledState<T[]>>({ key, data: undefined, error: undefined, loading: true });
  const lastText = useRef<string | null>(null);

  useEffect(() => {
    lastText.current = null;
    setState({ key, data: undefined, error: undefined, loading: key !== null });
    if (key === null) return;
    const list = JSON.parse(key) as string[];
    const controller = new AbortController();
    let timer: number | undefined;
    const read = async () => {
      try {
        const texts = await Promise.all(list.map((path) => fetchText(path, controller.signal)));
        const joined = texts.join("\u0000");
        if (joined !== lastText.current) {
          lastText.current = joined;
          setState({ key, data: texts.map((text) => JSON.parse(text) as T), error: undefined, loading: false });
        } else {
          setState((old) => (old.error ? { ...old, error: undefined } : old));
        }
      } catch (error) {
        if (controller.signal.aborted) return;
        // keep what was shown: a failed poll only adds the error
        setState((old) => ({ ...old, error: error as Error, loading: false }));
      }
      if (live && !controller.signal.aborted) timer = window.setTimeout(read, pollInterval());
    };
    void read();
    return () => {
      controller.abort();
      window.clearTimeout(timer);
    };
  }, [key, live]);

  return useMemo(
    () => (state.key === key ? state : { data: undefined, error: undefined, loading: key !== null }),
    [state, key],
  );
}

/** The parsed answer of `path` (null: nothing to fetch), read again every poll interval while `live`. */
export function usePolled<T>(path: string | null, live = true): Polled<T> {
  const list = useMemo(() => (path === null ? null : [path]), [path]);
  const all = usePolledAll<T>(list, live);
  return useMemo(() => ({ ...all, data: all.data?.[0] }), [all]);
}
