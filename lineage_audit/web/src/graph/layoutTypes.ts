// Messages between the page and the layout worker (layout.worker.ts).

export interface LayoutRequest {
  seq: number;
  nodes: { id: string; width: number; height: number }[];
  edges: { from: string; to: string }[];
  /** the big-graph strategies whatever the size (warm-up runs); by default, chosen by size */
  fast?: boolean;
  /** space between layers (default 64): the column level needs room for the field edges' labels */
  layerGap?: number;
}

export interface LayoutResult {
  seq: number;
  /** [node id, x, y] of each node's top-left corner */
  boxes: [string, number, number][];
  /** per edge, in request order: x0, y0, x1, y1, ... from source to target */
  routes: number[][];
  width: number;
  height: number;
  /** time ELK took in the worker */
  elkMs: number;
}
