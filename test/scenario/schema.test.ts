import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { scenarioJsonSchema, scenarioJsonSchemaText, scenarioSchema } from '../../src/scenario/schema.js';

const FILE = join(dirname(fileURLToPath(import.meta.url)), '../../schema/scenario.schema.json');

describe('scenario JSON Schema', () => {
  // Regenerate with: UPDATE_GOLDEN=1 npx vitest run test/scenario/schema.test.ts
  it('matches the committed schema/scenario.schema.json', () => {
    const text = scenarioJsonSchemaText();
    if (process.env.UPDATE_GOLDEN === '1') {
      mkdirSync(dirname(FILE), { recursive: true });
      writeFileSync(FILE, text);
    }
    expect(existsSync(FILE)).toBe(true);
    expect(readFileSync(FILE, 'utf8')).toBe(text);
  });

  it('describes strict objects with the documented fields', () => {
    const s = scenarioJsonSchema() as {
      required: string[];
      additionalProperties: boolean;
      properties: Record<string, unknown>;
    };
    expect(s.required).toEqual(['name']);
    expect(s.additionalProperties).toBe(false);
    expect(Object.keys(s.properties)).toEqual(['name', 'description', 'seed', 'setup', 'cluster', 'listen', 'steps']);
    const text = JSON.stringify(s);
    expect(text).not.toContain('"additionalProperties":true');
  });

  it('agrees with the zod schema on examples', () => {
    const ok = {
      name: 'x',
      steps: [{ connect: { from: 'a', to: '10.0.0.2:80' }, expect: { result: 'timeout', via: ['a:eth0'] } }],
    };
    expect(scenarioSchema.safeParse(ok).success).toBe(true);
    expect(scenarioSchema.safeParse({ ...ok, extra: 1 }).success).toBe(false);
    // Every pattern in the JSON Schema is a valid ECMAScript regular expression (editors evaluate them).
    const texts = JSON.stringify(scenarioJsonSchema()).match(/"pattern":"((?:[^"\\]|\\.)*)"/g) ?? [];
    for (const t of texts) expect(() => new RegExp(JSON.parse(`{${t}}`).pattern)).not.toThrow();
    expect(texts.length).toBeGreaterThan(0);
  });
});
