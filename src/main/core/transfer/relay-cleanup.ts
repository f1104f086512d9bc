/**
 * Nothing of a relay stays in the object store once its target ends (done, failed, canceled):
 * the manifest with its segments (one server-side call), then whatever else carries the relay's
 * prefix (segments sent before the manifest existed), then our container if it is empty. The
 * relay's row goes last, so a cloud unreachable now is tried again at the next start.
 *
 * The sweep: objects under this data folder's prefix that no live relay of the queue owns (a
 * removed job, a queue database replaced) are deleted. Other prefixes are other machines'.
 */
import type { Engine } from '../clouds/engine';
import { toErrorInfo } from '../io/errors';
import type { ObjectStoreClient } from '../openstack/object-store-client';
import { RELAY_CONTAINER } from '../openstack/relay-url';
import type { JobRepository, TargetRecord } from '../queue/job-repository';
import type { RelayRecord } from '../queue/relay-store';
import { isTerminal } from '../../../shared/target-states';
import { manifestName } from './relay-segments';

async function deleteAll(store: ObjectStoreClient, container: string, names: string[]): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let n = names[next++]; n !== undefined; n = names[next++]) await store.deleteObject(container, n);
  };
  await Promise.all(Array.from({ length: Math.min(4, names.length) }, worker));
}

/** Deletes every object of one relay; the container too when nothing else is in it. */
export async function deleteRelayObjects(store: ObjectStoreClient, relay: RelayRecord): Promise<number> {
  await store.deleteObject(relay.container, manifestName(relay), true);
  const rest = (await store.list(relay.container, `${relay.prefix}/`)).map((o) => o.name);
  await deleteAll(store, relay.container, rest);
  await store.deleteContainerIfEmpty(relay.container);
  return rest.length;
}

/** A relay's objects deleted and its row dropped; a failure is noted and left for the next start. */
export async function releaseRelay(engine: Engine, repo: JobRepository, t: TargetRecord): Promise<void> {
  const relay = repo.relays.get(t.id);
  if (relay === undefined) return;
  try {
    const store = await engine.objectStore(t.cloud, t.region);
    const leftovers = await deleteRelayObjects(store, relay);
    repo.relays.drop(t.id);
    repo.note('target.relay_cleaned', t, { container: relay.container, prefix: relay.prefix, leftovers });
  } catch (e) {
    repo.note('target.relay_cleanup_failed', t, { container: relay.container, error: toErrorInfo(e) });
  }
}

/** Relays whose target ended while their objects could not be deleted (the store unreachable then). */
export async function releaseEndedRelays(engine: Engine, repo: JobRepository): Promise<void> {
  for (const r of repo.relays.all())
    if (isTerminal(r.state)) await releaseRelay(engine, repo, repo.getTarget(r.targetId));
}

/**
 * Objects of this data folder in the region's relay container that no live relay owns. Returns
 * how many were deleted.
 */
export async function sweepRelays(store: ObjectStoreClient, repo: JobRepository): Promise<number> {
  const install = repo.relays.installId();
  const listed = await store.list(RELAY_CONTAINER, `${install}/`);
  // Read after the listing: a relay's row is written before its first object, so every object
  // listed already has its row (a relay started meanwhile is not taken for an orphan).
  const live = new Set(
    repo.relays
      .all()
      .filter((r) => !isTerminal(r.state))
      .map((r) => r.prefix),
  );
  const orphans = listed.map((o) => o.name).filter((name) => !live.has(name.split('/').slice(0, 2).join('/')));
  await deleteAll(store, RELAY_CONTAINER, orphans);
  return orphans.length;
}
