/**
 * Turns the Avro schema files of one control-plane API (one per version,
 * oldest first) into a `BodyCodec` per version, encoded with avsc.
 *
 * Evolution: a body is always written with the schema of the version named
 * in the request header, and always read into the newest schema through an
 * avsc resolver (`newest.createResolver(writer)`), so handlers and clients
 * see one shape, the newest, whatever version is on the wire: a field added
 * in v1 arrives from a v0 writer with its default, and a newest-shape value
 * written at v0 simply drops the fields v0 does not have.
 *
 * Types, resolvers and validators are built on a version's first use, not
 * when this module loads: building all of them took ~100 ms of every
 * process start (every `runnel` command, every broker), for the few APIs a
 * process speaks. An incompatible new schema (a new field without a
 * default, a changed type) still fails in the tests, before any live
 * request: tests/protocol/wire.test.ts round-trips every version of every
 * API.
 *
 * Bytes are checked by the bounded validator before avsc sees them (avsc
 * trusts counts); encoding errors are bugs of the caller and throw a
 * `RangeError` naming the API, version and avsc's reason.
 */
import avro from 'avsc';
import type { BodyCodec } from '../body-codec.js';
import { ProtocolDecodeError } from '../decode-error.js';
import type { AvroApiVersion, AvroRecord } from './schema.js';
import { compileValidator } from './validate.js';

const { Type } = avro;
type AvroType = InstanceType<typeof Type>;

const FIRST_ENCODE_ESTIMATE_BYTES = 256;

const TWO_POW_32 = 4294967296;

/**
 * avsc's own `long` accepts |n| <= 2^53-2 but writes longs below -2^52 with
 * the wrong sign (its float path rounds the odd zigzag value: -(2^52)-1
 * round-trips as 2^52). This `long` carries every safe integer exactly,
 * through avsc's 8-byte little-endian hook, without BigInt.
 */
const exactLong = avro.types.LongType.__with({
  fromBuffer(bytes: Buffer): number {
    const value = bytes.readInt32LE(4) * TWO_POW_32 + bytes.readUInt32LE(0);
    if (!Number.isSafeInteger(value)) throw new Error(`long ${value} is not a safe integer`);
    return value;
  },
  toBuffer(value: number): Buffer {
    const bytes = Buffer.allocUnsafe(8);
    const high = Math.floor(value / TWO_POW_32);
    bytes.writeUInt32LE(value - high * TWO_POW_32, 0);
    bytes.writeInt32LE(high, 4);
    return bytes;
  },
  fromJSON: Number,
  toJSON: (value: number) => value,
  isValid: (value: unknown) => Number.isSafeInteger(value),
  compare: (a: number, b: number) => (a === b ? 0 : a < b ? -1 : 1),
});

export function avroType(schema: AvroRecord): AvroType {
  return Type.forSchema(schema as unknown as avro.Schema, {
    wrapUnions: 'never',
    omitRecordMethods: true,
    registry: { long: exactLong }, // a fresh registry each time: avsc adds the schema's named types to it
  });
}

interface Side<Body> {
  encode(body: Body, headroomBytes: number): Uint8Array[];
  decode(frame: Uint8Array, bodyOffset: number): Body;
}

function side<Body>(context: string, writerSchema: AvroRecord, newest: AvroType, isNewest: boolean): Side<Body> {
  const writer = isNewest ? newest : avroType(writerSchema);
  const resolver = isNewest ? undefined : newest.createResolver(writer);
  const validate = compileValidator(writerSchema, context);
  let estimateBytes = FIRST_ENCODE_ESTIMATE_BYTES;
  return {
    encode(body, headroomBytes) {
      let buf = Buffer.allocUnsafe(headroomBytes + estimateBytes);
      let end: number;
      try {
        end = writer.encode(body, buf, headroomBytes);
        if (end < 0) {
          buf = Buffer.allocUnsafe(buf.byteLength - end);
          end = writer.encode(body, buf, headroomBytes);
        }
      } catch (error) {
        throw new RangeError(`${context}: cannot encode the body: ${(error as Error).message}`, { cause: error });
      }
      estimateBytes = end - headroomBytes; // the next body of this kind is likely about as large
      return [buf.subarray(0, end)];
    },
    decode(frame, bodyOffset) {
      validate(frame, bodyOffset);
      const body = Buffer.isBuffer(frame)
        ? frame.subarray(bodyOffset)
        : Buffer.from(frame.buffer, frame.byteOffset + bodyOffset, frame.byteLength - bodyOffset);
      try {
        return writer === newest ? newest.fromBuffer(body) : newest.fromBuffer(body, resolver);
      } catch (error) {
        // The validator accepts only what avsc can read; reaching this is a bug there, still reported as bad input.
        throw new ProtocolDecodeError(`${context}: ${(error as Error).message}`, bodyOffset);
      }
    },
  };
}

/** A side built on its first encode or decode. */
function lazySide<Body>(build: () => Side<Body>): Side<Body> {
  let built: Side<Body> | undefined;
  return {
    encode: (body, headroomBytes) => (built ??= build()).encode(body, headroomBytes),
    decode: (frame, bodyOffset) => (built ??= build()).decode(frame, bodyOffset),
  };
}

/** One `BodyCodec` per version, index = version. */
export function avroBodyCodecs<Request, Response>(api: string, versions: readonly AvroApiVersion[]): BodyCodec<Request, Response>[] {
  const newestVersion = versions.length - 1;
  const newestSchemas = versions[newestVersion];
  if (newestSchemas === undefined) throw new Error(`${api} has no schema versions`);
  let newestRequest: AvroType | undefined;
  let newestResponse: AvroType | undefined;
  return versions.map((schemas, version) => {
    const isNewest = version === newestVersion;
    const request = lazySide(() => side<Request>(`${api} v${version} request`, schemas.request, (newestRequest ??= avroType(newestSchemas.request)), isNewest));
    const response = lazySide(() => side<Response>(`${api} v${version} response`, schemas.response, (newestResponse ??= avroType(newestSchemas.response)), isNewest));
    return {
      encodeRequest: request.encode,
      decodeRequest: request.decode,
      encodeResponse: response.encode,
      decodeResponse: response.decode,
    };
  });
}
