/**
 * A synchronous call from a worker thread to the thread that started it, for the one thing the
 * engine needs synchronously and only the main thread has: the OS keychain (Electron's
 * safeStorage lives in the main process; the engine's SecretCodec is synchronous). The worker
 * posts the request on a dedicated port, sleeps on a shared counter (Atomics.wait) until the
 * main thread has answered, then takes the answer off the port without its event loop
 * (receiveMessageOnPort). Rare calls (saving or opening a secret), answered in microseconds by
 * a main thread that is otherwise idle; a main thread that never answers fails the call after
 * `timeoutMs` instead of hanging the engine.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { ErrorInfo } from '../../../../shared/errors';
import { EngineError, toErrorInfo } from '../../io/errors';

type Answer = { value: unknown } | { error: ErrorInfo };

/** The worker's side: `call` blocks this thread until the answer is there. */
export class SyncCaller {
  readonly #counter: Int32Array;

  constructor(
    private readonly port: MessagePort,
    signal: SharedArrayBuffer,
    private readonly timeoutMs = 60_000,
  ) {
    this.#counter = new Int32Array(signal);
  }

  call(request: unknown): unknown {
    const before = Atomics.load(this.#counter, 0);
    this.port.postMessage(request);
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const got = receiveMessageOnPort(this.port);
      if (got !== undefined) {
        const answer = got.message as Answer;
        if ('error' in answer) {
          const { code, message, ...extra } = answer.error;
          throw new EngineError(code, message, extra);
        }
        return answer.value;
      }
      const left = deadline - Date.now();
      if (left <= 0)
        throw new EngineError('ipc.engine_stopped', 'The app did not answer a keychain request in time.', {
          hint: 'A keychain prompt may be waiting on the desktop; answer it, or restart the app.',
        });
      Atomics.wait(this.#counter, 0, before, Math.min(left, 1000));
    }
  }
}

/** The main thread's side: answers each request, then wakes the worker. */
export function answerSyncCalls(
  port: MessagePort,
  signal: SharedArrayBuffer,
  answer: (request: unknown) => unknown,
): void {
  const counter = new Int32Array(signal);
  port.on('message', (request: unknown) => {
    let reply: Answer;
    try {
      reply = { value: answer(request) };
    } catch (e) {
      reply = { error: toErrorInfo(e) };
    }
    port.postMessage(reply);
    Atomics.add(counter, 0, 1);
    Atomics.notify(counter, 0);
  });
}
