// One range of a split HAProxy log scan (see summarizeInRanges in haproxy-log-scan.ts). It asks first whether
// the clients to count are already known (then it counts just those), and otherwise, when it reaches maxClients,
// posts its tracked clients and blocks until the coordinator says which clients to count. No top-level await:
// under tsx this file is loaded through tsx's CommonJS hook (see startWorker).
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import {
  type KeyList,
  type RangeWorkerData,
  type RangeWorkerMessage,
  scanRange,
} from './haproxy-log-scan.js';

const { job, port, flags, index } = workerData as RangeWorkerData;
const flag = new Int32Array(flags);
const post = (m: RangeWorkerMessage, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(m, transfer);

/** Posts `m` and blocks until the answer arrives. */
function ask(m: RangeWorkerMessage): KeyList | null {
  const seen = Atomics.load(flag, index);
  post(m);
  for (;;) {
    const r = receiveMessageOnPort(port);
    if (r) return r.message as KeyList | null;
    Atomics.wait(flag, index, seen, 50);
  }
}

const seed = ask({ type: 'start' }) ?? undefined;
void scanRange(job, { seed, onCap: (list) => ask({ type: 'cap', list })! }).then((tally) => {
  port.close();
  post({ type: 'done', tally }, [
    tally.clients.bytes.buffer as ArrayBuffer,
    tally.clients.lens.buffer as ArrayBuffer,
  ]);
});
