import type { Command } from 'commander';
import { IncidentId } from '../core/incident-model.js';
import { TIMELINE_SCHEMA_VERSION } from '../core/timeline.js';
import type { CliIo } from './diagnose.js';
import { openStore } from './store-access.js';

/**
 * Registers `export INC-n`: prints the incident's whole timeline as one JSON document
 * `{ incidentId, schemaVersion, exportedAt, entries: [{ schemaVersion, seq, kind, at, … }] }`.
 * Exit code 1 when the incident does not exist (or its data was removed), 2 for a malformed id.
 */
export function registerExport(program: Command, io: CliIo, env: NodeJS.ProcessEnv = process.env): void {
  program
    .command('export')
    .description('print an incident timeline as JSON (every entry, with its schema version)')
    .argument('<incident>', 'incident id, e.g. INC-42')
    .action(async (raw: string) => {
      const id = IncidentId.safeParse(raw.trim().toUpperCase());
      if (!id.success) {
        io.err(`incident-bot export: "${raw}" is not an incident id; write e.g. INC-42\n`);
        io.setExitCode(2);
        return;
      }
      const s = openStore(env, io.now);
      try {
        const entries = await s.deps.store.entries(id.data);
        if (entries.length === 0) {
          io.err(`incident-bot export: ${id.data} does not exist (or retention removed it)\n`);
          io.setExitCode(1);
          return;
        }
        const doc = {
          incidentId: id.data,
          schemaVersion: TIMELINE_SCHEMA_VERSION,
          exportedAt: io.now().toISOString(),
          entries: entries.map((e) => ({ schemaVersion: TIMELINE_SCHEMA_VERSION, ...e })),
        };
        io.out(`${JSON.stringify(doc, null, 2)}\n`);
      } finally {
        await s.close();
      }
    });
}
