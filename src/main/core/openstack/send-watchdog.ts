/**
 * An upload whose bytes stop being taken: the server (or a proxy, or a dead link that TCP has
 * not noticed yet) stops reading, the socket's buffers fill, and the client waits for ever.
 * undici's timeouts do not see it: the headers timeout starts once the body is sent, the body
 * timeout is the response's. This watches the request body from the consumer's side: a chunk
 * handed over and not taken within `idleMs` aborts the request, and the caller reports
 * `net.timeout`. Time spent producing the chunk (reading the file, the bandwidth limit) never
 * counts: only the wait at the hand-over.
 */
export interface SendWatchdog {
  body: AsyncIterable<Uint8Array>;
  signal: AbortSignal;
  /** True once the watchdog ended the request. */
  readonly stalled: boolean;
  stop: () => void;
}

export function sendWatchdog(source: AsyncIterable<Uint8Array>, idleMs: number, outer?: AbortSignal): SendWatchdog {
  const ctrl = new AbortController();
  let waitingSince: number | undefined;
  let stalled = false;
  const timer = setInterval(
    () => {
      if (waitingSince !== undefined && Date.now() - waitingSince > idleMs) {
        stalled = true;
        clearInterval(timer);
        ctrl.abort();
      }
    },
    Math.min(1000, Math.max(20, Math.floor(idleMs / 4))),
  );
  timer.unref();
  async function* watched(): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of source) {
        waitingSince = Date.now();
        yield chunk;
        waitingSince = undefined;
      }
    } finally {
      waitingSince = undefined;
      clearInterval(timer);
    }
  }
  return {
    // Given to the HTTP client as an iterable, not wrapped in a Readable that would read ahead:
    // the next chunk is asked for once the socket took the last.
    body: watched(),
    signal: outer !== undefined ? AbortSignal.any([outer, ctrl.signal]) : ctrl.signal,
    get stalled() {
      return stalled;
    },
    stop: () => clearInterval(timer),
  };
}
