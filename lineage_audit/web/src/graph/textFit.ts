// Node text cut to fit its box, measured with the font it is drawn in (a canvas measures as the SVG draws:
// same system fonts, no web fonts), so that no line runs past its box whatever its letters. Names are cut at
// the end (their start tells), paths at the start (their end tells), at a "/" when that keeps enough.
const ELLIPSIS = "…";
const SANS_FALLBACK = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
const MONO = 'ui-monospace, Menlo, Consolas, monospace';

export interface TextStyle {
  size: number; // px, as in styles.css
  weight?: number;
  mono?: boolean;
}

let context: CanvasRenderingContext2D | null | undefined;
let sansFamily: string | null = null;
let currentFont = "";
const fitted = new Map<string, string>();
const widths = new Map<string, number>();

function measurer(): CanvasRenderingContext2D | null {
  if (context === undefined) {
    try {
      context = document.createElement("canvas").getContext("2d");
    } catch {
      context = null;
    }
  }
  return context;
}

function fontOf(style: TextStyle): string {
  sansFamily ??= getComputedStyle(document.body).fontFamily || SANS_FALLBACK;
  return `${style.weight ?? 400} ${style.size}px ${style.mono ? MONO : sansFamily}`;
}

/** The width of `text` in pixels; without a canvas, a generous estimate. */
export function textWidth(text: string, style: TextStyle): number {
  const key = `${fontOf(style)}|${text}`;
  let width = widths.get(key);
  if (width === undefined) {
    width = widthOf(text, style);
    if (widths.size > 20000) widths.clear();
    widths.set(key, width);
  }
  return width;
}

function widthOf(text: string, style: TextStyle): number {
  const ctx = measurer();
  if (!ctx) return text.length * style.size * (style.mono ? 0.62 : 0.64);
  const font = fontOf(style);
  if (font !== currentFont) {
    ctx.font = font;
    currentFont = font;
  }
  return ctx.measureText(text).width;
}

/** The longest n in [0, max] with fits(n), fits being monotone (true up to some n). */
function longest(max: number, fits: (n: number) => boolean): number {
  let lo = 0;
  let hi = max;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function cached(kind: string, text: string, width: number, style: TextStyle, cut: () => string): string {
  const key = `${kind}|${fontOf(style)}|${Math.round(width)}|${text}`;
  let value = fitted.get(key);
  if (value === undefined) {
    value = cut();
    if (fitted.size > 20000) fitted.clear();
    fitted.set(key, value);
  }
  return value;
}

/** `text`, or its start and an ellipsis, within `width` pixels. */
export function fitText(text: string, width: number, style: TextStyle): string {
  if (!text) return text;
  return cached("end", text, width, style, () => {
    if (widthOf(text, style) <= width) return text;
    const n = longest(text.length - 1, (k) => widthOf(text.slice(0, k) + ELLIPSIS, style) <= width);
    return `${text.slice(0, n).trimEnd()}${ELLIPSIS}`;
  });
}

/** `text`, or an ellipsis and its end, within `width` pixels: for paths, cut after a "/" when one is near. */
export function fitTextStart(text: string, width: number, style: TextStyle): string {
  if (!text) return text;
  return cached("start", text, width, style, () => {
    if (widthOf(text, style) <= width) return text;
    const n = longest(text.length - 1, (k) => widthOf(ELLIPSIS + text.slice(text.length - k), style) <= width);
    const tail = text.slice(text.length - n);
    const slash = tail.indexOf("/");
    // "…/la-run3/outputs" reads better than "…un3/outputs", unless the cut would drop much of what fits
    return slash > 0 && slash <= n / 3 ? `${ELLIPSIS}${tail.slice(slash)}` : `${ELLIPSIS}${tail}`;
  });
}
