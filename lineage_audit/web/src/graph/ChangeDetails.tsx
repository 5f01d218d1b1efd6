// The side panel's part of a "changes since" view: whether the selected node was added or removed since the
// moment, the fields a dataset gained, lost or saw retyped, and (from the service's dataset diff) its
// column-lineage edges added, removed or with other transformations.
import { ApiError, paths } from "../api";
import { formatTime } from "../names";
import { ColumnLineageChanges } from "../pages/RunsDiff";
import { usePolled } from "../poll";
import type { LineageDiff } from "../types";
import type { GraphChanges } from "./changes";
import type { GraphNode } from "./model";

const WORDS = { added: "Added since", removed: "Removed since", changed: "Fields changed since" };

export function ChangeDetails({ node, changes }: { node: GraphNode; changes: GraphChanges }) {
  const change = changes.nodes.get(node.id);
  const fields = changes.fields.get(node.id);
  return (
    <section className={`change-details change-${change ?? "none"}`} data-testid="change-details"
      data-change={change ?? ""}>
      <p className="change-summary">
        {change ? `${WORDS[change]} ${formatTime(changes.since)}` : `Unchanged since ${formatTime(changes.since)}`}
      </p>
      {fields && (
        <ul className="diff-list" data-testid="field-changes">
          {fields.added.map((f) => (
            <li key={`+${f.name}`} className="diff-added" data-change="added" data-field={f.name}>
              <span className="diff-sign">+</span> <code>{f.name}</code> <span className="muted">{f.type ?? ""}</span>
            </li>
          ))}
          {fields.removed.map((f) => (
            <li key={`-${f.name}`} className="diff-removed" data-change="removed" data-field={f.name}>
              <span className="diff-sign">−</span> <code>{f.name}</code> <span className="muted">{f.type ?? ""}</span>
            </li>
          ))}
          {fields.retyped.map((f) => (
            <li key={`~${f.name}`} className="diff-type" data-change="retyped" data-field={f.name}>
              <span className="diff-sign">~</span> <code>{f.name}</code>{" "}
              <span className="muted">{f.fromType} → {f.toType}</span>
            </li>
          ))}
        </ul>
      )}
      {node.kind === "DATASET" && change !== "removed" && <ColumnLineageSince node={node} since={changes.since} />}
    </section>
  );
}

function ColumnLineageSince({ node, since }: { node: GraphNode; since: string }) {
  const diff = usePolled<LineageDiff>(paths.datasetDiff(node.namespace, node.name, since));
  if (diff.error && !diff.data) {
    if (diff.error instanceof ApiError && diff.error.status === 404) return null;
    return <p className="muted small">Column lineage changes unavailable: {diff.error.message}</p>;
  }
  const own = diff.data?.datasets.find((d) => d.namespace === node.namespace && d.name === node.name);
  return own ? <ColumnLineageChanges lineage={own.columnLineage} /> : null;
}
