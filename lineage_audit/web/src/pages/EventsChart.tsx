// Lineage events per hour as bars (failed and aborted events stacked in red), from /stats/lineage-events.
import type { EventBucket } from "../types";

const WIDTH = 480;
const HEIGHT = 140;
const AXIS = 18;

export function EventsChart({ buckets }: { buckets: EventBucket[] }) {
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const total = buckets.reduce((sum, b) => sum + b.count, 0);
  const failed = buckets.reduce((sum, b) => sum + b.fail + b.abort, 0);
  const slot = WIDTH / Math.max(1, buckets.length);
  return (
    <div className="events-chart" data-testid="events-per-hour" data-total={total}>
      <p>
        <strong>{total}</strong> events in the last 24 hours
        {failed > 0 && <span className="fail-text"> · {failed} failed or aborted</span>}
      </p>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT + AXIS}`} role="img" aria-label="Lineage events per hour">
        <line className="axis" x1={0} x2={WIDTH} y1={HEIGHT} y2={HEIGHT} />
        {buckets.map((b, i) => {
          const height = (b.count / max) * (HEIGHT - 12);
          const bad = ((b.fail + b.abort) / max) * (HEIGHT - 12);
          const hour = new Date(b.startInterval).getHours();
          return (
            <g key={b.startInterval} transform={`translate(${i * slot},0)`}>
              <title>{`${String(hour).padStart(2, "0")}:00 – ${b.count} events (${b.start} start, ${b.complete} ` +
                `complete, ${b.fail} fail, ${b.abort} abort)`}</title>
              <rect className="bar-hit" x={0} y={0} width={slot} height={HEIGHT} />
              <rect className="bar" x={2} y={HEIGHT - height} width={slot - 4} height={height} />
              {bad > 0 && <rect className="bar-fail" x={2} y={HEIGHT - bad} width={slot - 4} height={bad} />}
              {b.count > 0 && (
                <text className="bar-value" x={slot / 2} y={HEIGHT - height - 3} textAnchor="middle">{b.count}</text>
              )}
              {i % 3 === 0 && (
                <text className="tick" x={slot / 2} y={HEIGHT + 13} textAnchor="middle">
                  {`${String(hour).padStart(2, "0")}h`}
                </text>
              )}
            </g>
          );
        })}
      </svg>
    </div>
  );
}
