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

// -- the audit trail (issue 13) -------------------------------------------------------------------------

/** A run event of a job in a graph: a stop of the graph's "as of" control (GET /audit/moments). */
export interface Moment {
  time: string;
  eventType: string;
  runId: string;
  job: { namespace: string; name: string };
}

export interface DiffEnd {
  time: string | null;
  runId: string | null;
  state: string | null;
  jobVersion: string | null;
  datasetVersion: string | null;
}

export interface AddedRemoved<T> {
  added: T[];
  removed: T[];
  unchanged: T[];
}

export interface DiffTransformation {
  type: string | null;
  subtype: string | null;
  description: string | null;
  masking: boolean | null;
}

export interface DiffInput {
  namespace: string;
  name: string;
  field: string;
}

export interface ColumnEdgeChange {
  field: string;
  input: DiffInput;
  transformations?: DiffTransformation[];
  fromTransformations?: DiffTransformation[];
  toTransformations?: DiffTransformation[];
}

export interface DatasetDiff {
  namespace: string;
  name: string;
  role: "OUTPUT" | "INPUT";
  fromVersion: string | null;
  toVersion: string | null;
  fields: {
    added: { name: string; type: string | null }[];
    removed: { name: string; type: string | null }[];
    retyped: { name: string; fromType: string | null; toType: string | null }[];
  };
  columnLineage: { added: ColumnEdgeChange[]; removed: ColumnEdgeChange[]; changed: ColumnEdgeChange[] };
  rowCount: { from: number | null; to: number | null };
  changed: boolean;
}

/** GET /audit/diff/runs (and a dataset's /diff): what changed from one run, or moment, to another. */
export interface LineageDiff {
  kind: "runs" | "dataset";
  from: DiffEnd;
  to: DiffEnd;
  job: DatasetRef | null;
  dataset: DatasetRef | null;
  inputs: AddedRemoved<DatasetRef>;
  outputs: AddedRemoved<DatasetRef>;
  writers: AddedRemoved<DatasetRef>;
  datasets: DatasetDiff[];
  changed: boolean;
}

// -- where personal data flows (issue 14): classes of fields, from GET /audit/classifications ----------------

export interface ClassRef {
  namespace: string;
  dataset: string;
  field: string;
}

/** One hop of a class's path: a job's column lineage edge from one field to another. */
export interface ClassStep {
  job: { namespace: string; name: string } | null;
  from: ClassRef;
  to: ClassRef;
  transformation: { type: string; subtype: string | null; masking: boolean; description: string | null };
  /** Present where a `declared:` entry of conf/classification.yml corrected the captured edge. */
  declared?: { as: "masked" | "influenced"; reason: string };
}

/** A class reaching a field: the source column it was declared on, and the path from there. */
export interface ClassCarry {
  class: string;
  source: ClassRef & { origin: "rule" | "tag" | "facet"; detail: string };
  path: ClassStep[]; // [] at the source itself
  maskedAt?: ClassStep; // in "masked": the step that masked it
}

export interface FieldClasses extends ClassRef {
  type: string | null;
  carries: ClassCarry[]; // in the clear
  masked: ClassCarry[]; // stopped by a masking transformation
  influencedBy: ClassCarry[]; // an INDIRECT dependency on a field carrying the class in the clear
}

export interface Classifications {
  classes: { name: string; description: string }[];
  fields: FieldClasses[]; // only fields with a class of any kind
  storeVersion: number;
}

export interface DatasetClassifications {
  id: { namespace: string; name: string };
  classes: string[];
  maskedClasses: string[];
  influencedByClasses: string[];
  rowsInfluencedBy: ClassCarry[];
  fields: FieldClasses[]; // every current field
}
