import { createRequire } from 'node:module';
import protobuf from 'protobufjs';

/**
 * Reflection over every schema in schemas/ (built from the generated JSON
 * descriptors, field names as written in the .proto files). The static codecs in
 * src/gen/proto.js are the fast path; this serves generic work such as text format.
 */
let root: protobuf.Root | undefined;

export function schemaRoot(): protobuf.Root {
  if (!root) {
    const require = createRequire(import.meta.url);
    root = protobuf.Root.fromJSON(require('../gen/schemas.json'));
    root.resolveAll();
  }
  return root;
}

export function lookupType(fullName: string): protobuf.Type {
  return schemaRoot().lookupType(fullName.replace(/^\./, ''));
}

export function lookupEnum(fullName: string): protobuf.Enum {
  return schemaRoot().lookupEnum(fullName.replace(/^\./, ''));
}

/** The property name protobufjs's static codecs use for a .proto field name. */
export const propertyName = (fieldName: string): string => protobuf.util.camelCase(fieldName);
