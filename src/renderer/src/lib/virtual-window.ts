/**
 * Which rows of a long list to draw: only those in view plus a few around (overscan), with the
 * space above and below kept so the scrollbar stays true. Fixed row height: a queue row is one
 * line, and this keeps 10,000 jobs as cheap as 30.
 */
export interface VirtualWindow {
  start: number;
  end: number;
  /** Offset of the first drawn row from the top of the list, in pixels. */
  offset: number;
  total: number;
}

export function virtualWindow(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  count: number,
  overscan = 6,
): VirtualWindow {
  const total = count * rowHeight;
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const visible = Math.ceil(Math.max(0, viewportHeight) / rowHeight) + 1;
  const start = Math.max(0, Math.min(first - overscan, count));
  const end = Math.min(count, first + visible + overscan);
  return { start, end: Math.max(start, end), offset: start * rowHeight, total };
}
