// The graph page's controls: depth, focused or full graph, column level, and "find in graph" (which the
// pipeline page shares).
import { useState } from "react";
import type { GraphModel } from "../graph/model";
import { hrefs } from "../router";
import type { GraphOptions } from "./LineagePage";

interface ToolbarProps {
  options: GraphOptions;
  setOptions: (change: Partial<GraphOptions>) => void;
  model: GraphModel | null;
  onFind: (nodeId: string) => void;
  status: string;
}

function rootTitle(model: GraphModel | null, node: string) {
  const root = model?.byId.get(node);
  if (!root) return <span className="root-name">{node}</span>;
  const href = root.kind === "JOB" ? hrefs.job(root.namespace, root.name) : hrefs.dataset(root.namespace, root.name);
  return (
    <a className="root-name" href={href} title={`${root.namespace}:${root.name}`}>
      <span className={`kind-badge kind-${root.kind.toLowerCase()}`}>{root.kind === "JOB" ? "Job" : "Dataset"}</span>
      {root.label}
    </a>
  );
}

/** "Find in graph": a node by a part of its name, centred and selected on Enter. */
export function FindInGraph({ model, onFind }: { model: GraphModel | null; onFind: (nodeId: string) => void }) {
  const [find, setFind] = useState("");
  const matches = find && model
    ? model.nodes.filter((n) => n.name.toLowerCase().includes(find.toLowerCase())).slice(0, 50)
    : [];
  return (
    <form className="find" onSubmit={(e) => {
      e.preventDefault();
      if (matches[0]) onFind(matches[0].id);
    }}>
      <input type="search" placeholder="Find in graph" value={find} list="graph-node-names"
        aria-label="Find a node in the graph" onChange={(e) => setFind(e.target.value)} />
      <datalist id="graph-node-names">
        {matches.map((n) => <option key={n.id} value={n.name} />)}
      </datalist>
      {find && <span className="find-count">{matches.length ? `${matches.length} found` : "none"}</span>}
    </form>
  );
}

export function GraphToolbar({ options, setOptions, model, onFind, status }: ToolbarProps) {
  return (
    <div className="graph-toolbar">
      <div className="toolbar-title">
        {rootTitle(model, options.node)}
        <span className="toolbar-status">{status}</span>
      </div>
      <div className="toolbar-controls">
        <label title="Job steps from the node">
          Depth
          <input type="number" data-testid="depth" min={0} max={50} value={options.depth}
            onChange={(e) => {
              const depth = Number.parseInt(e.target.value, 10);
              if (Number.isFinite(depth) && depth >= 0) setOptions({ depth });
            }} />
        </label>
        <label title="Off: only what feeds the node and what it feeds. On: everything within the depth.">
          <input type="checkbox" data-testid="full-toggle" checked={options.full}
            onChange={(e) => setOptions({ full: e.target.checked })} />
          Full graph
        </label>
        <label title="Datasets list their fields; click a field to trace it">
          <input type="checkbox" data-testid="column-toggle" checked={options.columns}
            onChange={(e) => setOptions({ columns: e.target.checked })} />
          Column level
        </label>
        <FindInGraph model={model} onFind={onFind} />
      </div>
    </div>
  );
}
