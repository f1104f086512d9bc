#!/usr/bin/env node
// The glance-uploader command: runs the built CLI (npm run build makes out/cli/index.js).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const built = fileURLToPath(new URL('../out/cli/index.js', import.meta.url));
if (!existsSync(built)) {
  process.stderr.write(
    'error: the CLI is not built yet.\n  hint: run "npm run build" in the glance-uploader folder first.\n',
  );
  process.exit(70);
}
await import(pathToFileURL(built).href);
