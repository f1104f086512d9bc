/** Glance's timestamps: seconds, UTC, a Z (isotime). */
export function glanceTime(ms: number = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
