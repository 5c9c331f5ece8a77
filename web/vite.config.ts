import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

/**
 * Writes .br and .gz beside every script, style and page, which the server sends to browsers that accept them. It reads
 * the written files: in generateBundle a chunk's code may still hold placeholders that later plugins fill in.
 */
function precompress(): Plugin {
  return {
    name: 'yibao-precompress',
    apply: 'build',
    async writeBundle(options, bundle) {
      const dir = options.dir ?? 'dist';
      for (const name of Object.keys(bundle)) {
        if (!/\.(js|css|html)$/.test(name)) continue;
        const source = await readFile(join(dir, name));
        if (source.length < 1024) continue;
        const br = brotliCompressSync(source, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
        await writeFile(join(dir, `${name}.br`), br);
        await writeFile(join(dir, `${name}.gz`), gzipSync(source, { level: 9 }));
      }
    },
  };
}

export default defineConfig({
  plugins: [react(), precompress()],
  server: { proxy: { '/api': 'http://localhost:3000', '/oidc': 'http://localhost:3000' } },
  // react-dom with antd's core (every page) and echarts (the console's charts) are each about 550 kB unpacked
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 600 },
});
