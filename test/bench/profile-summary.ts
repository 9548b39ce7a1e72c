// Summarises a V8 CPU profile (`--cpu-prof`) by where the time went: self time per package (or
// per src/ file) and the top functions. `node --import tsx test/bench/profile-summary.ts web.cpuprofile [bare.cpuprofile]`.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Self time in ms per group (package, src file, or a V8 bucket such as (garbage collector)) and per function. */
export function summarise(path: string): {
  totalMs: number;
  groups: [string, number][];
  functions: [string, number][];
} {
  const p = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (const [i, id] of p.samples.entries())
    self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  const groups = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, ms] of self) {
    const n = byId.get(id)!;
    const url = n.callFrame.url;
    const group = !url
      ? n.callFrame.functionName || '(anonymous)'
      : url.includes('/node_modules/')
        ? url.replace(/^.*\/node_modules\/((@[^/]+\/)?[^/]+).*$/, '$1')
        : url.startsWith('node:')
          ? url
          : url.replace(/^.*?\/(src|test|commands)\//, '$1/');
    groups.set(group, (groups.get(group) ?? 0) + ms);
    const fn = `${n.callFrame.functionName || '(anonymous)'} ${group}:${n.callFrame.lineNumber + 1}`;
    functions.set(fn, (functions.get(fn) ?? 0) + ms);
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { totalMs: (p.endTime - p.startTime) / 1000, groups: sorted(groups), functions: sorted(functions) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const path of process.argv.slice(2)) {
    const s = summarise(path);
    const busy = s.groups.filter(([g]) => g !== '(idle)').reduce((n, [, ms]) => n + ms, 0);
    console.log(`\n${path}: ${s.totalMs.toFixed(0)} ms profiled, ${busy.toFixed(0)} ms busy`);
    for (const [g, ms] of s.groups.slice(0, 25)) console.log(`  ${ms.toFixed(0).padStart(7)} ms  ${g}`);
    console.log('  top functions:');
    for (const [f, ms] of s.functions.slice(0, 25)) console.log(`  ${ms.toFixed(0).padStart(7)} ms  ${f}`);
  }
}
