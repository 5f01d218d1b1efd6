import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { warmUpLayout } from "./graph/layout";
import { startChangeMarker } from "./poll";
import "./styles.css";

// the layout worker compiles ELK while the first page loads: the first graph is laid out on warm code
warmUpLayout();
// and the change marker is read while React renders: the pages' first reads wait for its answer
startChangeMarker();

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
