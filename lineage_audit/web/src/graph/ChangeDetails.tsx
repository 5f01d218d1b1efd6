// The side panel's part of a "changes since" view: whether the selected node was added or removed since the
// moment, and the fields a dataset gained, lost or saw retyped.
import { formatTime } from "../names";
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
    </section>
  );
}
