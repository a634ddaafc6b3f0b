import path from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The SPA is built into dist/web and served by the API process on the same port.
export default defineConfig({
  root: __dirname,
  plugins: [react()],
  build: {
    outDir: path.resolve(__dirname, '../../dist/web'),
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
  },
  experimental: {
    // Mounted under a host's prefix (`/ops`, DESIGN §15) the app is not at the site root: a lazily
    // loaded page's chunks and preloads resolve from the module that asks for them, and index.html's
    // absolute `/assets/` URLs get the prefix from the server (src/http/web.ts).
    renderBuiltUrl: (_file, { hostType }) => (hostType === 'js' ? { relative: true } : undefined),
  },
  server: { proxy: { '/api': 'http://localhost:3000' } },
});
