// A field's classes as badges (issue 14): red in the clear, grey and struck through when masked, outlined when
// only an influence; the tooltip tells the path of jobs and columns each came through.
import { useMemo } from "react";
import { paths } from "../api";
import { badgeLabel, badgeTitle, badgesOf, type Exposure } from "../classes";
import { usePolled } from "../poll";
import type { DatasetClassifications, FieldClasses } from "../types";

export function ClassBadges({ entry }: { entry: FieldClasses | undefined }) {
  const badges = badgesOf(entry);
  if (!badges.length) return null;
  return (
    <span className="class-badges">
      {badges.map((badge) => (
        <span key={`${badge.exposure}:${badge.cls}`} className={`class-badge exposure-${badge.exposure}`}
          data-testid="class-badge" data-class={badge.cls} data-exposure={badge.exposure} title={badgeTitle(badge)}>
          {badgeLabel(badge)}
        </span>
      ))}
    </span>
  );
}

/** One dataset's classes (its per-dataset route), polled; `byField` by field name. */
export function useDatasetClasses(namespace: string, name: string) {
  const answer = usePolled<DatasetClassifications>(paths.datasetClassifications(namespace, name));
  const byField = useMemo(
    () => new Map((answer.data?.fields ?? []).map((entry) => [entry.field, entry])), [answer.data]);
  return { data: answer.data, byField, error: answer.error };
}

function ClassList({ label, classes, exposure, testId }: {
  label: string; classes: string[]; exposure: Exposure; testId: string;
}) {
  if (!classes.length) return null;
  return (
    <>
      <dt>{label}</dt>
      <dd data-testid={testId}>
        {classes.map((cls) => (
          <span key={cls} className={`class-badge exposure-${exposure}`} data-class={cls}
            title={badgeLabel({ cls, exposure })}>{cls}</span>
        ))}
      </dd>
    </>
  );
}

/** The dataset's classes in short: in the clear, masked, influencing some field, influencing which rows it has. */
export function DatasetClassSummary({ data }: { data: DatasetClassifications | undefined }) {
  if (!data) return null;
  const rows = [...new Set(data.rowsInfluencedBy.map((c) => c.class))].sort();
  if (!data.classes.length && !data.maskedClasses.length && !data.influencedByClasses.length && !rows.length) {
    return <p className="muted small" data-testid="dataset-classes-none">No classified data reaches it.</p>;
  }
  return (
    <dl className="facts wide class-summary" data-testid="dataset-classes">
      <ClassList label="In the clear" classes={data.classes} exposure="clear" testId="dataset-classes-clear" />
      <ClassList label="Masked" classes={data.maskedClasses} exposure="masked" testId="dataset-classes-masked" />
      <ClassList label="Fields influenced by" classes={data.influencedByClasses} exposure="influenced"
        testId="dataset-classes-influenced" />
      <ClassList label="Rows influenced by" classes={rows} exposure="influenced" testId="dataset-classes-rows" />
    </dl>
  );
}
