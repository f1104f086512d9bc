/**
 * One rule for every service call that carries a token (Glance, the object store): send with
 * the session's current token; on 401, authenticate once more and send once more. A second 401
 * is the answer. Bodies are factories, so a resent request starts from its first byte.
 */
import type { KeystoneSession } from './keystone-session';

export async function withToken<R extends { status: number }>(
  session: KeystoneSession,
  send: (token: string) => Promise<R>,
  /** Releases an answer that is thrown away (a streamed body). */
  drop: (r: R) => void,
): Promise<R> {
  const first = await session.auth();
  const res = await send(first.token);
  if (res.status !== 401) return res;
  drop(res);
  session.invalidate(first.token);
  const again = await session.auth();
  return send(again.token);
}
