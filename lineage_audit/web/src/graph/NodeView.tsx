// One node of the graph: a job (pill, coloured by its latest run state) or a dataset (table card, with its
// fields listed when the column level is on). Names are always text nodes: React escapes them.
import { memo } from "react";
import { fieldId, fieldKey } from "../names";
import type { Change, FieldChange } from "./changes";
import type { Highlight } from "./columns";
import { fitText, fitTextStart, textWidth, type TextStyle } from "./textFit";
import { DATASET_SIZE, FIELD_ROW, type Box } from "./layout";
import type { GraphNode } from "./model";
import { badgeLabel, badgeTitle, badgesOf, exposureOf, type ClassBadge, type ClassIndex, type Exposure } from "../classes";
import type { SensitiveFilter } from "./sensitive";

interface NodeProps {
  node: GraphNode;
  box: Box;
  selected: boolean;
  /** field names listed (column level on), or null */
  fieldNames: string[] | null;
  /** highlight of fields by field key (this node's among them), when a field is selected */
  marks: Map<string, Highlight> | null;
  focused: boolean; // the node the graph is centred on
  /** a job a traced field passes through: on its upstream or its downstream side */
  trace: Highlight | null;
  /** added, removed or changed since the moment of a "changes since" view */
  change: Change | null;
  /** changes of fields by field key (this node's among them), when this dataset's fields changed */
  fieldChanges: Map<string, FieldChange> | null;
  /** the classes of classified fields by field key (badges at the column level), once read */
  classes: ClassIndex | null;
  /** the "sensitive data" filter when on */
  filter: SensitiveFilter | null;
  /** with the filter on: the strongest way the node holds the class ("" for none: dimmed) */
  sensitive: Exposure | "" | null;
}

// as .node-label, .node-sub, .field-name and .field-type in styles.css
const LABEL: TextStyle = { size: 13, weight: 600 };
const SUB: TextStyle = { size: 11 };
const FIELD_NAME: TextStyle = { size: 11.5, mono: true };
const FIELD_TYPE: TextStyle = { size: 10.5 };
const BADGE: TextStyle = { size: 9.5, weight: 600 }; // as .field-badge text
const BADGE_PAD = 5;
const BADGE_GAP = 3;
const NAME_ROOM = 72; // what badges always leave to the field's name
const RIGHT_PAD = 10;

function JobShape({ node, box }: { node: GraphNode; box: Box }) {
  const sub = node.state ? `${node.state.toLowerCase()} · ${node.sublabel}` : node.sublabel;
  const room = box.width - 38 - 14; // clear of the pill's round right end
  const state = node.state ? node.state.toLowerCase() : "none";
  return (
    <>
      <rect className="node-body" width={box.width} height={box.height} rx={box.height / 2} />
      <circle className={`state-dot state-${state}`} cx={22} cy={box.height / 2} r={8} />
      <text className="node-label" x={38} y={21}>
        <title>{node.name}</title>
        {fitText(node.label, room, LABEL)}
      </text>
      <text className="node-sub" x={38} y={37}>
        <title>{sub}</title>
        {fitText(sub, room, SUB)}
      </text>
    </>
  );
}

function DatasetShape({ node, box }: { node: GraphNode; box: Box }) {
  return (
    <>
      <rect className="node-body" width={box.width} height={box.height} rx={6} />
      <g className="dataset-icon" transform="translate(10,13)">
        <rect width={16} height={20} rx={2} />
        <line x1={0} y1={7} x2={16} y2={7} />
        <line x1={0} y1={13.5} x2={16} y2={13.5} />
      </g>
      <text className="node-label" x={34} y={20}>
        <title>{node.name}</title>
        {fitText(node.label, box.width - 34 - RIGHT_PAD, LABEL)}
      </text>
      <text className="node-sub" x={34} y={36}>
        <title>{node.name}</title>
        {/* a folder keeps its end (the part that tells), a namespace its start */}
        {(node.sublabel === node.namespace ? fitText : fitTextStart)(node.sublabel, box.width - 34 - RIGHT_PAD, SUB)}
      </text>
    </>
  );
}

interface BadgePlaces {
  shown: { badge: ClassBadge; x: number; width: number; text: string }[];
  hidden: ClassBadge[];
  left: number; // where the leftmost drawn part starts
}

/** Badges right-aligned from `right`: as many as fit in `room`, then "+n" for the rest (all in titles). */
function placeBadges(badges: ClassBadge[], right: number, room: number): BadgePlaces {
  const shown: BadgePlaces["shown"] = [];
  const more = (n: number) => (n ? textWidth(`+${n}`, BADGE) + BADGE_GAP : 0);
  let x = right;
  for (const [i, badge] of badges.entries()) {
    const width = Math.min(textWidth(badge.cls, BADGE) + 2 * BADGE_PAD, room);
    if (right - x + width + more(badges.length - i - 1) > room && shown.length) break;
    x -= width;
    shown.push({ badge, x, width, text: fitText(badge.cls, width - 2 * BADGE_PAD, BADGE) });
    x -= BADGE_GAP;
  }
  const hidden = badges.slice(shown.length);
  return { shown, hidden, left: hidden.length ? x - more(hidden.length) + BADGE_GAP : x + BADGE_GAP };
}

function FieldBadges({ places }: { places: BadgePlaces }) {
  const { shown, hidden } = places;
  return (
    <g className="field-badges">
      {shown.map(({ badge, x: left, width, text }) => (
        <g key={`${badge.exposure}:${badge.cls}`} className={`field-badge exposure-${badge.exposure}`}
          data-testid="class-badge" data-class={badge.cls} data-exposure={badge.exposure}>
          <title>{badgeTitle(badge)}</title>
          <rect x={left} y={3} width={width} height={13} rx={6.5} />
          <text x={left + width / 2} y={12.8} textAnchor="middle">{text}</text>
        </g>
      ))}
      {hidden.length > 0 && (
        <text className="field-badge-more" x={shown[shown.length - 1].x - BADGE_GAP} y={13} textAnchor="end">
          <title>{hidden.map(badgeLabel).join(", ")}</title>
          {`+${hidden.length}`}
        </text>
      )}
    </g>
  );
}

function classData(badges: ClassBadge[], exposure: Exposure): string {
  return badges.filter((b) => b.exposure === exposure).map((b) => b.cls).join(" ");
}

function FieldRows({ node, box, names, marks, changes, classes, filter }: {
  node: GraphNode; box: Box; names: string[]; marks: Map<string, Highlight> | null;
  changes: Map<string, FieldChange> | null; classes: ClassIndex | null; filter: SensitiveFilter | null;
}) {
  const types = new Map(node.fields.map((f) => [f.name, f.type ?? ""]));
  const nameRoom = (right: number) => box.width - 12 - RIGHT_PAD - (right ? right + 8 : 0);
  return (
    <g className="fields">
      <line className="fields-rule" x1={0} x2={box.width} y1={DATASET_SIZE.height - 2} y2={DATASET_SIZE.height - 2} />
      {names.map((name, i) => {
        const key = fieldKey(node.namespace, node.name, name);
        const id = fieldId(node.namespace, node.name, name);
        const mark = marks?.get(key) ?? "";
        const change = changes?.get(key) ?? "";
        const entry = classes?.get(key);
        const badges = badgesOf(entry);
        const sensitive = filter ? (exposureOf(entry, filter.cls) ?? "none") : "";
        const type = badges.length ? "" : fitText(types.get(name) ?? "", 62, FIELD_TYPE);
        const places = badges.length
          ? placeBadges(badges, box.width - RIGHT_PAD, box.width - 12 - RIGHT_PAD - NAME_ROOM) : null;
        const right = places ? box.width - RIGHT_PAD - places.left : type ? textWidth(type, FIELD_TYPE) : 0;
        const classNames = ["field", mark && `hl-${mark}`, change && `change-${change}`,
          sensitive && `sensitive-${sensitive}`].filter(Boolean).join(" ");
        return (
          <g key={name} data-testid="graph-field" data-field-id={id} data-highlight={mark} data-change={change}
            data-classes={classData(badges, "clear")} data-masked-classes={classData(badges, "masked")}
            data-influenced-classes={classData(badges, "influenced")} data-sensitive={sensitive}
            className={classNames} transform={`translate(0,${DATASET_SIZE.height + i * FIELD_ROW})`}>
            <title>{`${name}${types.get(name) ? ` (${types.get(name)})` : ""}${
              badges.length ? `: ${badges.map(badgeLabel).join(", ")}` : ""}`}</title>
            <rect className="field-row" x={2} width={box.width - 4} height={FIELD_ROW - 2} rx={3} />
            <text className="field-name" x={12} y={14}>{fitText(name, nameRoom(right), FIELD_NAME)}</text>
            {type && <text className="field-type" x={box.width - RIGHT_PAD} y={14} textAnchor="end">{type}</text>}
            {places && <FieldBadges places={places} />}
          </g>
        );
      })}
    </g>
  );
}

function NodeViewInner(props: NodeProps) {
  const { node, box, selected, fieldNames, marks, focused, trace, change, fieldChanges, sensitive } = props;
  const classes = ["node", node.kind === "JOB" ? "job" : "dataset"];
  if (node.kind === "JOB") classes.push(`state-${node.state ? node.state.toLowerCase() : "none"}`);
  if (selected) classes.push("selected");
  if (focused) classes.push("focused");
  if (trace) classes.push("traced", `hl-${trace}`);
  if (change) classes.push(`change-${change}`);
  if (sensitive !== null) classes.push(`sensitive-${sensitive || "none"}`);
  return (
    <g data-testid="graph-node" data-node-id={node.id} data-kind={node.kind} data-state={node.state}
      data-selected={selected ? "true" : "false"} data-trace={trace ?? ""} data-change={change ?? ""}
      data-sensitive={sensitive === null ? "" : sensitive || "none"}
      className={classes.join(" ")}
      transform={`translate(${box.x},${box.y})`}>
      <title>{`${node.kind === "JOB" ? "Job" : "Dataset"} ${node.namespace}:${node.name}`}</title>
      {focused && <rect className="root-halo" x={-7} y={-7} width={box.width + 14} height={box.height + 14} rx={12} />}
      {node.kind === "JOB" ? <JobShape node={node} box={box} /> : <DatasetShape node={node} box={box} />}
      {fieldNames && node.kind === "DATASET" && (
        <FieldRows node={node} box={box} names={fieldNames} marks={marks} changes={fieldChanges}
          classes={props.classes} filter={props.filter} />
      )}
    </g>
  );
}

export const NodeView = memo(NodeViewInner);
