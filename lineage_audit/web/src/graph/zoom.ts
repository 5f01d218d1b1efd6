// Zoom and pan of the graph's SVG viewport. The transform is written straight to the DOM: moving the view
// re-renders nothing, however many nodes there are.
import { useCallback, useEffect, useRef } from "react";

export interface View {
  x: number;
  y: number;
  k: number;
}

const MIN_SCALE = 0.03;
const MAX_SCALE = 3;
// Below these scales text is too small to read: hide the second lines, then all text (CSS classes on the svg).
const FAR = 0.38;
const TINY = 0.16;
// From this scale up there is room for every field edge's label, not only those of a traced field.
const NEAR = 0.85;

export interface ZoomPan {
  svgRef: React.RefObject<SVGSVGElement | null>;
  viewportRef: React.RefObject<SVGGElement | null>;
  zoomBy: (factor: number) => void;
  /** the box (width, height) at (x, y) in graph coordinates, whole in view: the graph's, by default */
  fit: (width: number, height: number, x?: number, y?: number) => void;
  centerOn: (x: number, y: number) => void;
  /** true when the last pointer gesture moved the view: its click is not a selection */
  wasDrag: () => boolean;
  /** true once the user zoomed or panned since the last fit */
  moved: () => boolean;
}

export function useZoomPan(): ZoomPan {
  const svgRef = useRef<SVGSVGElement | null>(null);
  const viewportRef = useRef<SVGGElement | null>(null);
  const view = useRef<View>({ x: 0, y: 0, k: 1 });
  const dragged = useRef(false);
  const userMoved = useRef(false);

  const apply = useCallback((next: View) => {
    view.current = next;
    viewportRef.current?.setAttribute("transform", `translate(${next.x},${next.y}) scale(${next.k})`);
    const svg = svgRef.current;
    if (svg) {
      svg.classList.toggle("zoom-far", next.k < FAR);
      svg.classList.toggle("zoom-tiny", next.k < TINY);
      svg.classList.toggle("zoom-near", next.k >= NEAR);
    }
  }, []);

  const zoomAt = useCallback(
    (factor: number, px: number, py: number) => {
      const { x, y, k } = view.current;
      userMoved.current = true;
      const scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, k * factor));
      apply({ k: scale, x: px - ((px - x) * scale) / k, y: py - ((py - y) * scale) / k });
    },
    [apply],
  );

  const zoomBy = useCallback(
    (factor: number) => {
      const rect = svgRef.current?.getBoundingClientRect();
      zoomAt(factor, (rect?.width ?? 0) / 2, (rect?.height ?? 0) / 2);
    },
    [zoomAt],
  );

  const fit = useCallback(
    (width: number, height: number, x = 0, y = 0) => {
      const rect = svgRef.current?.getBoundingClientRect();
      if (!rect || !width || !height) return;
      userMoved.current = false;
      // room on the right for the zoom buttons, which float over the graph
      const [left, right, top, bottom] = [24, 64, 20, 20];
      const k = Math.min(1.1, Math.max(MIN_SCALE, Math.min((rect.width - left - right) / width,
        (rect.height - top - bottom) / height)));
      apply({ k, x: left + (rect.width - left - right - width * k) / 2 - x * k,
        y: Math.max(top, top + (rect.height - top - bottom - height * k) / 2) - y * k });
    },
    [apply],
  );

  const centerOn = useCallback(
    (x: number, y: number) => {
      const rect = svgRef.current?.getBoundingClientRect();
      if (!rect) return;
      const k = Math.max(view.current.k, 0.8);
      userMoved.current = true;
      apply({ k, x: rect.width / 2 - x * k, y: rect.height / 2 - y * k });
    },
    [apply],
  );

  useEffect(() => {
    const svg = svgRef.current;
    if (!svg) return;
    const onWheel = (event: WheelEvent) => {
      event.preventDefault();
      const rect = svg.getBoundingClientRect();
      zoomAt(Math.exp(-event.deltaY * 0.0015), event.clientX - rect.left, event.clientY - rect.top);
    };
    let start: { px: number; py: number; x: number; y: number } | null = null;
    const onDown = (event: PointerEvent) => {
      if (event.button !== 0) return;
      start = { px: event.clientX, py: event.clientY, x: view.current.x, y: view.current.y };
      dragged.current = false;
    };
    const onMove = (event: PointerEvent) => {
      if (!start) return;
      const dx = event.clientX - start.px;
      const dy = event.clientY - start.py;
      if (!dragged.current && Math.hypot(dx, dy) < 4) return;
      if (!dragged.current) svg.setPointerCapture(event.pointerId);
      dragged.current = true;
      userMoved.current = true;
      apply({ ...view.current, x: start.x + dx, y: start.y + dy });
    };
    const onUp = () => {
      start = null;
    };
    svg.addEventListener("wheel", onWheel, { passive: false });
    svg.addEventListener("pointerdown", onDown);
    svg.addEventListener("pointermove", onMove);
    svg.addEventListener("pointerup", onUp);
    svg.addEventListener("pointercancel", onUp);
    return () => {
      svg.removeEventListener("wheel", onWheel);
      svg.removeEventListener("pointerdown", onDown);
      svg.removeEventListener("pointermove", onMove);
      svg.removeEventListener("pointerup", onUp);
      svg.removeEventListener("pointercancel", onUp);
    };
  }, [apply, zoomAt]);

  return {
    svgRef, viewportRef, zoomBy, fit, centerOn, wasDrag: () => dragged.current, moved: () => userMoved.current,
  };
}
