// Paths of edges: node edges follow ELK's route through the layers, smoothed; field edges go straight from a
// field's row to the row of the field computed from it.
import { DATASET_SIZE, FIELD_ROW, type Box } from "./layout";

/** A smooth left-to-right path through x,y points: each leg a cubic curve with horizontal tangents. */
export function smoothPath(points: number[]): string {
  if (points.length < 4) return "";
  let d = `M${points[0]},${points[1]}`;
  for (let i = 2; i + 1 < points.length; i += 2) {
    const [x0, y0, x1, y1] = [points[i - 2], points[i - 1], points[i], points[i + 1]];
    const dx = (x1 - x0) / 2;
    d += y0 === y1 ? ` L${x1},${y1}` : ` C${x0 + dx},${y0} ${x1 - dx},${y1} ${x1},${y1}`;
  }
  return d;
}

/** The fallback when ELK gave no route: from the right middle of one box to the left middle of the other. */
export function boxToBox(from: Box, to: Box): number[] {
  return [from.x + from.width, from.y + from.height / 2, to.x, to.y + to.height / 2];
}

export function fieldRowY(box: Box, index: number): number {
  return box.y + DATASET_SIZE.height + index * FIELD_ROW + FIELD_ROW / 2;
}

/** From the right end of an input field's row to the left end of the output field's row. */
export function fieldCurve(x0: number, y0: number, x1: number, y1: number): string {
  const dx = Math.max(40, Math.abs(x1 - x0) / 2);
  return `M${x0},${y0} C${x0 + dx},${y0} ${x1 - dx},${y1} ${x1},${y1}`;
}
