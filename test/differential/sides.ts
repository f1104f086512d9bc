/**
 * One side of the differential suite: a Glance (the reference, or the embedded server), a
 * recording proxy in front of it, and one Python driver process that runs every scenario through
 * the real clients against that proxy. `runSide` gives back the driver's outcomes and the proxy's
 * exchanges, raw; transcript.ts pairs and normalises them.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { RecordingProxy, type Exchange } from './recording-proxy';

/** Debian's interpreter: a pyenv python3 may come first on PATH and lack the OpenStack clients. */
export const PYTHON = '/usr/bin/python3';
export const DRIVER = join(import.meta.dirname, '..', 'support', 'glance_diff_driver.py');
/** No __pycache__ folders in the checkout. */
const NO_PYCACHE = { PYTHONDONTWRITEBYTECODE: '1' };

export type Role = 'member' | 'admin' | 'second';
export interface SideUser {
  username: string;
  password: string;
  project: string;
}

export interface SideSpec {
  side: 'reference' | 'local';
  glanceUrl: string;
  authUrl: string;
  region: string;
  users: Record<Role, SideUser>;
  /** Values that must differ between the sides, literally, and the symbol each one becomes. */
  symbols: [string, string][];
}

export interface RunInput {
  tag: string;
  dataFile: string;
  webUrl: string;
  workDir: string;
  only?: string[];
}

export interface StepOutcome {
  label: string;
  client: string;
  role: string;
  call: string;
  outcome: unknown;
}

export interface ScenarioOutcome {
  stopped: string | null;
  driverError: string | null;
  steps: StepOutcome[];
  seconds: number;
}

export interface SideRun {
  spec: SideSpec;
  results: Record<string, ScenarioOutcome>;
  exchanges: Exchange[];
  /** The proxy's address, as the clients saw it (normalised away). */
  proxyUrl: string;
  /** The driver's folder (downloads land there; normalised away). */
  workDir: string;
  stderr: string;
  ms: number;
}

export interface CatalogueEntry {
  id: string;
  client: 'sdk' | 'openstack' | 'glance';
  role: Role;
  title: string;
}

function python(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      PYTHON,
      args,
      { env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${DRIVER} failed: ${err.message}\n${stderr.slice(-4000)}`));
        else resolve({ stdout, stderr });
      },
    );
    child.stdin?.end(); // nothing to read: a client waiting on stdin ends at once
  });
}

/** Run every scenario on one side, through a recording proxy in front of its Glance. */
export async function runSide(spec: SideSpec, input: RunInput): Promise<SideRun> {
  const t0 = Date.now();
  const proxy = new RecordingProxy(spec.glanceUrl);
  const proxyUrl = await proxy.start();
  const workDir = join(input.workDir, spec.side);
  try {
    mkdirSync(workDir, { recursive: true });
    const out = join(workDir, 'outcomes.json');
    const config = join(workDir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        side: spec.side,
        workDir,
        authUrl: spec.authUrl,
        region: spec.region,
        imageUrl: proxyUrl,
        users: spec.users,
        tag: input.tag,
        dataFile: input.dataFile,
        webUrl: input.webUrl,
        only: input.only ?? [],
        out,
      }),
    );
    const env = { PATH: '/usr/bin:/bin', HOME: workDir, LANG: 'C.UTF-8', PYTHONIOENCODING: 'utf-8', ...NO_PYCACHE };
    const { stderr } = await python([DRIVER, config], env, Number(process.env.DIFF_DRIVER_TIMEOUT_MS ?? 300_000));
    const results = JSON.parse(readFileSync(out, 'utf8')) as Record<string, ScenarioOutcome>;
    return { spec, results, exchanges: proxy.exchanges, proxyUrl, workDir, stderr, ms: Date.now() - t0 };
  } finally {
    await proxy.close();
  }
}

/** The web-download source both sides fetch from: the same bytes at the same URL. */
export async function startDataServer(data: Buffer): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    // Content-Length as a file server sends it: Glance 25's web-download fails on a chunked answer
    // (TypeError: int() of None, in its size check)
    if (req.url === '/image.raw')
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length }).end(data);
    else res.writeHead(404, { 'content-type': 'text/plain' }).end('not here\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The scenarios the driver knows, read when the test file is collected (it imports no client). */
export function loadCatalogue(): CatalogueEntry[] {
  return JSON.parse(
    execFileSync(PYTHON, [DRIVER, '--list'], { encoding: 'utf8', env: { ...process.env, ...NO_PYCACHE } }),
  ) as CatalogueEntry[];
}
