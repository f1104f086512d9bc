/**
 * Calls and events between two threads over one MessagePort (the app's main thread and the
 * engine's worker). Requests carry an id and get exactly one answer, a value or an ErrorInfo
 * (rebuilt as an EngineError on the asking side, so codes survive the crossing); events have no
 * answer. When the other side goes away, every call still waiting fails with
 * `ipc.engine_stopped` instead of hanging.
 */
import type { MessagePort } from 'node:worker_threads';
import type { ErrorInfo } from '../../../../shared/errors';
import { EngineError, toErrorInfo } from '../../io/errors';

/** What a Worker and a MessagePort have in common for this purpose. */
export interface PortLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

type Message =
  | { rpc: 'req'; id: number; kind: string; payload: unknown }
  | { rpc: 'res'; id: number; value?: unknown; error?: ErrorInfo }
  | { rpc: 'event'; kind: string; payload: unknown };

function isMessage(m: unknown): m is Message {
  return typeof m === 'object' && m !== null && 'rpc' in m;
}

export class PortRpc {
  #next = 1;
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly #handlers = new Map<string, (payload: unknown) => unknown>();
  readonly #listeners = new Map<string, (payload: unknown) => void>();
  #closed: ErrorInfo | undefined;
  readonly #onMessage = (m: unknown): void => this.#receive(m);

  constructor(private readonly port: PortLike | MessagePort) {
    port.on('message', this.#onMessage);
  }

  /** Ask the other side; resolves with its answer, rejects with its error (code kept). */
  request<T>(kind: string, payload: unknown = null): Promise<T> {
    if (this.#closed !== undefined) return Promise.reject(new EngineError(this.#closed.code, this.#closed.message));
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.port.postMessage({ rpc: 'req', id, kind, payload } satisfies Message);
    });
  }

  /** Answer the other side's requests of this kind (a throw becomes its error). */
  handle(kind: string, handler: (payload: unknown) => unknown): void {
    this.#handlers.set(kind, handler);
  }

  emit(kind: string, payload: unknown): void {
    if (this.#closed === undefined) this.port.postMessage({ rpc: 'event', kind, payload } satisfies Message);
  }

  listen(kind: string, listener: (payload: unknown) => void): void {
    this.#listeners.set(kind, listener);
  }

  /** The other side is gone: fail what waits, refuse what comes. */
  close(reason: ErrorInfo): void {
    if (this.#closed !== undefined) return;
    this.#closed = reason;
    this.port.off('message', this.#onMessage);
    for (const w of this.#waiting.values())
      w.reject(new EngineError(reason.code, reason.message, { hint: reason.hint }));
    this.#waiting.clear();
  }

  #receive(m: unknown): void {
    if (!isMessage(m)) return;
    if (m.rpc === 'res') {
      const w = this.#waiting.get(m.id);
      this.#waiting.delete(m.id);
      if (m.error !== undefined) {
        const { code, message, ...extra } = m.error;
        w?.reject(new EngineError(code, message, extra));
      } else w?.resolve(m.value);
    } else if (m.rpc === 'event') this.#listeners.get(m.kind)?.(m.payload);
    else void this.#answer(m.id, m.kind, m.payload);
  }

  async #answer(id: number, kind: string, payload: unknown): Promise<void> {
    let answer: Message;
    try {
      const handler = this.#handlers.get(kind);
      if (handler === undefined) throw new EngineError('ipc.unknown_method', `Nothing answers "${kind}" here.`);
      answer = { rpc: 'res', id, value: await handler(payload) };
    } catch (e) {
      answer = { rpc: 'res', id, error: toErrorInfo(e) };
    }
    if (this.#closed === undefined) this.port.postMessage(answer);
  }
}
