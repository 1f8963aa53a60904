import { MonolithError } from '../errors.js';

/** A hash-table operation that cannot be carried out (unknown table, bad shapes, unsupported op). */
export class HashTableError extends MonolithError {}

/** An operation the table type does not support (e.g. `reinitialize` on a MultiTypeHashTable). */
export class UnsupportedOperationError extends HashTableError {}
