/**
 * An HTTP proxy on 127.0.0.1 between the engine and Glance that injects faults by rule: an
 * answer of its own before the request reaches Glance, or in place of Glance's real answer
 * (Glance did the work, the client never hears it), a connection reset after some request-body
 * bytes, or a stall. Every rule fires a bounded number of times; the log says what happened.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export type Fault =
  | {
      kind: 'status';
      status: number;
      after?: 'before-forward' | 'after-forward';
      /** The answer's body (JSON), made from the request's (before-forward only). */
      body?: (requestBody: string) => string;
    }
  | { kind: 'reset'; afterBytes: number }
  /** Holds the request this long before forwarding it (the client waits for headers). */
  | { kind: 'stall'; ms: number }
  /** Stops reading the request body after `afterBytes` for `ms` (the client cannot send). */
  | { kind: 'stall-body'; afterBytes: number; ms: number }
  /** Changes one byte of the request body at `atByte` (same length): the server stores other content. */
  | { kind: 'corrupt'; atByte: number };

export interface FaultRule {
  method: string;
  path: RegExp;
  fault: Fault;
  /** How many matching requests get the fault (then it is used up). */
  times: number;
  /** Skip this many matching requests first. */
  skip?: number;
  /** Only requests this holds for (a header present or not, say). */
  when?: (req: IncomingMessage) => boolean;
}

export interface ProxyLogEntry {
  method: string;
  path: string;
  fault?: Fault['kind'];
  status?: number;
  /** Request-body bytes the proxy received from the client (what crossed the wire). */
  bytesIn: number;
  /** The request carried a token (X-Auth-Token): the engine, not Glance fetching a TempURL. */
  token: boolean;
}

export interface FaultProxy {
  url: string;
  log: ProxyLogEntry[];
  close: () => Promise<void>;
}

function send(res: ServerResponse, status: number, own?: string): void {
  const body =
    own ??
    JSON.stringify({
      message: `injected ${status} by the fault proxy`,
      code: `${status}`,
      title: 'Injected',
    });
  res
    .writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-openstack-request-id': 'req-fault-proxy',
    })
    .end(body);
}

export async function startFaultProxy(upstream: string, rules: FaultRule[]): Promise<FaultProxy> {
  const target = new URL(upstream);
  const log: ProxyLogEntry[] = [];
  const seen = new Map<FaultRule, number>();

  const forward = (
    req: IncomingMessage,
    onResponse: (up: IncomingMessage) => void,
    onError: () => void,
  ): ReturnType<typeof request> => {
    const up = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      onResponse,
    );
    up.on('error', onError);
    return up;
  };

  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    const rule = rules.find((r) => {
      if (r.method !== req.method || !r.path.test(path) || (r.when !== undefined && !r.when(req))) return false;
      const n = (seen.get(r) ?? 0) + 1;
      seen.set(r, n);
      return n > (r.skip ?? 0) && n <= (r.skip ?? 0) + r.times;
    });
    const entry: ProxyLogEntry = {
      method: req.method ?? '',
      path,
      fault: rule?.fault.kind,
      bytesIn: 0,
      token: req.headers['x-auth-token'] !== undefined,
    };
    log.push(entry);
    // Counted where the body is consumed: a 'data' listener starts the flow, and a stalled
    // request must not flow before it is piped.
    const count = (): void => void req.on('data', (chunk: Buffer) => (entry.bytesIn += chunk.length));
    const fault = rule?.fault;
    if (fault?.kind === 'status' && (fault.after ?? 'before-forward') === 'before-forward') {
      count();
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => send(res, fault.status, fault.body?.(Buffer.concat(chunks).toString('utf8'))));
      entry.status = fault.status;
      return;
    }
    const pass = (): void => {
      count();
      const up = forward(
        req,
        (upRes) => {
          if (fault?.kind === 'status') {
            upRes.resume();
            upRes.on('end', () => send(res, fault.status));
            entry.status = fault.status;
            return;
          }
          entry.status = upRes.statusCode;
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        },
        () => res.destroy(),
      );
      if (fault?.kind === 'reset') {
        let bytes = 0;
        req.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes >= fault.afterBytes) {
            // The client sees its connection reset; Glance sees its client go away.
            req.socket.resetAndDestroy();
            up.destroy();
          }
        });
      }
      if (fault?.kind === 'stall-body' || fault?.kind === 'corrupt') {
        let bytes = 0;
        let stalled = false;
        req.on('data', (chunk: Buffer) => {
          if (fault.kind === 'corrupt' && fault.atByte >= bytes && fault.atByte < bytes + chunk.length) {
            chunk = Buffer.from(chunk);
            const i = fault.atByte - bytes;
            chunk[i] = (chunk[i] ?? 0) ^ 0xff;
          }
          bytes += chunk.length;
          up.write(chunk);
          if (fault.kind === 'stall-body' && !stalled && bytes >= fault.afterBytes) {
            stalled = true;
            req.pause();
            setTimeout(() => req.resume(), fault.ms);
          }
        });
        req.on('end', () => up.end());
        res.on('close', () => {
          if (!res.writableFinished) up.destroy();
        });
        return;
      }
      // A client that goes away (a killed engine) closes Glance's side too, as on a real path;
      // else Glance would wait for the rest of the body with the image in `saving`.
      res.on('close', () => {
        if (!res.writableFinished) up.destroy();
      });
      req.pipe(up);
    };
    if (fault?.kind === 'stall') setTimeout(pass, fault.ms);
    else pass();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
