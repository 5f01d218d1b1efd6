// The JSON shapes of the service's Marquez API that the UI reads (lineage_audit/service/views.py, graph.py).
// Only the parts the UI uses are typed; everything else passes through untouched.

export type RunState = "NEW" | "RUNNING" | "COMPLETED" | "FAILED" | "ABORTED";

export type Facets = Record<string, unknown>;

export interface Namespace {
  name: string;
  createdAt: string;
  updatedAt: string;
  ownerName: string;
  description: string | null;
}

export interface DatasetRef {
  namespace: string;
  name: string;
}

export interface Run {
  id: string;
  createdAt: string;
  updatedAt: string;
  state: RunState;
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  facets?: Facets;
  jobVersion?: { namespace: string; name: string; version: string } | null;
  // what the run wrote, with the output facets (outputStatistics) of each version
  outputDatasetVersions?: RunDatasetVersion[];
}

export interface RunDatasetVersion {
  datasetVersionId: { namespace: string; name: string; version: string };
  facets: Facets;
}

export interface Job {
  id: DatasetRef;
  type: string;
  name: string;
  simpleName: string;
  parentJobName: string | null;
  createdAt: string;
  updatedAt: string;
  namespace: string;
  inputs: DatasetRef[];
  outputs: DatasetRef[];
  location: string | null;
  description: string | null;
  latestRun: Run | null;
  latestRuns: Run[];
  facets: Facets;
}

export interface Field {
  name: string;
  type: string | null;
  tags: string[];
  description: string | null;
}

export interface Transformation {
  type: string | null;
  subtype: string | null;
  description: string | null;
  masking: boolean | number | null;
}

export interface InputField {
  namespace: string;
  dataset: string;
  field: string;
  transformationType: string | null;
  transformationDescription: string | null;
  transformations: Transformation[];
}

export interface ColumnLineage {
  name: string;
  inputFields: InputField[];
}

export interface Dataset {
  id: DatasetRef;
  type: string;
  name: string;
  namespace: string;
  sourceName: string;
  createdAt: string;
  updatedAt: string;
  fields: Field[];
  tags: string[];
  description: string | null;
  facets: Facets;
  currentVersion: string | null;
  columnLineage: ColumnLineage[] | null; // null when the dataset has none, as in Marquez
}

export interface DatasetVersion {
  version: string;
  createdAt: string;
  fields: Field[];
  facets: Facets;
  lifecycleState: string | null;
  createdByRun: Run | null;
}

export interface LineageEdge {
  origin: string;
  destination: string;
}

export interface LineageNode {
  id: string;
  type: "JOB" | "DATASET";
  data: {
    name: string;
    namespace: string;
    simpleName?: string;
    parentJobName?: string | null;
    fields?: Field[];
    latestRun?: Run | null;
    location?: string | null;
    updatedAt?: string | null;
    type?: string;
  };
  inEdges: LineageEdge[];
  outEdges: LineageEdge[];
}

export interface ColumnNode {
  id: string;
  type: "DATASET_FIELD";
  data: { namespace: string; dataset: string; field: string; fieldType: string | null; inputFields: InputField[] };
}

export interface SearchResult {
  type: "DATASET" | "JOB";
  name: string;
  namespace: string;
  updatedAt: string;
  nodeId: string;
}

export interface EventBucket {
  startInterval: string;
  endInterval: string;
  count: number;
  start: number;
  complete: number;
  fail: number;
  abort: number;
}

/** A raw OpenLineage event, as /events/lineage returns it. */
export interface LineageEvent {
  eventType?: string;
  eventTime: string;
  run: { runId: string; facets?: Facets };
  job: { namespace: string; name: string };
}
