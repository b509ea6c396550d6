/**
 * One process of a simulated cluster, as the world sees it: the clock, disk
 * and network a node runs on, wrapped so that the simulation can kill or
 * pause that process (tests/sim). The wrapped pieces are the node's only
 * ways to act, so:
 *
 * - `kill()` (SIGKILL): the node never runs again. Its timers never fire;
 *   its connections' events (data, close, connect, drain, write callbacks)
 *   are dropped; its file-system calls from then on touch nothing: the
 *   asynchronous ones never settle, the synchronous ones throw (code still on
 *   the stack when it died must not write to the disk the next incarnation
 *   uses). The caller also resets its connections (`MemoryNetwork.kill`) and
 *   decides what its disk keeps (`SimulatedFileSystem.killProcess` or `crash`).
 * - `pause()` (SIGSTOP): nothing of the node runs; its due timers and the
 *   events arriving for it are held, in order, and run at `resume()`
 *   (SIGCONT), with the clock as it is then. Its peers see a silent process:
 *   their bytes are accepted (a kernel buffers them), nothing is answered.
 *   A pause applies between two simulation steps, when no promise of the
 *   node is pending (the simulated disk settles within a step).
 *
 * A restarted node is a new `NodeSwitch` over the same disk and host name.
 */
import type { Clock, TimerHandle } from './clock.js';
import { writeFileAtomicVia, type FileHandle, type FileSystem, type FileStat, type OpenFlags } from './file-system.js';
import type { ConnectionEvents, OutgoingConnection, OutgoingConnectionEvents, Transport, TransportConnection, TransportListener } from './transport.js';

export type NodeState = 'running' | 'paused' | 'dead';

function deadError(op: string): Error {
  return Object.assign(new Error(`${op}: the process is dead`), { code: 'EIO' });
}

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

export class NodeSwitch {
  #state: NodeState = 'running';
  /** What came due while paused, in order. */
  #held: (() => void)[] = [];
  readonly clock: Clock;
  readonly fs: FileSystem;
  readonly transport: Transport;

  constructor(world: { clock: Clock; fs: FileSystem; transport: Transport }) {
    this.clock = this.#wrapClock(world.clock);
    this.fs = this.#wrapFs(world.fs);
    this.transport = this.#wrapTransport(world.transport);
  }

  get state(): NodeState {
    return this.#state;
  }

  kill(): void {
    this.#state = 'dead';
    this.#held = [];
  }

  pause(): void {
    if (this.#state === 'running') this.#state = 'paused';
  }

  /** Runs what was held, in order (each may hold more if it pauses again: it cannot, it is node code). */
  resume(): void {
    if (this.#state !== 'paused') return;
    this.#state = 'running';
    const held = this.#held;
    this.#held = [];
    for (const run of held) {
      if (this.#state !== 'running') {
        this.#held.push(run);
        continue;
      }
      run();
    }
  }

  /** Runs `fn` as the node would: dropped when dead, held while paused. */
  #gate(fn: () => void): void {
    if (this.#state === 'running') fn();
    else if (this.#state === 'paused') this.#held.push(fn);
  }

  #gated<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
    return (...args) => this.#gate(() => fn(...args));
  }

  #wrapClock(clock: Clock): Clock {
    const handles = new Set<TimerHandle>();
    return {
      nowMs: () => clock.nowMs(),
      monotonicNs: () => clock.monotonicNs(),
      schedule: (delayMs, fn, opts) => {
        if (this.#state === 'dead') return { cancel: () => undefined };
        const handle = clock.schedule(delayMs, () => {
          handles.delete(handle);
          this.#gate(fn);
        }, opts);
        handles.add(handle);
        return { cancel: () => { handles.delete(handle); handle.cancel(); } };
      },
    };
  }

  #alive(op: string): void {
    if (this.#state === 'dead') throw deadError(op);
  }

  #wrapHandle(handle: FileHandle): FileHandle {
    const wrapped: FileHandle = {
      path: handle.path,
      write: (data, position) => { this.#alive('write'); handle.write(data, position); },
      read: (target, offset, length, position) => { this.#alive('read'); return handle.read(target, offset, length, position); },
      sizeBytes: () => { this.#alive('fstat'); return handle.sizeBytes(); },
      truncate: (size) => { this.#alive('ftruncate'); handle.truncate(size); },
      datasync: () => (this.#state === 'dead' ? never() : this.#settleAlive(handle.datasync())),
      datasyncSync: () => { this.#alive('fdatasync'); handle.datasyncSync(); },
      identity: () => { this.#alive('fstat'); return handle.identity(); },
      keepOpen: () => handle.keepOpen(),
      close: () => { this.#alive('close'); handle.close(); },
    };
    if (handle.setDerived !== undefined) wrapped.setDerived = (derived) => handle.setDerived!(derived);
    return wrapped;
  }

  /** A promise of the node's that settles only while the node lives (a dead one's never does). */
  #settleAlive<T>(promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      promise.then(
        (value) => { if (this.#state !== 'dead') resolve(value); },
        (error: unknown) => { if (this.#state !== 'dead') reject(error); },
      );
    });
  }

  #wrapFs(fs: FileSystem): FileSystem {
    const async = <T>(op: () => Promise<T>): Promise<T> => (this.#state === 'dead' ? never() : this.#settleAlive(op()));
    return {
      open: (filePath: string, flags: OpenFlags) => { this.#alive('open'); return this.#wrapHandle(fs.open(filePath, flags)); },
      openLocked: (filePath: string) => {
        this.#alive('open');
        const handle = fs.openLocked(filePath);
        return handle === null ? null : this.#wrapHandle(handle);
      },
      stat: (filePath: string): Promise<FileStat | null> => async(() => fs.stat(filePath)),
      readdir: (dir: string) => async(() => fs.readdir(dir)),
      mkdirp: (dir: string) => async(() => fs.mkdirp(dir)),
      rename: (from: string, to: string) => async(() => fs.rename(from, to)),
      unlink: (filePath: string) => async(() => fs.unlink(filePath)),
      removeTree: (dir: string) => async(() => fs.removeTree(dir)),
      fsyncDir: (dir: string) => async(() => fs.fsyncDir(dir)),
      readFile: (filePath: string) => async(() => fs.readFile(filePath)),
      // Through this wrapper, so that each step of it (open, write, sync, rename) is the node's.
      writeFileAtomic: (filePath: string, data: Uint8Array) => writeFileAtomicVia(this.fs, filePath, data),
    };
  }

  #wrapEvents<E extends ConnectionEvents | OutgoingConnectionEvents>(events: E): E {
    const wrapped: ConnectionEvents & Partial<OutgoingConnectionEvents> = {
      data: this.#gated((chunk: Uint8Array) => events.data(chunk)),
      drain: this.#gated(() => events.drain()),
      close: this.#gated((error?: Error) => events.close(error)),
    };
    const connect = (events as Partial<OutgoingConnectionEvents>).connect;
    if (connect !== undefined) wrapped.connect = this.#gated(() => connect.call(events));
    return wrapped as E;
  }

  #wrapConnection<C extends TransportConnection | OutgoingConnection>(connection: C): C {
    const self = this;
    const wrapped = Object.create(connection) as C;
    Object.defineProperties(wrapped, {
      remoteAddress: { get: () => connection.remoteAddress },
      bufferedBytes: { get: () => connection.bufferedBytes },
      attach: { value: (events: ConnectionEvents & OutgoingConnectionEvents) => connection.attach(self.#wrapEvents(events)) },
      write: { value: (chunks: readonly Uint8Array[], onWritten?: () => void) => connection.write(chunks, onWritten === undefined ? undefined : self.#gated(onWritten)) },
      pause: { value: () => connection.pause() },
      resume: { value: () => connection.resume() },
      destroy: { value: () => connection.destroy() },
      end: { value: () => connection.end() },
    });
    return wrapped;
  }

  #wrapTransport(transport: Transport): Transport {
    return {
      listen: (opts, onConnection) => {
        if (this.#state === 'dead') return never<TransportListener>();
        return this.#settleAlive(transport.listen(opts, (connection) => {
          const wrapped = this.#wrapConnection(connection);
          this.#gate(() => onConnection(wrapped));
        }));
      },
      connect: (opts) => {
        // A dead node's reconnect: a socket that never connects (its events would be dropped anyway).
        const connection = transport.connect(opts);
        if (this.#state === 'dead') connection.destroy();
        return this.#wrapConnection(connection);
      },
    };
  }
}
