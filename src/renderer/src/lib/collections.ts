/**
 * Immutable-by-convention collections for runes state: a selection is replaced, never mutated
 * ($state.raw holds it), so plain Sets are right here and SvelteSet's per-item reactivity is
 * not needed.
 */
export function setOf<T>(items: Iterable<T> = []): ReadonlySet<T> {
  return new Set(items);
}

/** With `item` added or removed: a new set. */
export function toggled<T>(set: ReadonlySet<T>, item: T, on: boolean): ReadonlySet<T> {
  const next = new Set(set);
  if (on) next.add(item);
  else next.delete(item);
  return next;
}

/** The items without repeats, first occurrence kept. */
export function unique<T>(items: Iterable<T>): T[] {
  return [...new Set(items)];
}
