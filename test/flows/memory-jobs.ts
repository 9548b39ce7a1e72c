import type { JobQueuePort } from '../../src/flows/deps.js';
import { type JobName, type JobPayload, JobPayloads, QUEUE_OF } from '../../src/jobs/queues.js';

/** One job the queue holds. */
export interface MemoryJob {
  name: JobName;
  jobId: string;
  payload: unknown;
  opts: { delay?: number; priority?: number; attempts?: number };
}

/**
 * The job queue port in memory, honest the way BullMQ is: job ids are unique per queue (an add
 * with an id the queue holds is ignored), ids with `:` or all digits are refused, payloads are
 * validated, `exists` is true while the queue holds the job and `remove` takes it out. Nothing
 * runs: tests read `jobs()` and drop or remove jobs to play what workers and retention do.
 */
export class MemoryJobs implements JobQueuePort {
  /** Every enqueue call that reached the queue, in order (duplicates included). */
  readonly calls: { name: JobName; jobId: string; payload: unknown }[] = [];
  private readonly held = new Map<string, MemoryJob>();
  private readonly failures = new Map<'enqueue' | 'remove' | 'exists', Error[]>();
  private auto = 0;

  /** Makes the next call of `op` reject with `err`, changing nothing. */
  failNext(op: 'enqueue' | 'remove' | 'exists', err: Error = new Error(`injected failure of ${op}`)): void {
    this.failures.set(op, [...(this.failures.get(op) ?? []), err]);
  }

  private async enter(op: 'enqueue' | 'remove' | 'exists'): Promise<void> {
    await null;
    const err = this.failures.get(op)?.shift();
    if (err) throw err;
  }

  private key(name: JobName, jobId: string): string {
    return `${QUEUE_OF[name]}\0${jobId}`;
  }

  async enqueue<N extends JobName>(
    name: N,
    payload: JobPayload<N>,
    opts: { jobId?: string; delay?: number; priority?: number; attempts?: number } = {},
  ): Promise<void> {
    await this.enter('enqueue');
    if (opts.jobId && (opts.jobId.includes(':') || /^\d+$/.test(opts.jobId))) {
      throw new Error(`job id ${opts.jobId} must not contain ':' or be all digits`);
    }
    const parsed = JobPayloads[name].parse(payload);
    const { jobId = String(++this.auto), ...rest } = opts;
    this.calls.push({ name, jobId, payload: parsed });
    const k = this.key(name, jobId);
    if (this.held.has(k)) return;
    this.held.set(k, { name, jobId, payload: structuredClone(parsed), opts: rest });
  }

  async remove(name: JobName, jobId: string): Promise<void> {
    await this.enter('remove');
    this.held.delete(this.key(name, jobId));
  }

  async exists(name: JobName, jobId: string): Promise<boolean> {
    await this.enter('exists');
    return this.held.has(this.key(name, jobId));
  }

  /** The jobs the queues hold, in the order they were added (only `name`'s when given). */
  jobs(name?: JobName): MemoryJob[] {
    return [...this.held.values()].filter((j) => !name || j.name === name);
  }

  /** Forgets a job as BullMQ's retention (or a lost add) would. */
  drop(name: JobName, jobId: string): void {
    this.held.delete(this.key(name, jobId));
  }
}
