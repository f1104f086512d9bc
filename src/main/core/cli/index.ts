/** Entry of the `glance-uploader` command (bin/glance-uploader.mjs loads the built copy). */
import { main } from './cli';

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
