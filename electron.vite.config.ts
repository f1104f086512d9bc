import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// Three bundles, one per process: main (Node, Electron), preload (sandboxed), renderer (browser).
export default defineConfig({
  main: {
    build: {
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/main/index.ts'),
          // The engine's worker thread (the runtime, off the main thread).
          'runtime-worker': resolve(__dirname, 'src/main/runtime-worker.ts'),
        },
        // better-sqlite3 is a native module: loaded from node_modules at run time, never bundled.
        external: ['better-sqlite3'],
      },
    },
  },
  preload: {
    build: {
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        // A sandboxed preload can only require() a few modules: emit CommonJS.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    // Relative asset URLs: the built page loads from app:// in Electron and from a plain
    // loopback server in the browser tests.
    base: './',
    // npm start's dev server: loopback only.
    server: { host: '127.0.0.1' },
    build: { rollupOptions: { input: resolve(__dirname, 'src/renderer/index.html') } },
    plugins: [svelte()],
  },
});
