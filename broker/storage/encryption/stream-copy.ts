/**
 * Copies into memory that is read, if at all, long after it is written
 * (the plaintext cache's ring: an append is copied in, and read back only
 * by a reader of the log's tail) with stores that bypass the CPU's caches
 * (native/stream_copy.c). An ordinary copy first reads every cache line of
 * the target in from memory, then pushes out of the caches what the
 * broker uses next; in a profile of encrypted produce with the cache on,
 * the copy cost 190 µs of CPU per MB and made the kernel's copy of the
 * sealed batch into the page cache 135 µs per MB dearer. Where the addon
 * did not build, an ordinary copy.
 */
import { nativeAddon } from '../../../protocol/native-addon.js';

/** Below this a native call costs more than the cache lines it spares: an ordinary copy. */
const STREAM_MIN_BYTES = 16 * 1024;

type StreamCopy = (target: Uint8Array, source: Uint8Array) => void;
let streamCopy: StreamCopy | null | undefined;

function loaded(): StreamCopy | null {
  if (streamCopy === undefined) {
    const addon = nativeAddon() as string | { streamCopy?: StreamCopy };
    streamCopy = typeof addon === 'string' ? null : (addon.streamCopy ?? null);
  }
  return streamCopy;
}

/** `source` into `target` at `at` (which must hold it; the two must not overlap). */
export function copyStreaming(target: Uint8Array, at: number, source: Uint8Array): void {
  const copy = source.byteLength >= STREAM_MIN_BYTES ? loaded() : null;
  if (copy === null) target.set(source, at);
  else copy(target.subarray(at, at + source.byteLength), source);
}
