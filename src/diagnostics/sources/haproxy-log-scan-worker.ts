// One range of a split HAProxy log scan (see summarizeInRanges in haproxy-log-scan.ts): scans it, and when it
// reaches maxClients, posts its tracked clients and blocks until the coordinator says which clients to count.
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

const tally = await scanRange(job, (list) => {
  post({ type: 'cap', list });
  for (;;) {
    Atomics.wait(flag, index, 0, 50);
    const m = receiveMessageOnPort(port);
    if (m) return m.message as KeyList;
  }
});
port.close();
post({ type: 'done', tally }, [
  tally.clients.bytes.buffer as ArrayBuffer,
  tally.clients.lens.buffer as ArrayBuffer,
]);
