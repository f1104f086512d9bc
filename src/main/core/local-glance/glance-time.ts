/**
 * Times of the embedded server's records: UTC ISO with milliseconds, kept precise because Glance
 * sorts and filters on its microsecond times (two images made in the same second keep their
 * order); shown as Glance shows them, to the second with a Z (isotime).
 */
export function glanceTime(ms: number = Date.now()): string {
  return new Date(ms).toISOString();
}

/** A record's time as Glance prints it: seconds, UTC, a Z. */
export function isotime(t: string): string {
  return t.replace(/\.\d+Z$/, 'Z');
}
