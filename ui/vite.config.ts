/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const backend = process.env.STEWARD_DEV_BACKEND ?? 'http://127.0.0.1:7878';
// The backend wants its access token (`stewardctl url` prints it); the dev proxy sends it.
const token = process.env.STEWARD_TOKEN;
const headers = token ? { authorization: `Bearer ${token}` } : undefined;

export default defineConfig({
  // Relative asset paths: the same build is loaded by Tauri and served by `stewardctl serve` at `/`.
  base: './',
  plugins: [svelte()],
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  server: {
    proxy: {
      '/api': { target: backend, changeOrigin: true, ws: true, headers },
      '/resources': { target: backend, changeOrigin: true, headers },
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
