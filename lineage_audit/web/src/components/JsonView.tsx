// JSON (facets) as nested collapsible <details>: objects and arrays fold, values show as text.

function summary(value: unknown): string {
  if (Array.isArray(value)) return `[${value.length}]`;
  if (value && typeof value === "object") return `{${Object.keys(value).length}}`;
  return "";
}

function Value({ value }: { value: unknown }) {
  if (value === null) return <span className="json-null">null</span>;
  if (typeof value === "string") return <span className="json-string">"{value}"</span>;
  if (typeof value === "number" || typeof value === "boolean") {
    return <span className="json-literal">{String(value)}</span>;
  }
  return <Tree value={value} />;
}

function Tree({ value }: { value: unknown }) {
  // object keys quoted as in JSON; array items by index
  const entries = Array.isArray(value)
    ? value.map((v, i) => [String(i), v] as const)
    : Object.entries(value as Record<string, unknown>).map(([k, v]) => [`"${k}"`, v] as const);
  return (
    <ul className="json-tree">
      {entries.map(([key, child]) => (
        <li key={key}>
          {child && typeof child === "object" ? (
            <details>
              <summary>
                <span className="json-key">{key}</span> <span className="muted">{summary(child)}</span>
              </summary>
              <Value value={child} />
            </details>
          ) : (
            <>
              <span className="json-key">{key}</span>: <Value value={child} />
            </>
          )}
        </li>
      ))}
    </ul>
  );
}

/** One facet, folded by default: `<details data-testid="facet">`. */
export function FacetView({ name, value, open = false }: { name: string; value: unknown; open?: boolean }) {
  return (
    <details className="facet" data-testid="facet" open={open}>
      <summary>
        <span className="facet-name">{name}</span> <span className="muted">{summary(value)}</span>
      </summary>
      <Value value={value} />
    </details>
  );
}

export function FacetList({ facets, open = false }: { facets: Record<string, unknown> | undefined; open?: boolean }) {
  const names = Object.keys(facets ?? {});
  if (!names.length) return <p className="muted">No facets.</p>;
  return (
    <div className="facet-list">
      {names.map((name) => <FacetView key={name} name={name} value={facets![name]} open={open} />)}
    </div>
  );
}
