import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECK_IDS } from '../../src/core/check-ids.js';
import { selectChecklist } from '../../src/core/checklist.js';
import { loadChecklists } from '../../src/diagnostics/checklists.js';

const DIR = join(import.meta.dirname, '../../templates/checklists');

describe('the checklist templates', () => {
  it('load without problems and name only real check ids', async () => {
    const { checklists, problems } = await loadChecklists(DIR);
    expect(problems).toEqual([]);
    const ids = new Set<string>(CHECK_IDS);
    for (const c of checklists) for (const i of c.items) if (i.check) expect(ids.has(i.check)).toBe(true);
  });

  it('pick web-latency for a latency alert and the default for anything else', async () => {
    const { checklists } = await loadChecklists(DIR);
    expect(selectChecklist(checklists, { alertname: 'HighLatency', service: 'checkout' })?.name).toBe(
      'web-latency',
    );
    expect(selectChecklist(checklists, { service: 'web', severity: 'critical' })?.name).toBe('web-latency');
    expect(selectChecklist(checklists, { alertname: 'DiskFull' })?.name).toBe('default');
  });
});
