/**
 * Both halves of the renderer's API, built from the contract's method list:
 * - createBridge (in the preload, or the browser-test bridge): one method per contract entry
 *   that sends the call over a transport and answers the envelope as plain data;
 * - createApi (in the renderer's own world): unwraps envelopes, throwing an ApiError with the
 *   stable code, so `instanceof ApiError` and `err.code` work where the UI needs them.
 */
import { ApiError, isErrorCode } from '../errors';
import {
  API_METHODS,
  type Api,
  type ApiEvent,
  type ApiMethod,
  type Bridge,
  type Envelope,
  type EventSubscription,
} from './contract';

export type Transport = (method: ApiMethod, args: unknown[]) => Promise<Envelope<unknown>>;

/** How events arrive: listen to the event channel, and say once that the page is ready. */
export interface EventTransport {
  listen: (deliver: (event: ApiEvent) => void) => void;
  ready: () => void;
}

/**
 * The event half of the bridge: one transport listener shared by every subscriber (events are
 * plain data, copied to each), and "ready" sent when the first subscriber arrives.
 */
function eventSubscription(events: EventTransport | undefined): EventSubscription {
  const listeners = new Set<(event: ApiEvent) => void>();
  let started = false;
  return {
    onEvent: (listener) => {
      listeners.add(listener);
      if (!started && events !== undefined) {
        started = true;
        events.listen((event) => {
          for (const l of listeners) l(event);
        });
        events.ready();
      }
      return () => listeners.delete(listener);
    },
  };
}

export function createBridge(
  transport: Transport,
  events?: EventTransport,
  pathForFile: (file: File) => string = () => '',
): Bridge {
  const bridge: Record<string, unknown> = { ...eventSubscription(events), pathForFile };
  for (const method of API_METHODS) bridge[method] = (...args: unknown[]) => transport(method, args);
  return Object.freeze(bridge) as unknown as Bridge;
}

export function createApi(bridge: Bridge): Api {
  const api: Record<string, unknown> = {
    onEvent: (l: (e: ApiEvent) => void) => bridge.onEvent(l),
    pathForFile: (f: File) => bridge.pathForFile(f),
  };
  for (const method of API_METHODS) {
    const call = bridge[method] as (...args: unknown[]) => Promise<Envelope<unknown>>;
    api[method] = async (...args: unknown[]): Promise<unknown> => {
      const envelope = await call(...args);
      if ('error' in envelope) {
        const e = envelope.error;
        throw new ApiError({ ...e, code: isErrorCode(e.code) ? e.code : 'internal' });
      }
      return envelope.result;
    };
  }
  return Object.freeze(api) as unknown as Api;
}
