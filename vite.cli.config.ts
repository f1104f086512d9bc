import { defineConfig } from 'vite';

// The headless CLI: one Node ESM bundle of the engine (out/cli/index.js). Dependencies stay in
// node_modules (better-sqlite3 is native); bin/glance-uploader.mjs loads the bundle.
export default defineConfig({
  build: {
    ssr: 'src/main/core/cli/index.ts',
    outDir: 'out/cli',
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    rollupOptions: { output: { format: 'es', entryFileNames: 'index.js' } },
  },
});
