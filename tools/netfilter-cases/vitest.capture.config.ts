// vitest configuration that runs only the netfilter fixture capture (tools/capture-netfilter-cases.ts).
import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: resolve(import.meta.dirname, '../..'),
  test: {
    include: ['tools/capture-netfilter-cases.ts'],
    testTimeout: 40 * 60_000,
    pool: 'forks',
  },
});
