/**
 * The generated protobuf codecs (schemas/*.proto → src/gen/proto.js by
 * scripts/gen-schemas.mjs). Field names are camelCase; 64-bit integers are Long.
 */
import $protobuf from 'protobufjs/minimal.js';

// Keep fields this schema does not know (real LineIds carry fields the public
// .proto lacks) so that decoding and re-encoding never loses data.
$protobuf.Reader.discardUnknown = false;

export { google, monolith, idl, parser, tensorflow } from './gen/proto.js';
export type { default as Long } from 'long';
