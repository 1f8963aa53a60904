/** Base of every error monolith-ts throws on purpose; `name` is the subclass name. */
export class MonolithError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Where in a file or stream a problem was found. */
export interface Location {
  file?: string;
  offset?: number;
  field?: string;
  slot?: number;
}

function where(loc: Location): string {
  const parts: string[] = [];
  if (loc.file !== undefined) parts.push(loc.file);
  if (loc.offset !== undefined) parts.push(`byte ${loc.offset}`);
  if (loc.field !== undefined) parts.push(`field ${loc.field}`);
  if (loc.slot !== undefined) parts.push(`slot ${loc.slot}`);
  return parts.length ? `${parts.join(', ')}: ` : '';
}

/** Input bytes that do not follow the format they claim to be. */
export class FormatError extends MonolithError {
  readonly file?: string;
  readonly offset?: number;
  readonly field?: string;
  readonly slot?: number;
  constructor(what: string, loc: Location = {}, options?: { cause?: unknown }) {
    super(`${where(loc)}${what}`, options);
    Object.assign(this, loc);
  }
}

/** A checksum did not match: the bytes were damaged. */
export class CorruptRecordError extends FormatError {}

/** The input ended inside a record. */
export class TruncatedRecordError extends FormatError {}

/** A configuration, option or argument that cannot work. */
export class ConfigError extends MonolithError {}

/** A feature id or slot outside what its encoding can hold. */
export class FidError extends MonolithError {}
