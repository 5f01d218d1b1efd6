// What the colours and shapes of the graph mean.
import type { SensitiveView } from "./sensitive";

const STATES = [
  ["completed", "Completed"],
  ["failed", "Failed"],
  ["running", "Running"],
  ["aborted", "Aborted"],
  ["none", "No run"],
] as const;

/** The class badges' styles; with the filter on, how many columns in view hold the class each way. */
function ClassLegend({ sensitive }: { sensitive: SensitiveView | null }) {
  const counts = sensitive?.counts;
  const count = (n: number | undefined) => (n === undefined ? "" : ` (${n})`);
  return (
    <div className="legend-row" data-testid="legend-classes" data-clear={counts?.clear ?? ""}
      data-masked={counts?.masked ?? ""} data-influenced={counts?.influenced ?? ""}>
      {sensitive && <strong>{sensitive.cls ?? "Every class"}:</strong>}
      <span className="legend-item"><span className="legend-badge exposure-clear">PII</span>
        In the clear{count(counts?.clear)}</span>
      <span className="legend-item"><span className="legend-badge exposure-masked">PII</span>
        Masked{count(counts?.masked)}</span>
      <span className="legend-item"><span className="legend-badge exposure-influenced">PII</span>
        Influenced by (rows filtered, joined or grouped on it){count(counts?.influenced)}</span>
    </div>
  );
}

export function Legend({ columns, changes, sensitive = null, badges = false }: {
  columns: boolean; changes: boolean; sensitive?: SensitiveView | null; badges?: boolean;
}) {
  return (
    <div className="legend" aria-label="Legend">
      <div className="legend-row">
        <svg width="22" height="14" aria-hidden="true">
          <rect className="legend-dataset" x="1" y="1" width="20" height="12" rx="2" />
        </svg>
        Dataset
        <svg width="22" height="14" aria-hidden="true">
          <rect className="legend-job" x="1" y="1" width="20" height="12" rx="6" />
        </svg>
        Job, by latest run:
      </div>
      <div className="legend-row">
        {STATES.map(([state, label]) => (
          <span key={state} className="legend-item">
            <span className={`legend-dot state-${state}`} />
            {label}
          </span>
        ))}
      </div>
      {changes && (
        <div className="legend-row" data-testid="legend-changes">
          <span className="legend-item"><span className="legend-change change-added" />Added since</span>
          <span className="legend-item"><span className="legend-change change-removed" />Removed since</span>
          <span className="legend-item"><span className="legend-change change-changed" />Fields changed</span>
        </div>
      )}
      {columns && (
        <div className="legend-row">
          <span className="legend-item"><span className="legend-swatch hl-selected" />Selected field</span>
          <span className="legend-item"><span className="legend-swatch hl-upstream" />Upstream</span>
          <span className="legend-item"><span className="legend-swatch hl-downstream" />Downstream</span>
          <span className="legend-item"><span className="legend-dash" />Masked</span>
        </div>
      )}
      {(sensitive || badges) && <ClassLegend sensitive={sensitive} />}
    </div>
  );
}
