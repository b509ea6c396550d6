/**
 * The record-batch codec, as the rest of Runnel uses it: build batches
 * (producer), read them (consumer, broker validation, log scans), compress
 * their records, and the fixed header layout with its CRC and leader stamp.
 */
export {
  ATTR_CODEC_MASK,
  ATTR_CONTROL,
  ATTR_TIMESTAMP_LOG_APPEND,
  ATTR_TRANSACTIONAL,
  BATCH_HEADER_BYTES,
  BATCH_LOG_OVERHEAD,
  BATCH_MAGIC,
  BatchFormatError,
  Codec,
  computeBatchCrc,
  readBatchHeader,
  sealBatchCrc,
  stampBatch,
  verifyBatchCrc,
  type BatchHeader,
  type CodecId,
  type CodecName,
} from './header.js';
export { BatchBuilder, buildBatch, type BatchBuilderOptions, type RecordHeader, type RecordInput } from './builder.js';
export { batchesIn, decodeBatch, DEFAULT_MAX_UNCOMPRESSED_BYTES, type BatchesInOptions, type DecodedRecord, type DecodeOptions } from './reader.js';
export { assertCodecSupported, compress, decompress, DEFAULT_GZIP_LEVEL } from './compression.js';
