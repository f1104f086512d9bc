/**
 * `glance-uploader serve`: the embedded Glance-compatible server, standalone, until Ctrl-C.
 * `--write-clouds-yaml FILE` writes (or merges into FILE) the cloud entries `local` (the member
 * user) and `local-admin` (the admin) with this server's auth URL and their credentials, so
 * `openstack --os-cloud local image list` just works.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { ensureDataHome, localServerDir } from '../io/data-home';
import { EngineError } from '../io/errors';
import { LOCAL_REGION, localCloudBlock } from '../distribution/local-cloud';
import { StagingServer, type StagingServerOptions } from '../local-glance/server';
import { removeServerInfo, writeServerInfo } from '../local-glance/server-process';
import { parseSize, requireInt, UsageError } from './args';
import { EXIT } from './exit-codes';
import { out, parse, type CliIo, type Parsed } from './io';

export const SERVE_HELP = `Usage: glance-uploader serve [--bind 127.0.0.1] [--port 9292] [--data DIR]
                            [--write-clouds-yaml FILE] [--cloud-name local]
                            [--cors-origin ORIGIN]... [--size-cap SIZE] [--quota-bytes SIZE]
                            [--max-images N] [--web-download [--web-download-allow-local]]
                            [--stores NAME,NAME2...] [--no-pack]

A local server that behaves like Glance (Image API v2) with a minimal Keystone v3 under
/identity/v3, for staging images offline. Images live in DIR (default: the data folder's
"staging-server"). Its users are made at first start and kept there: "local", a member of the
project "local" (and of a second project, "local-other"), and "local-admin", its admin; Glance's
default policy applies to each (only an admin makes images public or copies between stores).
--write-clouds-yaml writes (or merges) clouds.yaml entries NAME and NAME-admin for them, for
other clients (openstack, glance, openstacksdk); glance-uploader's own commands reach the data
folder's server as the clouds "local" and "local-admin" whatever its port, and ignore
clouds.yaml entries of those names. --cors-origin lets a web
page of that origin call it (Glance's CORS defaults). --size-cap caps one image, --quota-bytes
all of them (images still uploading count), both with binary suffixes (20G); --max-images
caps their number. --web-download offers the web-download import method (off by default;
loopback and private addresses refused unless --web-download-allow-local). --stores makes it
multi-store (the first is the default) and offers copy-image between them. A raw image is kept
as a compressed qcow2 of itself once it is active (its zeros and repeats take no room; reads,
ranges and digests are the raw image's, as before); --no-pack keeps images as they were sent.
Stops with Ctrl-C,
or, with --exit-with-parent, when the process that started it ends (stage and sync use it).`;

/** Resolves when the process that started this one is gone (this one was adopted by another). */
function parentGone(): Promise<void> {
  const parent = process.ppid;
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (process.ppid === parent) return;
      clearInterval(timer);
      resolve();
    }, 500);
    timer.unref(); // the listening server keeps the process up; this timer must not once it stops
  });
}

/** Write or merge a clouds.yaml entry for the server (mode 0600: it holds a password). */
export function writeCloudsYaml(file: string, name: string, server: StagingServer): void {
  let doc: { clouds?: Record<string, unknown> } = {};
  if (existsSync(file)) {
    try {
      doc = (parseYaml(readFileSync(file, 'utf8')) as typeof doc | null) ?? {};
    } catch (e) {
      throw new EngineError('config.invalid', `${file} is not valid YAML: ${(e as Error).message}`, {
        hint: 'Fix it, or write the entry to another file.',
      });
    }
  }
  doc.clouds = {
    ...(doc.clouds ?? {}),
    [name]: localCloudBlock(server.authUrl, server.creds),
    [`${name}-admin`]: localCloudBlock(server.authUrl, server.creds, 'admin'),
  };
  writeFileSync(file, stringify(doc), { mode: 0o600 });
  chmodSync(file, 0o600); // a file that existed keeps its mode otherwise, and this one holds passwords
}

const SERVE_OPTIONS = {
  bind: { type: 'string' },
  port: { type: 'string' },
  data: { type: 'string' },
  'write-clouds-yaml': { type: 'string' },
  'cloud-name': { type: 'string' },
  'cors-origin': { type: 'string', multiple: true },
  'size-cap': { type: 'string' },
  'quota-bytes': { type: 'string' },
  'max-images': { type: 'string' },
  'web-download': { type: 'boolean' },
  stores: { type: 'string' },
  'web-download-allow-local': { type: 'boolean' },
  'exit-with-parent': { type: 'boolean' },
  'no-pack': { type: 'boolean' },
} as const;

type ServeValues = Parsed<typeof SERVE_OPTIONS>['values'];

export async function serveCommand(args: string[], io: CliIo): Promise<number> {
  const p = parse(args, SERVE_OPTIONS);
  if (p.values.help === true) return (out(io, SERVE_HELP), EXIT.ok);
  if (p.positionals.length > 0)
    throw new UsageError(`serve takes no argument (got "${p.positionals[0]}").`, SERVE_HELP.split('\n')[0] ?? '');
  const v = p.values;
  const port = requireInt('--port', v.port) ?? 9292;
  const dataDir = v.data ? resolve(io.cwd, v.data) : ensureDataHome(localServerDir(io.env)); // the folder the engine's cloud `local` reads (owner-only)
  const server = new StagingServer({
    dataDir,
    host: v.bind ?? '127.0.0.1',
    port,
    ...serverLimits(v),
    packImages: v['no-pack'] !== true,
    log: (l) => io.stderr.write(`${l}\n`),
  });
  await listen(server, v.bind ?? '127.0.0.1', port);
  const cloudsFile = v['write-clouds-yaml'];
  const cloudName = v['cloud-name'] ?? 'local';
  if (cloudsFile !== undefined) writeCloudsYaml(resolve(io.cwd, cloudsFile), cloudName, server);
  // Announced before the ready line below: whoever waits for that line finds the file.
  writeServerInfo(dataDir, { pid: process.pid, url: server.url, authUrl: server.authUrl });
  if (v.json === true)
    out(
      io,
      JSON.stringify({
        url: server.url,
        authUrl: server.authUrl,
        region: LOCAL_REGION,
        dataDir,
        cloudsYaml: cloudsFile ?? null,
      }),
    );
  else {
    out(io, `Glance-compatible server on ${server.url} (Keystone: ${server.authUrl}, region ${LOCAL_REGION})`);
    out(io, `images in ${dataDir}`);
    if (cloudsFile !== undefined) out(io, `clouds.yaml entry "${cloudName}" written to ${cloudsFile}`);
    out(io, 'Ctrl-C stops it.');
  }
  try {
    const stops = [io.interrupted ?? new Promise<void>(() => undefined)];
    if (v['exit-with-parent'] === true) stops.push(parentGone());
    await Promise.race(stops);
  } finally {
    removeServerInfo(dataDir, process.pid);
    await server.close();
  }
  return EXIT.ok;
}

/** CORS, size cap, quota, image count, stores and web-download, from the options. */
function serverLimits(v: ServeValues): Partial<StagingServerOptions> {
  return {
    cors: { allowedOrigins: v['cors-origin'] ?? [] },
    ...(v['size-cap'] !== undefined ? { sizeCap: parseSize('--size-cap', v['size-cap']) } : {}),
    ...(v['quota-bytes'] !== undefined ? { quotaBytes: parseSize('--quota-bytes', v['quota-bytes']) } : {}),
    maxImages: requireInt('--max-images', v['max-images']) ?? 0,
    ...(v.stores !== undefined
      ? {
          stores: v.stores
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean),
        }
      : {}),
    webDownload: { enabled: v['web-download'] === true, allowLocal: v['web-download-allow-local'] === true },
  };
}

async function listen(server: StagingServer, host: string, port: number): Promise<void> {
  try {
    await server.start();
  } catch (e) {
    await server.close();
    const code = (e as NodeJS.ErrnoException).code;
    throw new EngineError('config.invalid', `Cannot listen on ${host}:${port}: ${(e as Error).message}`, {
      hint:
        code === 'EADDRINUSE'
          ? 'Another server uses that port: give --port (0 picks a free one).'
          : 'Check --bind and --port.',
    });
  }
}
