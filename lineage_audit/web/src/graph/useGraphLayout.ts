// When the graph is laid out: only when its nodes, edges or (column level) the number of field rows change. A
// click, a selection or a poll that only changed run states keeps the layout as it is. Field rows are handed
// out with the layout that has room for them: until the next layout is placed, the last one is shown as it
// was (rows and all), never new rows on old boxes.
import { useEffect, useMemo, useRef, useState } from "react";
import type { PlacedLayout } from "./GraphCanvas";
import { layoutGraph } from "./layout";
import type { GraphModel } from "./model";

let layoutsSincePageOpened = 0;

export interface GraphLayoutState {
  placed: PlacedLayout | null;
  /** the field rows of each dataset node that `placed` has room for (null: table level) */
  fieldNames: Map<string, string[]> | null;
  layoutCount: number;
  error: string | null;
  /** the graph asked for is not on screen yet (its rows loading, or its layout running): `placed` is older */
  pending: boolean;
}

interface Placed {
  placed: PlacedLayout | null;
  key: string; // the layout key of `placed`
  fieldNames: Map<string, string[]> | null;
  layoutCount: number;
  error: string | null;
}

/**
 * @param fieldNames the rows of each dataset node when the column level is on (null: off, or not loaded yet
 *   while `waiting`)
 * @param fitKey a new value fits the view once the next layout is placed
 */
export function useGraphLayout(model: GraphModel | null, fieldNames: Map<string, string[]> | null,
  waiting: boolean, fitKey: string): GraphLayoutState {
  const [state, setState] = useState<Placed>({
    placed: null, key: "", fieldNames: null, layoutCount: layoutsSincePageOpened, error: null,
  });
  const counts = useMemo(
    () => (fieldNames ? new Map([...fieldNames].map(([id, names]) => [id, names.length])) : null),
    [fieldNames],
  );
  // the layout the page asks for: nodes and edges, and the number of rows of each dataset
  const key = useMemo(() => {
    if (!model || waiting) return null;
    return `${model.structureKey}\n#${counts ? [...counts].map(([id, n]) => `${id}=${n}`).join(";") : "-"}`;
  }, [model, counts, waiting]);
  const askedKey = useRef(""); // of the layout asked last
  const latestRows = useRef<Map<string, string[]> | null>(null); // the rows asked last
  const latest = useRef(0);

  useEffect(() => {
    if (!model || key === null) return;
    latestRows.current = fieldNames;
    if (key === askedKey.current) {
      // as many rows as before (a renamed field, a re-read): they fit the placed boxes, shown at once
      setState((old) => (old.key !== key || old.fieldNames === fieldNames ? old : { ...old, fieldNames }));
      return;
    }
    askedKey.current = key;
    const seq = ++latest.current;
    const startedAt = performance.now();
    layoutGraph(model, counts).then(
      (layout) => {
        if (seq !== latest.current) return; // a newer graph is being laid out
        layoutsSincePageOpened += 1;
        setState({
          placed: { layout, startedAt, fitKey }, key, fieldNames: latestRows.current,
          layoutCount: layoutsSincePageOpened, error: null,
        });
      },
      (error: unknown) => {
        if (seq !== latest.current) return;
        askedKey.current = "";
        setState((old) => ({ ...old, error: `layout failed: ${String(error)}` }));
      },
    );
  }, [key, fieldNames, fitKey]); // the model and counts matter only through the key

  return useMemo(() => ({
    placed: state.placed, fieldNames: state.fieldNames, layoutCount: state.layoutCount, error: state.error,
    pending: state.error === null && (key === null ? waiting : key !== state.key),
  }), [state, key, waiting]);
}
