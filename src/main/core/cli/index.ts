/** Entry of the `glance-uploader` command (bin/glance-uploader.mjs loads the built copy). */
import { setFlagsFromString } from 'node:v8';
import { main } from './cli';

// The only WebAssembly this process runs is undici's HTTP parser, on a few API answers and the
// headers of data transfers: V8's baseline compiler is plenty for that, and its optimizing
// compile of the whole module (about 0.13 CPU-seconds, measured) is saved on every command. Set
// before the first request compiles the module.
setFlagsFromString('--liftoff-only');

let interrupt: () => void = () => undefined;
const interrupted = new Promise<void>((resolve) => (interrupt = resolve));
let signals = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    // First signal: stop cleanly (queued work continues at the next run). Second: leave now.
    if (++signals > 1) process.exit(130);
    interrupt();
  });
}

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
  interrupted,
});
