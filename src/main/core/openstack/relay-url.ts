/**
 * The URL Glance fetches a relayed image from: a TempURL of the SLO manifest, signed with a
 * temp-url key, valid long enough for the import and no longer (Glance keeps the URL in its task
 * records and echoes it in some errors).
 *
 * The key, least reach first:
 * 1. one the account already has (never replaced: other tools' URLs depend on it);
 * 2. one our container already has;
 * 3. a new key on OUR container: it signs URLs to our own objects only, and touches nothing else;
 * 4. a new account key, only when the user allowed it (relayAccountKey);
 * otherwise objectstore.temp_url_key_missing says what is missing. Keys are owner-only headers:
 * Swift silently drops them for a user without an operator role, so each new key is read back.
 * Two relays that find no key may both set one; the later wins, and a URL signed with the
 * earlier is refused: the check before the import, or the import's second round with a new
 * URL, takes the key that stayed.
 */
import { randomBytes } from 'node:crypto';
import { EngineError } from '../io/errors';
import type { ObjectStoreClient } from './object-store-client';
import { pickDigest, redactTempUrl, tempUrl } from './temp-url';

/** The container relays write to (made when missing, removed when a relay leaves it empty). */
export const RELAY_CONTAINER = 'glance-uploader-relay';

export interface RelayUrlOptions {
  container: string;
  object: string;
  /** The user allows setting the account's temp-url key when nothing else works. */
  allowAccountKey: boolean;
  /** Seconds the URL stays valid. */
  ttlS: number;
  now?: number;
}

async function keyFor(store: ObjectStoreClient, o: RelayUrlOptions): Promise<{ key: string; where: string }> {
  const [account] = await store.accountTempUrlKeys();
  if (account !== undefined) return { key: account, where: 'account' };
  const [container] = await store.containerTempUrlKeys(o.container);
  if (container !== undefined) return { key: container, where: 'container' };
  const fresh = randomBytes(32).toString('hex');
  await store.setContainerTempUrlKey(o.container, fresh);
  // Read back: Swift drops the header for a user who is not the account's owner; and a relay
  // running beside this one may have set its own key meanwhile (the last one set is the key).
  const [now] = await store.containerTempUrlKeys(o.container);
  if (now !== undefined) return { key: now, where: now === fresh ? 'container (new)' : 'container' };
  if (o.allowAccountKey) {
    await store.setAccountTempUrlKey(fresh);
    if ((await store.accountTempUrlKeys()).includes(fresh)) return { key: fresh, where: 'account (new)' };
  }
  throw new EngineError(
    'objectstore.temp_url_key_missing',
    'The object store has no temp-url key this user may use, and may not set one on the container.',
    {
      hint: o.allowAccountKey
        ? 'Setting a temp-url key needs an operator role in the object store (swift_owner); ask the cloud operator for one, or use --method direct.'
        : 'Allow the relay to set the account temp-url key (`glance-uploader settings set relayAccountKey true`, or Settings in the app), ask the operator to set one (swift post -m Temp-URL-Key:...), or use --method direct.',
    },
  );
}

/** A TempURL for GET of the object, and where its key came from. */
export async function relayUrl(store: ObjectStoreClient, o: RelayUrlOptions): Promise<{ url: string; key: string }> {
  const { key, where } = await keyFor(store, o);
  const info = await store.info();
  const expires = Math.floor((o.now ?? Date.now()) / 1000) + Math.ceil(o.ttlS);
  const url = tempUrl({
    origin: store.origin,
    path: store.pathOf(o.container, o.object),
    key,
    expires,
    digest: pickDigest(info.tempurl?.allowed_digests),
  });
  return { url, key: where };
}

/** How long a relay's URL is valid: an hour, plus the size at a slow 10 MiB/s, doubled per retry. */
export function relayUrlTtlS(size: number, round: number): number {
  return (3600 + size / (10 * 1024 * 1024)) * 2 ** Math.max(0, round - 1);
}

/**
 * Whether the URL works without a token (a one-byte GET): 401 means Swift refused the signature
 * (expired, or the key changed) before Glance ever tried.
 */
export async function assertUrlWorks(store: ObjectStoreClient, url: string): Promise<void> {
  const status = await store.probe(url);
  if (status === 200 || status === 206) return;
  throw new EngineError(
    status === 401 ? 'objectstore.temp_url_rejected' : 'objectstore.http',
    `The object store answered HTTP ${status} to the relay's TempURL (without a token).`,
    {
      status,
      hint:
        status === 401
          ? 'The signature was refused (the key changed, or the clocks differ by hours); a new URL is made on the next attempt.'
          : 'The manifest cannot be read; the relay is tried again.',
    },
  );
}

/**
 * Glance's web-download URL filter ([import_filtering_opts]) refused the TempURL: a coded error
 * that says so, without the signature Glance echoes (other errors are returned as they are).
 */
export function urlFilteredError(e: unknown, origin: string): unknown {
  if (!(e instanceof EngineError && e.code === 'glance.bad_request' && /filtering/i.test(e.message))) return e;
  return new EngineError('glance.url_filtered', redactTempUrl(e.message), {
    status: e.info.status,
    hint: `Glance's web-download filter ([import_filtering_opts]) does not allow the object store at ${origin}; the operator must allow its host and port (allowed_hosts, allowed_ports), or use --method direct.`,
  });
}

/** The same error with any TempURL signature in its message hidden (Glance quotes URLs). */
export function withoutSignature(e: unknown): unknown {
  if (!(e instanceof EngineError)) return e;
  const message = redactTempUrl(e.message);
  const { code, message: _, ...rest } = e.info;
  return message === e.message ? e : new EngineError(code, message, rest);
}

/**
 * A TempURL that works now without a token: made and checked, and made once more when Swift
 * refused it (another relay replaced the container's key between our read and our signature).
 */
export async function workingRelayUrl(
  store: ObjectStoreClient,
  o: RelayUrlOptions,
): Promise<{ url: string; key: string }> {
  const first = await relayUrl(store, o);
  try {
    await assertUrlWorks(store, first.url);
    return first;
  } catch (e) {
    if (!(e instanceof EngineError && e.code === 'objectstore.temp_url_rejected')) throw e;
    const again = await relayUrl(store, o);
    await assertUrlWorks(store, again.url);
    return again;
  }
}
