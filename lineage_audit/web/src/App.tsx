// The frame of every page: header with navigation and the global search, the API key prompt, the page.
import { useEffect, useState, type FormEvent } from "react";
import { onAuthRequired, readApiKey, saveApiKey } from "./api";
import { DatasetDetail } from "./pages/DatasetDetail";
import { JobDetail } from "./pages/JobDetail";
import { LineagePage } from "./pages/LineagePage";
import { DatasetsList, JobsList, SearchPage } from "./pages/Lists";
import { Overview } from "./pages/Overview";
import { PipelinePage } from "./pages/PipelinePage";
import { hrefs, navigate, useRoute, type Route } from "./router";

function GlobalSearch({ initial }: { initial: string }) {
  const [text, setText] = useState(initial);
  useEffect(() => setText(initial), [initial]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (text.trim()) navigate(hrefs.search(text.trim()));
  };
  return (
    <form className="global-search" role="search" onSubmit={submit}>
      <input data-testid="global-search" type="search" placeholder="Search jobs and datasets"
        aria-label="Search jobs and datasets" value={text} onChange={(e) => setText(e.target.value)} />
    </form>
  );
}

/** Shown when the service answers 401: the read API key, kept for this browser tab only. */
function ApiKeyPrompt({ onDone }: { onDone: () => void }) {
  const [key, setKey] = useState(readApiKey() ?? "");
  return (
    <div className="auth-banner" role="alert" data-testid="auth-required">
      <form onSubmit={(e) => {
        e.preventDefault();
        saveApiKey(key.trim());
        onDone();
      }}>
        <strong>This lineage service requires a read API key.</strong>{" "}
        <input type="password" placeholder="read API key" aria-label="Read API key" value={key}
          onChange={(e) => setKey(e.target.value)} autoComplete="off" />
        <button type="submit">Use key</button>
        <span className="muted small"> Kept in this tab only (sessionStorage), sent as Authorization: Bearer.</span>
      </form>
    </div>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case "":
      return <Overview />;
    case "jobs":
      return <JobsList />;
    case "datasets":
      return <DatasetsList />;
    case "search":
      return <SearchPage route={route} />;
    case "lineage":
      return <LineagePage route={route} />;
    case "pipeline":
      return <PipelinePage key={route.parts[0] ?? ""} route={route} />;
    case "job":
      return (
        <JobDetail key={route.parts.join("/")} namespace={route.parts[0] ?? ""} name={route.parts[1] ?? ""}
          compare={route.query.get("compare")} />
      );
    case "dataset":
      return (
        <DatasetDetail key={route.parts.join("/")} namespace={route.parts[0] ?? ""} name={route.parts[1] ?? ""} />
      );
    default:
      return <div className="page"><h1>Not found</h1><p><a href={hrefs.overview()}>Overview</a></p></div>;
  }
}

const NAV = [
  ["", "Overview", hrefs.overview()],
  ["jobs", "Jobs", hrefs.jobs()],
  ["datasets", "Datasets", hrefs.datasets()],
  ["lineage", "Lineage", "#/lineage"],
  ["pipeline", "Pipeline", hrefs.pipeline()],
] as const;

export function App() {
  const route = useRoute();
  const [authNeeded, setAuthNeeded] = useState(false);
  useEffect(() => onAuthRequired(() => setAuthNeeded(true)), []);
  const fullWidth = route.page === "lineage" || (route.page === "pipeline" && Boolean(route.parts[0]));
  return (
    <div className={fullWidth ? "app app-full" : "app"}>
      <header className="top-bar">
        <a className="brand" href={hrefs.overview()}>Lineage audit</a>
        <nav>
          {NAV.map(([page, label, href]) => (
            <a key={page} href={href} className={route.page === page ? "active" : ""}>{label}</a>
          ))}
        </nav>
        <GlobalSearch initial={route.page === "search" ? (route.query.get("q") ?? "") : ""} />
        <a className="api-link" href="./api/v1/docs" target="_blank" rel="noreferrer">API</a>
      </header>
      {authNeeded && <ApiKeyPrompt onDone={() => setAuthNeeded(false)} />}
      <main>
        <Page route={route} />
      </main>
    </div>
  );
}
