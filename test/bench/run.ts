// `npm run bench` runs every benchmark; `npm run bench -- ack logs` runs the named ones. Each prints
// its tables; all results go to test/bench/results.json (merged with the previous file, so running
// one benchmark keeps the others' last figures).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ackBench } from './ack.js';
import { alertStormBench } from './alert-storm.js';
import type { Bench } from './common.js';
import { machine } from './common.js';
import { evidenceBench } from './evidence.js';
import { logsBench } from './logs.js';
import { postmortemBench } from './postmortem.js';

const ALL: Bench[] = [ackBench, alertStormBench, logsBench, postmortemBench, evidenceBench];
const RESULTS = new URL('./results.json', import.meta.url);

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !ALL.some((b) => b.name === w));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; choose from: ${ALL.map((b) => b.name).join(', ')}`);
  process.exit(2);
}
const selected = wanted.length > 0 ? ALL.filter((b) => wanted.includes(b.name)) : ALL;

const previous: { benchmarks?: Record<string, unknown> } = existsSync(RESULTS)
  ? JSON.parse(readFileSync(RESULTS, 'utf8'))
  : {};
const benchmarks: Record<string, unknown> = { ...(previous.benchmarks ?? {}) };
const m = machine();
console.log(`incident-bot benchmarks on ${m.cpus} CPU (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}`);
let failed = false;
for (const b of selected) {
  console.log(`\n# ${b.name}: ${b.description}`);
  const t0 = performance.now();
  try {
    const result = await b.run();
    benchmarks[b.name] = {
      ranAt: new Date().toISOString(),
      seconds: (performance.now() - t0) / 1000,
      ...result,
    };
  } catch (err) {
    failed = true;
    console.error(`${b.name} failed:`, err);
    benchmarks[b.name] = { ranAt: new Date().toISOString(), error: String((err as Error).stack ?? err) };
  }
}
writeFileSync(RESULTS, `${JSON.stringify({ machine: m, benchmarks }, null, 2)}\n`);
console.log(`\nwrote ${RESULTS.pathname}`);
process.exit(failed ? 1 : 0);
