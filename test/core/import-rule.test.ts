import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CORE = join(import.meta.dirname, '../../src/core');

describe('the core ring', () => {
  it('imports only zod, date-fns and other core files', () => {
    const offenders: string[] = [];
    // Recursive: src/core/postmortem/ is core too, and may import core files one level up; core files
    // may import a core subfolder's module (./postmortem/index.js).
    const files = readdirSync(CORE, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    expect(files).toContain('postmortem/index.ts');
    expect(files.length).toBeGreaterThan(3);
    for (const f of files) {
      const src = readFileSync(join(CORE, f), 'utf8');
      for (const m of src.matchAll(/^\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/gm)) {
        const spec = m[1]!;
        const ok =
          spec === 'zod' ||
          spec === 'date-fns' ||
          spec.startsWith('date-fns/') ||
          /^\.\/[a-z0-9-]+(?:\/[a-z0-9-]+)?\.js$/.test(spec) ||
          (f.includes('/') && /^\.\.\/[a-z0-9-]+\.js$/.test(spec));
        if (!ok) offenders.push(`${f}: ${spec}`);
      }
      if (/\bDate\.now\(\)|new Date\(\)/.test(src)) offenders.push(`${f}: reads the clock`);
      if (/\bprocess\.|\bconsole\./.test(src)) offenders.push(`${f}: touches process or console`);
    }
    expect(offenders).toEqual([]);
  });
});
