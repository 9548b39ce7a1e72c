import { join } from 'node:path';
import type { Config } from '../config.js';
import type { Checklist } from '../core/checklist.js';
import type { Logger } from '../logger.js';
import { defaultTemplatesDir } from '../postmortem/render.js';
import { loadChecklists } from './checklists.js';
import { type DiagnosticsConfig, loadDiagnosticsConfig } from './config.js';
import { type CheckRef, listChecks, selectedBy } from './run.js';

/** The targets file and checklist templates, loaded once per process (per Config object). */
export interface DiagnosticsSetup {
  /** DIAGNOSTICS_CONFIG, when set. */
  configPath?: string;
  /** The valid part of the targets file; undefined when DIAGNOSTICS_CONFIG is not set. */
  config?: DiagnosticsConfig;
  /** Every (check, target) the config can run, in checklist order. */
  refs: CheckRef[];
  checklists: Checklist[];
  /** What is wrong with the targets file or a checklist template, each naming the file, line and field. */
  problems: string[];
}

const setups = new WeakMap<Config, Promise<DiagnosticsSetup>>();

/**
 * Loads DIAGNOSTICS_CONFIG and the checklist templates once for this process (keyed by its Config) and logs
 * each problem. Never rejects: a broken or missing file becomes problems, and the valid rest is kept.
 */
export function diagnosticsSetup(deps: { config: Config; log: Logger }): Promise<DiagnosticsSetup> {
  let p = setups.get(deps.config);
  if (!p) {
    p = loadSetup(deps);
    setups.set(deps.config, p);
  }
  return p;
}

async function loadSetup(deps: { config: Config; log: Logger }): Promise<DiagnosticsSetup> {
  const problems: string[] = [];
  const dir = join(deps.config.TEMPLATES_DIR ?? defaultTemplatesDir(), 'checklists');
  let checklists: Checklist[] = [];
  try {
    const loaded = await loadChecklists(dir);
    checklists = loaded.checklists;
    problems.push(...loaded.problems.map((p) => `checklist template ${p}`));
  } catch (err) {
    problems.push(`${dir}: cannot read checklist templates (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  const configPath = deps.config.DIAGNOSTICS_CONFIG;
  let config: DiagnosticsConfig | undefined;
  if (configPath) {
    const loaded = await loadDiagnosticsConfig(configPath);
    config = loaded.config;
    problems.push(...loaded.problems);
  }
  for (const p of problems) deps.log.warn({ problem: p }, 'diagnostics configuration problem');
  if (!configPath) deps.log.info('DIAGNOSTICS_CONFIG is not set: checklist checks will show as skipped');
  return { configPath, config, refs: config ? listChecks(config) : [], checklists, problems };
}

/** The configured (check, target) pairs that `only` (check ids, `check:target` refs or targets) selects. */
export function matchingRefs(setup: DiagnosticsSetup, only: string[]): CheckRef[] {
  return setup.refs.filter((r) => selectedBy(r, only));
}
