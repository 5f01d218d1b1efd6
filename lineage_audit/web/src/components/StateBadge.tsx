// A run state as a coloured badge (the same colours as the graph's job nodes).

export function StateBadge({ state }: { state: string | null | undefined }) {
  const value = state || "NONE";
  return <span className={`state-badge state-${value.toLowerCase()}`}>{state ? value : "NO RUN"}</span>;
}
