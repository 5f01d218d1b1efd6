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
  /** the declared classes, for the filter's selector (null until read) */
  classes: { name: string; description: string }[] | null;
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

/** The "sensitive data" filter: on/off, and one class or every class (the classes the service declares). */
export function SensitiveControl({ on, cls, classes, onChange }: {
  on: boolean; cls: string | null; classes: { name: string; description: string }[] | null;
  onChange: (change: { sensitive: boolean; cls: string | null }) => void;
}) {
  return (
    <span className="sensitive-control">
      <label title="Highlight the columns carrying a class (personal data) in the clear, and the datasets holding them; masked ones stand apart, the rest is dimmed">
        <input type="checkbox" data-testid="sensitive-toggle" checked={on}
          onChange={(e) => onChange({ sensitive: e.target.checked, cls: e.target.checked ? cls : null })} />
        Sensitive data
      </label>
      {on && (
        <select data-testid="sensitive-class" aria-label="Class" value={cls ?? ""}
          onChange={(e) => onChange({ sensitive: true, cls: e.target.value || null })}>
          <option value="">every class</option>
          {cls && !classes?.some((c) => c.name === cls) && <option value={cls}>{cls}</option>}
          {(classes ?? []).map((c) => <option key={c.name} value={c.name} title={c.description}>{c.name}</option>)}
        </select>
      )}
    </span>
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

export function GraphToolbar({ options, setOptions, model, onFind, status, classes }: ToolbarProps) {
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
        {/* the filter lights columns: turning it on turns the column level on too */}
        <SensitiveControl on={options.sensitive} cls={options.cls} classes={classes}
          onChange={(change) => setOptions(change.sensitive ? { ...change, columns: true } : change)} />
        <FindInGraph model={model} onFind={onFind} />
      </div>
    </div>
  );
}
