// What a graph page has selected: one node (its side panel) or one field (its upstream and downstream
// closure), never both. Shared by the lineage page and the pipeline page.
import { useCallback, useEffect, useMemo, useState } from "react";
import { fieldClosure, type ColumnGraph } from "./columns";

export function useGraphSelection(columnGraph: ColumnGraph | null | undefined, resetKey: unknown) {
  const [selectedNode, setSelectedNode] = useState<string | null>(null);
  const [selectedField, setSelectedField] = useState<string | null>(null);
  useEffect(() => {
    setSelectedNode(null);
    setSelectedField(null);
  }, [resetKey]);
  const marks = useMemo(
    () => (selectedField && columnGraph ? fieldClosure(columnGraph, selectedField) : null),
    [selectedField, columnGraph],
  );
  const selectNode = useCallback((id: string | null) => {
    setSelectedNode(id);
    setSelectedField(null);
  }, []);
  const selectField = useCallback((id: string) => {
    setSelectedField(id);
    setSelectedNode(null);
  }, []);
  return { selectedNode, selectedField, marks, selectNode, selectField };
}
