// When the graph is laid out: only when its nodes, edges or (column level) field rows change. A click, a
// selection or a poll that only changed run states keeps the layout as it is.
import { useEffect, useRef, useState } from "react";
import type { PlacedLayout } from "./GraphCanvas";
import { layoutGraph } from "./layout";
import type { GraphModel } from "./model";

let layoutsSincePageOpened = 0;

export interface GraphLayoutState {
  placed: PlacedLayout | null;
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
  const [state, setState] = useState<GraphLayoutState>({
    placed: null, layoutCount: layoutsSincePageOpened, error: null,
  });
  const laidOutKey = useRef("");
  const latest = useRef(0);

  useEffect(() => {
    if (!model || waiting) return;
    const counts = fieldNames ? new Map([...fieldNames].map(([id, names]) => [id, names.length])) : null;
    const key = `${model.structureKey}\n#${counts ? [...counts].map(([id, n]) => `${id}=${n}`).join(";") : "-"}`;
    if (key === laidOutKey.current) return;
    laidOutKey.current = key;
    const seq = ++latest.current;
    const startedAt = performance.now();
    layoutGraph(model, counts).then(
      (layout) => {
        if (seq !== latest.current) return; // a newer graph is being laid out
        layoutsSincePageOpened += 1;
        setState({ placed: { layout, startedAt, fitKey }, layoutCount: layoutsSincePageOpened, error: null });
      },
      (error: unknown) => {
        if (seq !== latest.current) return;
        laidOutKey.current = "";
        setState((old) => ({ ...old, error: `layout failed: ${String(error)}` }));
      },
    );
  }, [model, fieldNames, waiting, fitKey]);

  return state;
}
