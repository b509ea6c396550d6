// Preloaded into a broker process by tests (see broker-memory.ts; not a
// RUNNEL_ variable, which the broker would refuse as an unknown setting), never by
// the broker itself: a unix socket that answers each connection with the
// process's memory use, measured after a full garbage collection, as one
// JSON object. Memory tests read `arrayBuffers` (every Buffer the broker
// holds, touched or not) rather than RSS, which does not grow for pages that
// are allocated but never written.
import { isMainThread } from 'node:worker_threads';
import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';

const path = process.env.BROKER_TEST_MEMORY_PROBE;
if (isMainThread && path !== undefined && path !== '') {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    // Twice: external memory freed by the first collection's finalizers is counted after the second.
    gc();
    gc();
    socket.end(`${JSON.stringify(process.memoryUsage())}\n`);
  });
  server.listen(path);
  // The probe never keeps the broker alive.
  server.unref();
}
