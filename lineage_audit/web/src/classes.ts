// Where personal data flows (issue 14): the classes a field carries, as the service computes them
// (GET /audit/classifications), turned into badges, their tooltips and the graph's "sensitive data" filter.
//
// A class reaches a field in one of three ways: in the clear (DIRECT edges carried the values), masked (a
// masking transformation stopped it on the way) or as an influence (an INDIRECT dependency: the rows were
// filtered, joined or grouped on a field carrying it). A field shows each class once, the strongest way first.
import { fieldKey, shortDatasetName } from "./names";
import type { ClassCarry, ClassRef, ClassStep, Classifications, FieldClasses } from "./types";

export type Exposure = "clear" | "masked" | "influenced";

/** Strongest first: a class in the clear is not also shown as masked or as an influence on the same field. */
export const EXPOSURES: Exposure[] = ["clear", "masked", "influenced"];

export interface ClassBadge {
  cls: string;
  exposure: Exposure;
  /** every way the class reached the field this way (several source columns or paths) */
  carries: ClassCarry[];
}

function carriesOf(entry: FieldClasses, exposure: Exposure): ClassCarry[] {
  if (exposure === "clear") return entry.carries;
  return exposure === "masked" ? entry.masked : entry.influencedBy;
}

/** A field's badges: one per class, the strongest way it reached the field; in the clear first, then by name. */
export function badgesOf(entry: FieldClasses | undefined): ClassBadge[] {
  if (!entry) return [];
  const badges = new Map<string, ClassBadge>();
  for (const exposure of EXPOSURES) {
    for (const carry of carriesOf(entry, exposure)) {
      const badge = badges.get(carry.class);
      if (!badge) badges.set(carry.class, { cls: carry.class, exposure, carries: [carry] });
      else if (badge.exposure === exposure) badge.carries.push(carry);
    }
  }
  const rank = (b: ClassBadge) => EXPOSURES.indexOf(b.exposure);
  return [...badges.values()].sort((a, b) => rank(a) - rank(b) || a.cls.localeCompare(b.cls));
}

/** What a badge says: "PII.email", "PII.email masked", "influenced by PII.email". */
export function badgeLabel(badge: { cls: string; exposure: Exposure }): string {
  if (badge.exposure === "masked") return `${badge.cls} masked`;
  return badge.exposure === "influenced" ? `influenced by ${badge.cls}` : badge.cls;
}

function refText(ref: ClassRef): string {
  return `${shortDatasetName(ref.dataset)}.${ref.field}`;
}

function stepText(step: ClassStep): string {
  const { type, subtype, masking } = step.transformation;
  const how = `${type}${subtype ? `/${subtype}` : ""}${masking ? ", masking" : ""}`;
  const job = step.job ? step.job.name : "no job";
  // A correction of conf/classification.yml (`declared:`) where the capture's lineage says more than the code
  const declared = step.declared ? ` (declared ${step.declared.as}: ${step.declared.reason})` : "";
  return `  → ${job} [${how}]${declared} → ${refText(step.to)}`;
}

/** One way a class came to a field, as lines: its source column, then each job and column of its path. */
export function describeCarry(carry: ClassCarry, exposure: Exposure): string[] {
  const { source } = carry;
  const lines = [`from ${refText(source)} (${source.origin}: ${source.detail})`];
  lines.push(...carry.path.map(stepText));
  if (!carry.path.length) lines.push("  declared on this column");
  const maskedAt = carry.maskedAt ?? carry.path.find((step) => step.transformation.masking);
  if (exposure === "masked" && maskedAt) {
    const why = maskedAt.declared ? maskedAt.declared.reason : maskedAt.transformation.description;
    lines.push(`  masked by ${maskedAt.job?.name ?? "no job"}${why ? ` (${why})` : ""}${
      maskedAt.declared ? " [declared in conf/classification.yml]" : ""}`);
  }
  return lines;
}

const EXPOSURE_WORDS: Record<Exposure, string> = {
  clear: "in the clear",
  masked: "masked on the way",
  influenced: "influences the rows (an INDIRECT dependency), values not copied",
};

/** A badge's tooltip: the class, how it reached the field, and every path it came through. */
export function badgeTitle(badge: ClassBadge): string {
  const paths = badge.carries.map((carry) => describeCarry(carry, badge.exposure).join("\n"));
  return [`${badge.cls}: ${EXPOSURE_WORDS[badge.exposure]}`, ...paths].join("\n");
}

/** The classified fields by field key (see names.ts). */
export type ClassIndex = Map<string, FieldClasses>;

export function indexClasses(answer: Classifications | undefined): ClassIndex | null {
  if (!answer) return null;
  return new Map(answer.fields.map((entry) => [fieldKey(entry.namespace, entry.dataset, entry.field), entry]));
}

/** How the field holds `cls` (any class when null), the strongest way; null when it holds none. */
export function exposureOf(entry: FieldClasses | undefined, cls: string | null): Exposure | null {
  if (!entry) return null;
  return EXPOSURES.find((exposure) => carriesOf(entry, exposure).some((c) => cls === null || c.class === cls))
    ?? null;
}

/** The stronger of two exposures (null: none). */
export function stronger(a: Exposure | null, b: Exposure | null): Exposure | null {
  if (a === null) return b;
  if (b === null) return a;
  return EXPOSURES.indexOf(a) <= EXPOSURES.indexOf(b) ? a : b;
}
