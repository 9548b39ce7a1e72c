import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Checklist } from '../core/checklist.js';

/** Loads every `*.yml` in `dir` (default templates/checklists) as a Checklist; invalid files become problems naming the file and field. */
export async function loadChecklists(dir: string): Promise<{ checklists: Checklist[]; problems: string[] }> {
  const checklists: Checklist[] = [];
  const problems: string[] = [];
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yml') || f.endsWith('.yaml')).sort();
  for (const f of files) {
    let data: unknown;
    try {
      data = parse(await readFile(join(dir, f), 'utf8'));
    } catch (err) {
      problems.push(`${f}: ${(err as Error).message.split('\n')[0]}`);
      continue;
    }
    const r = Checklist.safeParse(data);
    if (r.success) checklists.push(r.data);
    else
      for (const i of r.error.issues)
        problems.push(`${f}, ${i.path.join('.') || '(top level)'}: ${i.message}`);
  }
  return { checklists, problems };
}
