import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { ROOT } from '../bench/common.js';

/** A spawned `node --import tsx src/<entry>.ts`, its output kept for failure messages. */
export interface Proc {
  child: ChildProcess;
  log: () => string;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
// A run that fails or is interrupted leaves no bot process behind.
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** Starts a bot process and resolves once it logged `readyMsg`; kills it and rejects (with its log) if it exits or is not ready in time. */
export function spawnEntry(entry: 'web' | 'worker', env: NodeJS.ProcessEnv, readyMsg: string): Promise<Proc> {
  const child = spawn(process.execPath, ['--import', 'tsx', `src/${entry}.ts`], {
    cwd: ROOT,
    env: { ...process.env, ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let out = '';
  const proc: Proc = {
    child,
    log: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const done = once(child, 'exit');
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(t);
    },
  };
  return new Promise<Proc>((resolve, reject) => {
    let ready = false;
    const fail = (why: string) => {
      if (ready) return;
      ready = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${entry} ${why}:\n${out.slice(-3000)}`));
    };
    const timer = setTimeout(() => fail('was not ready within 90 s'), 90_000);
    const onData = (d: Buffer) => {
      out = (out + d.toString()).slice(-200_000);
      if (!ready && out.includes(readyMsg)) {
        ready = true;
        clearTimeout(timer);
        resolve(proc);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => fail(`exited (${code ?? signal}) before it was ready`));
  });
}
