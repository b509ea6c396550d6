/**
 * The subset of Avro that Runnel's control-plane schemas use, as TypeScript
 * types, so a schema file is checked by the compiler and the bounded
 * validator (`validate.ts`) can walk every schema exhaustively. Named types
 * are always defined inline (no references by name), and `doc` strings are
 * required on records and fields because docs/PROTOCOL.md is generated from
 * them.
 */
export type AvroPrimitive = 'null' | 'boolean' | 'int' | 'long' | 'string' | 'bytes';

export interface AvroField {
  readonly name: string;
  readonly doc: string;
  readonly type: AvroSchema;
  /** Required for a field added in a later version, so older writers resolve. */
  readonly default?: unknown;
}

export interface AvroRecord {
  readonly type: 'record';
  readonly name: string;
  readonly doc: string;
  readonly fields: readonly AvroField[];
}

export interface AvroEnum {
  readonly type: 'enum';
  readonly name: string;
  readonly doc: string;
  readonly symbols: readonly string[];
}

export interface AvroArray {
  readonly type: 'array';
  readonly items: AvroSchema;
}

export type AvroUnion = readonly AvroSchema[];

export type AvroSchema = AvroPrimitive | AvroRecord | AvroEnum | AvroArray | AvroUnion;

/** One version of a control-plane API: the request and response body schemas. */
export interface AvroApiVersion {
  readonly request: AvroRecord;
  readonly response: AvroRecord;
}
