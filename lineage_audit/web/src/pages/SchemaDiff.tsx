// The schema difference between two versions of a dataset: fields added, removed, or whose type changed.
import { useState } from "react";
import { formatTime } from "../names";
import type { DatasetVersion, Field } from "../types";

export interface FieldChange {
  field: string;
  change: "added" | "removed" | "type";
  before: string | null;
  after: string | null;
}

/** What changed from `older` to `newer`, in the newer schema's order, removed fields last. */
export function schemaChanges(older: Field[], newer: Field[]): FieldChange[] {
  const before = new Map(older.map((f) => [f.name, f.type ?? ""]));
  const after = new Map(newer.map((f) => [f.name, f.type ?? ""]));
  const changes: FieldChange[] = [];
  for (const [field, type] of after) {
    if (!before.has(field)) changes.push({ field, change: "added", before: null, after: type });
    else if (before.get(field) !== type) changes.push({ field, change: "type", before: before.get(field)!, after: type });
  }
  for (const [field, type] of before) {
    if (!after.has(field)) changes.push({ field, change: "removed", before: type, after: null });
  }
  return changes;
}

function VersionPicker({ label, versions, value, onChange, testId }: {
  label: string; versions: DatasetVersion[]; value: string; onChange: (v: string) => void; testId: string;
}) {
  return (
    <label>
      {label}{" "}
      <select data-testid={testId} value={value} onChange={(e) => onChange(e.target.value)}>
        {versions.map((v) => (
          <option key={v.version} value={v.version}>
            {`${v.version.slice(0, 8)} · ${formatTime(v.createdAt)}`}
          </option>
        ))}
      </select>
    </label>
  );
}

const SIGN = { added: "+", removed: "−", type: "~" };

export function SchemaDiff({ versions }: { versions: DatasetVersion[] }) {
  // versions come newest first: compare the previous one with the newest unless the user picks others
  const [picked, setPicked] = useState<{ from?: string; to?: string }>({});
  const from = picked.from ?? versions[1]?.version ?? versions[0]?.version ?? "";
  const to = picked.to ?? versions[0]?.version ?? "";
  const older = versions.find((v) => v.version === from);
  const newer = versions.find((v) => v.version === to);
  const changes = older && newer ? schemaChanges(older.fields, newer.fields) : [];
  return (
    <div className="schema-diff" data-testid="schema-diff" data-changes={changes.length}>
      <h3>Schema difference</h3>
      {versions.length < 2 && <p className="muted">Only one version so far: nothing to compare yet.</p>}
      {versions.length >= 2 && (
        <>
          <div className="diff-pickers">
            <VersionPicker label="From" versions={versions} value={from} testId="diff-from"
              onChange={(v) => setPicked({ from: v, to })} />
            <VersionPicker label="to" versions={versions} value={to} testId="diff-to"
              onChange={(v) => setPicked({ from, to: v })} />
          </div>
          {changes.length ? (
            <ul className="diff-list">
              {changes.map((c) => (
                <li key={c.field} className={`diff-${c.change}`} data-change={c.change}>
                  <span className="diff-sign">{SIGN[c.change]}</span> <code>{c.field}</code>{" "}
                  <span className="muted">
                    {c.change === "added" && c.after}
                    {c.change === "removed" && c.before}
                    {c.change === "type" && `${c.before} → ${c.after}`}
                  </span>
                </li>
              ))}
            </ul>
          ) : <p className="muted">Same schema in both versions.</p>}
        </>
      )}
    </div>
  );
}
