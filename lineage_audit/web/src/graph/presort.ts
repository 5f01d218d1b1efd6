// A quick first guess at layers and order for big graphs, which ELK then takes as given (its INTERACTIVE
// layering and crossing minimisation) before placing nodes and routing edges. ELK's own layering (network
// simplex) and layer sweeps cost most of its time on a 1,000-node graph; these passes cost milliseconds.

interface Edge {
  from: string;
  to: string;
}

/** Edges that close a cycle (found by depth-first search), to be ignored when layering. */
function backEdges(ids: string[], out: Map<string, string[]>): Set<string> {
  const state = new Map<string, 1 | 2>(); // 1: on the stack, 2: done
  const back = new Set<string>();
  for (const root of ids) {
    if (state.has(root)) continue;
    const stack: [string, number][] = [[root, 0]];
    state.set(root, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const next = (out.get(top[0]) ?? [])[top[1]++];
      if (next === undefined) {
        state.set(top[0], 2);
        stack.pop();
      } else if (state.get(next) === 1) {
        back.add(`${top[0]}\n${next}`);
      } else if (!state.has(next)) {
        state.set(next, 1);
        stack.push([next, 0]);
      }
    }
  }
  return back;
}

/**
 * Layer of each node: the longest path to it, then every node pulled right to just before its first
 * reader, so that a source read late does not stretch an edge across the whole graph.
 */
export function layers(ids: string[], edges: Edge[]): Map<string, number> {
  const out = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const e of edges) out.get(e.from)?.push(e.to);
  const back = backEdges(ids, out);
  const forward = edges.filter((e) => out.has(e.to) && !back.has(`${e.from}\n${e.to}`));
  const next = new Map<string, string[]>(ids.map((id) => [id, []]));
  const waiting = new Map<string, number>(ids.map((id) => [id, 0]));
  for (const e of forward) {
    next.get(e.from)!.push(e.to);
    waiting.set(e.to, waiting.get(e.to)! + 1);
  }
  const layer = new Map<string, number>();
  const order = ids.filter((id) => waiting.get(id) === 0);
  order.forEach((id) => layer.set(id, 0));
  for (let i = 0; i < order.length; i++) {
    for (const target of next.get(order[i])!) {
      layer.set(target, Math.max(layer.get(target) ?? 0, layer.get(order[i])! + 1));
      waiting.set(target, waiting.get(target)! - 1);
      if (waiting.get(target) === 0) order.push(target);
    }
  }
  for (let i = order.length - 1; i >= 0; i--) {
    const targets = next.get(order[i])!;
    if (targets.length) layer.set(order[i], Math.min(...targets.map((t) => layer.get(t)!)) - 1);
  }
  return layer;
}

/** Order within layers: a few barycenter sweeps, down then up, each node by the mean place of its neighbours. */
export function orderInLayers(layer: Map<string, number>, edges: Edge[], sweeps = 4): Map<string, number> {
  const byLayer: string[][] = [];
  for (const [id, l] of layer) (byLayer[l] ??= []).push(id);
  const place = new Map<string, number>();
  byLayer.forEach((ids) => ids?.forEach((id, i) => place.set(id, i)));
  const before = new Map<string, string[]>();
  const after = new Map<string, string[]>();
  for (const { from, to } of edges) {
    if (!layer.has(from) || !layer.has(to)) continue;
    (before.get(to) ?? before.set(to, []).get(to)!).push(from);
    (after.get(from) ?? after.set(from, []).get(from)!).push(to);
  }
  for (let sweep = 0; sweep < sweeps; sweep++) {
    const down = sweep % 2 === 0;
    const neighbours = down ? before : after;
    for (let k = 0; k < byLayer.length; k++) {
      const ids = byLayer[down ? k : byLayer.length - 1 - k];
      if (!ids) continue;
      const key = new Map(ids.map((id) => {
        const near = neighbours.get(id);
        return [id, near?.length ? near.reduce((sum, n) => sum + place.get(n)!, 0) / near.length : place.get(id)!];
      }));
      ids.sort((a, b) => key.get(a)! - key.get(b)!);
      ids.forEach((id, i) => place.set(id, i));
    }
  }
  return place;
}
