import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'outbound');

/** OpenAPI 3.0's `nullable` as JSON Schema (`type: [t, 'null']`, or anyOf with null), which Ajv validates. */
function toJsonSchema(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(toJsonSchema);
  if (!v || typeof v !== 'object') return v;
  const src = v as Record<string, unknown>;
  const o: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(src)) if (k !== 'nullable') o[k] = toJsonSchema(x);
  if (src.nullable === true) {
    if (typeof o.type === 'string') return { ...o, type: [o.type, 'null'] };
    return { anyOf: [o, { type: 'null' }] };
  }
  return o;
}

interface Operation {
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: unknown }> }>;
}

/**
 * One vendor OpenAPI description from test/fixtures/outbound/ (see SOURCE.md), compiled with Ajv:
 * `request(path, method, body)` and `response(path, method, status, body)` return the validation
 * errors as text, or null when the body fits the vendor's schema.
 */
export class OpenApiFixture {
  readonly spec: {
    paths: Record<string, Record<string, Operation>>;
    components: Record<string, Record<string, unknown>>;
  };
  private readonly ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(file: string) {
    this.spec = toJsonSchema(JSON.parse(readFileSync(join(FIXTURES, file), 'utf8'))) as typeof this.spec;
  }

  private compile(key: string, schema: unknown): ValidateFunction {
    let v = this.cache.get(key);
    if (!v) {
      v = this.ajv.compile({ ...(schema as object), components: this.spec.components });
      this.cache.set(key, v);
    }
    return v;
  }

  private op(path: string, method: string): Operation {
    const o = this.spec.paths[path]?.[method];
    if (!o) throw new Error(`the fixture has no ${method.toUpperCase()} ${path}`);
    return o;
  }

  /** Errors of a request body against the operation's requestBody schema, or null. */
  request(path: string, method: string, body: unknown): string | null {
    const schema = this.op(path, method).requestBody?.content['application/json']?.schema;
    if (!schema) return null;
    const v = this.compile(`req ${method} ${path}`, schema);
    return v(body) ? null : this.ajv.errorsText(v.errors);
  }

  /** Errors of a response body against the operation's schema for `status` (or its `5XX`), or null. */
  response(path: string, method: string, status: number, body: unknown): string | null {
    const responses = this.op(path, method).responses;
    let r = responses[String(status)] ?? responses[`${String(status)[0]}XX`];
    if (!r) return `the vendor documents no ${status} for ${method.toUpperCase()} ${path}`;
    if (r.$ref) r = this.spec.components.responses![r.$ref.split('/').pop()!] as typeof r;
    const schema = r.content?.['application/json']?.schema;
    if (!schema) return null;
    const v = this.compile(`res ${status} ${method} ${path}`, schema);
    return v(body) ? null : this.ajv.errorsText(v.errors);
  }

  /** A component's example value (`examples/issue`), for building responses. */
  example(name: string): unknown {
    const ex = this.spec.components.examples?.[name] as { value: unknown } | undefined;
    if (!ex) throw new Error(`the fixture has no example ${name}`);
    return structuredClone(ex.value);
  }
}
