/**
 * The generated protobuf codecs (schemas/*.proto → src/gen/proto.js by
 * scripts/gen-schemas.mjs). Field names are camelCase; 64-bit integers are Long.
 */
export { google, monolith, idl, parser, tensorflow } from './gen/proto.js';
export type { default as Long } from 'long';
