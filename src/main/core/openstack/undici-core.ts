/**
 * undici's Agent and request, loaded without the rest of undici. Its index also loads fetch,
 * WebSocket, caches, mocks and Node's own copy of undici: 0.13 CPU-seconds at the start of every
 * command (measured: `node -e "require('undici')"` against these two files), for nothing the
 * engine uses. The paths are undici 7's; the HTTP client's tests fail at once if an update moves
 * them.
 */
import AgentClass from 'undici/lib/dispatcher/agent.js';
import requestApi from 'undici/lib/api/api-request.js';
import type { Agent, Dispatcher } from 'undici';

export const UndiciAgent = AgentClass;

/** undici's `request(url, { dispatcher })`: the URL split into origin and path, as its index does. */
export function undiciRequest(
  agent: Agent,
  url: string,
  opts: Omit<Dispatcher.RequestOptions, 'origin' | 'path'>,
): Promise<Dispatcher.ResponseData> {
  const u = new URL(url);
  return requestApi.call(agent, { ...opts, origin: u.origin, path: `${u.pathname}${u.search}` });
}
