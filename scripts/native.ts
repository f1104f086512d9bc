/**
 * Builds better-sqlite3's native module for one runtime into its own folder (the layout and the
 * choice at run time: src/main/core/sqlite/native-binding.ts), never over the build `npm ci`
 * made for the Node.js that ran it:
 *
 *   npm run native                           the Node.js running this
 *   npm run native -- --runtime electron     the Electron version in package.json
 *   npm run native -- --node /path/to/node   another Node.js (headers from its own folder when it has them)
 *
 * Nothing happens when the file is there (--force builds again). The build runs in a copy of
 * better-sqlite3's sources next to the target folder and its result is renamed into place, so a
 * crash leaves no half-written module. `npm start` and `npm run dist` call `ensureNative`.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { EngineError } from '../src/main/core/io/errors';
import {
  BINDING_FILE,
  bindingFile,
  nativeRoot,
  runtimeKey,
  sqlitePackageDir,
  sqliteVersion,
  type RuntimeId,
} from '../src/main/core/sqlite/native-binding';
import { fail, projectRoot, runMain, usage } from './script-kit';

const requireHere = createRequire(import.meta.url);

export interface NativeTarget {
  runtime: RuntimeId;
  /** The Node.js binary to verify a node build with (absent for Electron). */
  node?: string;
  /** Headers to build against without a download (a Node.js folder with include/node). */
  nodedir?: string;
}

/** The Electron of package.json: its version and ABI come with the npm package, no binary needed. */
export function electronTarget(root = projectRoot): NativeTarget {
  const dir = join(root, 'node_modules', 'electron');
  const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  const abi = readFileSync(join(dir, 'abi_version'), 'utf8').trim();
  return { runtime: { runtime: 'electron', version, abi, platform: process.platform, arch: process.arch } };
}

/** A Node.js binary: asked for its version and ABI; its own folder's headers when it carries them. */
export function nodeTarget(node: string = process.execPath): NativeTarget {
  const r = spawnSync(
    node,
    ['-p', 'JSON.stringify([process.versions.node, process.versions.modules, process.platform, process.arch])'],
    { encoding: 'utf8' },
  );
  if (r.status !== 0)
    fail(
      'setup.native_build_failed',
      `${node} did not run: ${r.stderr || r.error?.message}`,
      'Give the path of a Node.js binary.',
    );
  const [version, abi, platform, arch] = JSON.parse(r.stdout) as string[];
  const home = dirname(dirname(node));
  const nodedir = existsSync(join(home, 'include', 'node', 'node.h')) ? home : undefined;
  return {
    runtime: { runtime: 'node', version: version!, abi: abi!, platform: platform!, arch: arch! },
    node,
    ...(nodedir !== undefined ? { nodedir } : {}),
  };
}

export function targetFile(t: NativeTarget, env: NodeJS.ProcessEnv = process.env): string {
  return bindingFile(nativeRoot(projectRoot, env), sqliteVersion(), runtimeKey(t.runtime));
}

interface Attempt {
  what: string;
  args: string[];
}

/** How to get the module: a prebuilt for the exact runtime first (no compiler), then a build from source. */
function attempts(t: NativeTarget): Attempt[] {
  const { runtime: r } = t;
  const prebuild = join(dirname(requireHere.resolve('prebuild-install/package.json')), 'bin.js');
  const gyp = requireHere.resolve('node-gyp/bin/node-gyp.js');
  const jobs = `--jobs=${Math.max(1, Math.min(4, availableParallelism()))}`;
  const fromPrebuilt: Attempt = {
    what: `a prebuilt module for ${r.runtime} ${r.version}`,
    args: [prebuild, '--runtime', r.runtime, '--target', r.version, '--arch', r.arch, '--platform', r.platform],
  };
  if (r.runtime === 'electron') {
    return [
      fromPrebuilt,
      {
        what: `a build from source against Electron ${r.version}'s headers`,
        args: [
          gyp,
          'rebuild',
          '--release',
          jobs,
          `--target=${r.version}`,
          `--arch=${r.arch}`,
          '--dist-url=https://electronjs.org/headers',
        ],
      },
    ];
  }
  if (t.nodedir !== undefined) {
    return [
      {
        what: `a build from source against ${t.nodedir}/include/node`,
        args: [gyp, 'rebuild', '--release', jobs, `--nodedir=${t.nodedir}`],
      },
    ];
  }
  return [
    fromPrebuilt,
    {
      what: `a build from source against Node.js ${r.version}'s headers`,
      args: [gyp, 'rebuild', '--release', jobs, `--target=${r.version}`, `--arch=${r.arch}`],
    },
  ];
}

function buildHint(r: RuntimeId): string {
  const compiler =
    process.platform === 'win32'
      ? 'Visual Studio Build Tools with "Desktop development with C++"'
      : process.platform === 'darwin'
        ? 'the Xcode command line tools (xcode-select --install)'
        : 'python3, make and g++ (apt-get install python3 make g++)';
  return (
    `A build from source needs ${compiler}` +
    (r.runtime === 'electron' ? `, and Electron's headers are downloaded (network, or HTTPS_PROXY)` : '') +
    '. Then run the same command again.'
  );
}

/**
 * The environment of a build: npm passes its config to scripts as npm_config_* variables, and
 * node-gyp and prebuild-install read them over their arguments (a machine-wide `nodedir=/usr`
 * would build against the system's Node.js headers whatever the target). Proxies stay.
 */
function buildEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const targetKeys =
    /^npm_config_(nodedir|target|target_arch|arch|platform|runtime|disturl|dist_url|build_from_source|devdir)$/i;
  return Object.fromEntries(Object.entries(env).filter(([k]) => !targetKeys.test(k)));
}

/** Loads the module in the runtime it was built for, when that runtime is at hand. */
function verify(t: NativeTarget, file: string): string | undefined {
  if (t.node === undefined) return undefined; // Electron's binary may not be here: checked at the app's start
  const code = `const D = require(${JSON.stringify(sqlitePackageDir())}); new D(':memory:', { nativeBinding: ${JSON.stringify(file)} }).close();`;
  const r = spawnSync(t.node, ['-e', code], { encoding: 'utf8' });
  if (r.status === 0) return undefined;
  const lines = (r.stderr || String(r.error)).split('\n').filter((l) => /Error|error:/.test(l));
  return (lines[0] ?? r.stderr).trim();
}

export interface EnsureResult {
  file: string;
  built: boolean;
}

/** Makes sure the module for `t` is in its folder; builds it when missing (or `force`). */
export function ensureNative(
  t: NativeTarget,
  o: { force?: boolean; env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {},
): EnsureResult {
  const env = o.env ?? process.env;
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const file = targetFile(t, env);
  if (existsSync(file) && o.force !== true) return { file, built: false };
  const r = t.runtime;
  log(
    `Building SQLite's native module for ${r.runtime} ${r.version} (ABI ${r.abi}, ${r.platform}-${r.arch}) into ${dirname(file)}`,
  );
  const work = `${dirname(file)}.build-${process.pid}`;
  const logFile = `${dirname(file)}.build.log`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const source = sqlitePackageDir();
  for (const part of ['binding.gyp', 'package.json', 'deps', 'src'])
    cpSync(join(source, part), join(work, part), { recursive: true });
  const tried: string[] = [];
  let transcript = '';
  try {
    for (const a of attempts(t)) {
      // node-gyp takes the build's settings (config.gypi) from the Node.js that runs it: the target's own.
      const p = spawnSync(t.node ?? process.execPath, a.args, { cwd: work, encoding: 'utf8', env: buildEnv(env) });
      transcript += `\n$ node ${a.args.join(' ')}\n${p.stdout ?? ''}${p.stderr ?? ''}`;
      const out = join(work, 'build', 'Release', BINDING_FILE);
      if (p.status === 0 && existsSync(out)) {
        const broken = verify(t, out);
        if (broken === undefined) {
          mkdirSync(dirname(file), { recursive: true });
          renameSync(out, file);
          writeFileSync(
            join(dirname(file), 'build.json'),
            `${JSON.stringify({ runtime: r, sqlite: sqliteVersion(), how: a.what, at: new Date().toISOString() }, null, 2)}\n`,
          );
          log(`  done: ${a.what}`);
          return { file, built: true };
        }
        tried.push(`${a.what}: it does not load (${broken})`);
      } else {
        tried.push(`${a.what}: failed (${p.error?.message ?? `exit ${p.status}`})`);
      }
      rmSync(join(work, 'build'), { recursive: true, force: true });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(dirname(logFile), { recursive: true });
    writeFileSync(logFile, transcript);
  }
  throw new EngineError(
    'setup.native_build_failed',
    `SQLite's native module for ${r.runtime} ${r.version} (ABI ${r.abi}) could not be made. Tried ${tried.join('; ')}.`,
    { hint: `${buildHint(r)} The whole output is in ${logFile}.` },
  );
}

function parseArgs(argv: string[]): { target: NativeTarget; force: boolean } {
  let runtime = 'node';
  let node: string | undefined;
  let force = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--runtime') runtime = argv[++i] ?? '';
    else if (a === '--node') node = argv[++i];
    else if (a === '--force') force = true;
    else usage(`unknown argument ${a}. Usage: npm run native -- [--runtime node|electron] [--node PATH] [--force]`);
  }
  if (runtime !== 'node' && runtime !== 'electron')
    usage(`unknown runtime ${runtime}: use --runtime node or --runtime electron.`);
  if (runtime === 'electron' && node !== undefined) usage('--node is for --runtime node.');
  return { target: runtime === 'electron' ? electronTarget() : nodeTarget(node), force };
}

runMain(import.meta.url, () => {
  const { target, force } = parseArgs(process.argv.slice(2));
  const r = ensureNative(target, { force });
  process.stdout.write(`${r.file}${r.built ? '' : ' (already there)'}\n`);
  return 0;
});
