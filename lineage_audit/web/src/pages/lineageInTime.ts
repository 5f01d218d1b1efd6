// The lineage answer the graph page draws, at the moment the page asks for: now, as of a past moment (every
// request carries asOf), or now together with the graph as of a moment (changes since it). A past view is read
// like any other (again when new events arrive: a late event may change the past), but always with its asOf:
// the live refresh never puts the current graph in its place.
import { useMemo } from "react";
import { ApiError, paths } from "../api";
import { unionOfLineage, type GraphChanges } from "../graph/changes";
import { usePolled } from "../poll";
import type { LineageNode } from "../types";

export interface TimeView {
  asOf: string | null; // the graph as of this moment
  since: string | null; // the graph now, with what changed since this moment
}

export interface LineageInTime {
  graph: LineageNode[] | null;
  changes: GraphChanges | null;
  error: Error | undefined;
  loading: boolean;
  version: number;
}

const notFound = (error: Error | undefined) => error instanceof ApiError && error.status === 404;

export function useLineageInTime(node: string, depth: number, time: TimeView): LineageInTime {
  const current = usePolled<{ graph: LineageNode[] }>(node ? paths.lineage(node, depth, time.asOf) : null);
  const then = usePolled<{ graph: LineageNode[] }>(node && time.since ? paths.lineage(node, depth, time.since) : null);
  return useMemo(() => {
    if (!time.since) {
      return { graph: current.data?.graph ?? null, changes: null, error: current.error, loading: current.loading,
        version: current.version };
    }
    // the node did not exist yet at the moment: everything in the graph now was added since
    const thenGraph = then.data?.graph ?? (notFound(then.error) ? [] : null);
    const both = current.data && thenGraph ? unionOfLineage(thenGraph, current.data.graph, time.since) : null;
    const error = current.error ?? (notFound(then.error) ? undefined : then.error);
    return { graph: both?.graph ?? null, changes: both?.changes ?? null, error,
      loading: current.loading || then.loading, version: current.version };
  }, [current, then, time.since]);
}

/** What the page says when the graph could not be read: a past moment before the node existed is no failure. */
export function lineageFailure(error: Error | undefined, time: TimeView): string | null {
  if (!error) return null;
  if (time.asOf && notFound(error)) return "This node did not exist yet at that moment.";
  return `Could not load the graph: ${error.message}`;
}
