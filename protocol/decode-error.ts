/**
 * The one error every decoder in protocol/ throws for bytes that do not
 * parse: a truncated or malformed header or body, a count or length larger
 * than what remains, trailing garbage. It is bad input from a peer, never a
 * bug of ours, so the broker answers it (INVALID_REQUEST or closing that one
 * connection) instead of crashing. The message says what was being read and
 * at which byte of the frame, so a log line is enough to debug a client.
 */
export class ProtocolDecodeError extends Error {
  override name = 'ProtocolDecodeError';
  constructor(
    /** What was wrong, without the position. */
    readonly reason: string,
    /** Byte position in the frame (after the u32 length prefix) where reading failed. */
    readonly position: number,
  ) {
    super(`${reason} (at byte ${position})`);
  }
}
