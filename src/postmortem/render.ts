import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { slugify } from '../core/channel-name.js';
import { IncidentId } from '../core/incident-model.js';
import type { PostmortemView } from '../core/postmortem/index.js';

/** The template file inside a templates directory. */
export const POSTMORTEM_TEMPLATE = 'postmortem.md';

/**
 * `templates/` at the repository root, found from this module's location rather than the working
 * directory: two levels up from `src/postmortem/` when run from source, three from the build's
 * `dist/src/postmortem/`.
 */
export function defaultTemplatesDir(): string {
  const candidates = ['../../templates/', '../../../templates/'].map((rel) =>
    fileURLToPath(new URL(rel, import.meta.url)),
  );
  return candidates.find((dir) => existsSync(join(dir, POSTMORTEM_TEMPLATE))) ?? candidates[0]!;
}

/** A postmortem template checked and compiled at load; `file` is the path it came from, for error messages. */
export interface CompiledTemplate {
  file: string;
  render: (view: PostmortemView) => string;
}

/** A template that does not parse or does not fit the view; `file` and `line` (1-based, when known) say where. */
export class TemplateError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    detail: string,
  ) {
    super(`${file}${line === undefined ? '' : `:${line}`}: ${detail}`);
    this.name = 'TemplateError';
  }
}

/**
 * Reads and compiles `<dir>/postmortem.md` (Handlebars, `strict: true` so an unknown field fails
 * the render, `noEscape` because the view's text is already Markdown-safe). Parses eagerly, so a
 * syntax error surfaces here, at start-up: throws {@link TemplateError} naming the file and line,
 * or the fs error when the file cannot be read.
 */
export function loadPostmortemTemplate(dir: string = defaultTemplatesDir()): CompiledTemplate {
  const file = join(dir, POSTMORTEM_TEMPLATE);
  const source = readFileSync(file, 'utf8');
  // An isolated environment: no helpers or partials registered by other code leak in. The template
  // needs only the built-in `if` and `each`.
  const hb = Handlebars.create();
  try {
    hb.parse(source);
  } catch (err) {
    throw templateError(file, err);
  }
  const compiled = hb.compile<PostmortemView>(source, { strict: true, noEscape: true });
  return {
    file,
    render(view) {
      try {
        return compiled(view);
      } catch (err) {
        throw templateError(file, err);
      }
    },
  };
}

/** Renders the draft Markdown; throws {@link TemplateError} when the template uses a field the view does not have. */
export function renderPostmortem(template: CompiledTemplate, view: PostmortemView): string {
  return template.render(view);
}

/** The draft's file name, `INC-<n>-<slug>.md` (slug of the title, at most 60 characters); throws on a malformed id. */
export function postmortemFileName(incidentId: string, title: string): string {
  const id = IncidentId.parse(incidentId);
  const slug = slugify(title, 60);
  return `${id}-${slug || 'postmortem'}.md`;
}

/**
 * Handlebars reports a position in three ways: `lineNumber` on its own exceptions (block mismatch,
 * strict lookups: "… - 2:3"), and only the text "Parse error on line N:" from the generated parser.
 */
function templateError(file: string, err: unknown): TemplateError {
  if (!(err instanceof Error)) return new TemplateError(file, undefined, String(err));
  const fromProp = (err as { lineNumber?: unknown }).lineNumber;
  const fromText = /on line (\d+)|- (\d+):\d+$/.exec(err.message);
  const line =
    typeof fromProp === 'number' ? fromProp : fromText ? Number(fromText[1] ?? fromText[2]) : undefined;
  const detail = err.message
    .replace(/^Parse error on line \d+:\n/, '')
    .replace(/ - \d+:\d+$/, '')
    .replace(' in [object Object]', ' in the postmortem view');
  return new TemplateError(file, line, detail);
}
