/**
 * Worker side of the thread pool (built to dist/worker.js). Blocks in Atomics.wait until
 * the main thread bumps WAKE, takes the newest job message (older ones are finished jobs),
 * claims chunks until none are left, and waits again. See pool.ts for the protocol.
 */
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { ScratchBuffers, type Scratch } from '../scratch.js';
import { jobs } from './jobs.js';
import { claim, DONE, FAILED, type JobMessage, WAKE } from './pool.js';

const { ctrl, port } = workerData as { ctrl: Int32Array; port: MessagePort };

/** This thread's own scratch buffers (packed panels, padded images). */
const scratch = new ScratchBuffers();

let seen = 0;
for (;;) {
  Atomics.wait(ctrl, WAKE, seen);
  seen = Atomics.load(ctrl, WAKE);
  let msg: JobMessage | undefined;
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) msg = m.message as JobMessage;
  if (msg === undefined) continue;
  if (msg.quit) break;
  const fn = jobs[msg.job] as (s: Scratch, a: unknown, chunk: number, chunks: number) => void;
  let q: number;
  while ((q = claim(ctrl, msg.id, msg.chunks)) >= 0) {
    try {
      fn(scratch, msg.args, q, msg.chunks);
    } catch {
      Atomics.store(ctrl, FAILED, 1);
    }
    if (Atomics.add(ctrl, DONE, 1) + 1 >= msg.chunks) Atomics.notify(ctrl, DONE);
  }
}
port.close();
