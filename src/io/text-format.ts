import protobuf from 'protobufjs';
import Long from 'long';
import { FormatError } from '../errors.js';
import { lookupType, propertyName } from './schema-registry.js';

/**
 * Protocol-buffer text format, as Python's `text_format.MessageToString` writes it
 * and `text_format.Merge` reads it, for any message type in schemas/. Messages are
 * the plain objects of the static codecs (camelCase properties); the text uses the
 * field names of the .proto files.
 */

type Msg = Record<string, unknown>;

const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const UNSIGNED = new Set(['uint32', 'uint64', 'fixed32', 'fixed64']);
const INT_TYPES = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32', ...LONG_TYPES]);

function typeOf(t: string | protobuf.Type): protobuf.Type {
  return typeof t === 'string' ? lookupType(t) : t;
}

// ---------------------------------------------------------------- printing

/** Python's repr of a double: shortest round-trip digits, exponent outside [1e-4, 1e16). */
export function pythonFloatRepr(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const [mant, expStr] = v.toExponential().split('e') as [string, string];
  const exp = Number(expStr);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  let body: string;
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    body = `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  } else if (exp < 0) {
    body = `0.${'0'.repeat(-exp - 1)}${digits}`;
  } else if (digits.length <= exp + 1) {
    body = `${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
  } else {
    body = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  }
  return neg ? `-${body}` : body;
}

/** Python protobuf's `ToShortestFloat`: fewest digits (from 6) that still round-trip as float32. */
export function shortestFloat32(v: number): number {
  if (!Number.isFinite(v)) return v;
  for (let p = 6; p < 18; p++) {
    const r = Number(v.toPrecision(p));
    if (Math.fround(r) === v) return r;
  }
  return v;
}

/** C-style escaping of bytes as Python's text_format does (non-ASCII as octal). */
export function cEscape(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    switch (b) {
      case 0x0a: out += '\\n'; break;
      case 0x0d: out += '\\r'; break;
      case 0x09: out += '\\t'; break;
      case 0x22: out += '\\"'; break;
      case 0x27: out += "\\'"; break;
      case 0x5c: out += '\\\\'; break;
      default:
        out += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\${b.toString(8).padStart(3, '0')}`;
    }
  }
  return out;
}

function scalarText(field: protobuf.FieldBase, v: unknown): string {
  if (field.resolvedType instanceof protobuf.Enum) {
    const name = field.resolvedType.valuesById[v as number];
    return name ?? String(v);
  }
  switch (field.type) {
    case 'string':
      return `"${cEscape(Buffer.from(v as string, 'utf8'))}"`;
    case 'bytes':
      return `"${cEscape(v as Uint8Array)}"`;
    case 'bool':
      return v ? 'true' : 'false';
    case 'float':
      return pythonFloatRepr(shortestFloat32(v as number));
    case 'double':
      return pythonFloatRepr(v as number);
    default:
      if (LONG_TYPES.has(field.type)) {
        if (typeof v === 'number') return String(v);
        if (typeof v === 'bigint') return v.toString();
        const l = Long.fromValue(v as Long);
        return (UNSIGNED.has(field.type) ? l.toUnsigned() : l.toSigned()).toString();
      }
      return String(v);
  }
}

function isPresent(field: protobuf.Field, msg: Msg, v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (field.repeated) return (v as unknown[]).length > 0;
  if (field.map) return Object.keys(v as object).length > 0;
  if (field.resolvedType instanceof protobuf.Type) return true;
  // Explicit presence (proto2, oneof members, proto3 `optional`): set when assigned.
  if (field.hasPresence) return Object.prototype.hasOwnProperty.call(msg, propertyName(field.name));
  // proto3 implicit presence: printed only when not the default value.
  if (typeof v === 'object' && v !== null && 'low' in v) return !Long.fromValue(v as Long).isZero();
  if (v instanceof Uint8Array || typeof v === 'string') return v.length > 0;
  return v !== 0 && v !== false;
}

/** Map keys in the order Python's text_format prints them (`sorted()`): numbers numerically, bools false first, strings by code point. */
function sortedMapKeys(keys: string[], keyType: string): string[] {
  if (keyType === 'string') return keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (keyType === 'bool') return keys.sort((a, b) => Number(a === 'true') - Number(b === 'true'));
  const big = (k: string): bigint => (/^-?\d+$/.test(k) ? BigInt(k) : BigInt(Long.fromValue(k as unknown as Long).toString()));
  return keys.sort((a, b) => {
    const x = big(a);
    const y = big(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

function printMessage(type: protobuf.Type, msg: Msg, indent: string, out: string[]): void {
  for (const field of [...type.fieldsArray].sort((a, b) => a.id - b.id)) {
    field.resolve();
    const v = msg[propertyName(field.name)];
    if (!isPresent(field, msg, v)) continue;
    if (field.map) {
      const mf = field as unknown as protobuf.MapField;
      const keys = sortedMapKeys(Object.keys(v as object), mf.keyType);
      for (const k of keys) {
        out.push(`${indent}${field.name} {`);
        const keyField = { type: mf.keyType, resolvedType: null } as unknown as protobuf.FieldBase;
        const keyVal = mf.keyType === 'bool' ? k === 'true' : mf.keyType === 'string' ? k : k;
        out.push(`${indent}  key: ${scalarText(keyField, keyVal)}`);
        const val = (v as Msg)[k];
        if (mf.resolvedType instanceof protobuf.Type) {
          out.push(`${indent}  value {`);
          printMessage(mf.resolvedType, val as Msg, `${indent}    `, out);
          out.push(`${indent}  }`);
        } else {
          out.push(`${indent}  value: ${scalarText(mf, val)}`);
        }
        out.push(`${indent}}`);
      }
      continue;
    }
    const values = field.repeated ? (v as unknown[]) : [v];
    for (const item of values) {
      if (field.resolvedType instanceof protobuf.Type) {
        out.push(`${indent}${field.name} {`);
        printMessage(field.resolvedType, item as Msg, `${indent}  `, out);
        out.push(`${indent}}`);
      } else {
        out.push(`${indent}${field.name}: ${scalarText(field, item)}`);
      }
    }
  }
}

/** Text format of `msg` (a static-codec object of `typeName`), one field per line. */
export function printTextFormat(typeName: string | protobuf.Type, msg: object): string {
  const out: string[] = [];
  printMessage(typeOf(typeName), msg as Msg, '', out);
  return out.length ? `${out.join('\n')}\n` : '';
}

// ---------------------------------------------------------------- parsing

interface Token {
  kind: 'ident' | 'number' | 'string' | 'punct';
  text: string;
  bytes?: Uint8Array;
  line: number;
  col: number;
}

class Tokenizer {
  private pos = 0;
  private line = 1;
  private lineStart = 0;
  private peeked: Token | null | undefined;

  constructor(
    private readonly src: string,
    private readonly file: string,
  ) {}

  error(what: string, tok?: Token | null): FormatError {
    const line = tok?.line ?? this.line;
    const col = tok?.col ?? this.pos - this.lineStart + 1;
    return new FormatError(`text format, line ${line} column ${col}: ${what}`, { file: this.file });
  }

  peek(): Token | null {
    if (this.peeked === undefined) this.peeked = this.read();
    return this.peeked;
  }

  next(): Token | null {
    const t = this.peek();
    this.peeked = undefined;
    return t;
  }

  private skipSpace(): void {
    const s = this.src;
    while (this.pos < s.length) {
      const c = s[this.pos]!;
      if (c === '\n') {
        this.pos++;
        this.line++;
        this.lineStart = this.pos;
      } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
        this.pos++;
      } else if (c === '#') {
        while (this.pos < s.length && s[this.pos] !== '\n') this.pos++;
      } else break;
    }
  }

  private read(): Token | null {
    this.skipSpace();
    const s = this.src;
    if (this.pos >= s.length) return null;
    const line = this.line;
    const col = this.pos - this.lineStart + 1;
    const c = s[this.pos]!;
    if (c === '"' || c === "'") {
      // Adjacent string literals are joined.
      const parts: number[] = [];
      while (this.pos < s.length && (s[this.pos] === '"' || s[this.pos] === "'")) {
        parts.push(...this.readString());
        this.skipSpace();
      }
      return { kind: 'string', text: '', bytes: Uint8Array.from(parts), line, col };
    }
    const m = /^(?:[-+]?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?[fF]?)|[A-Za-z_][A-Za-z0-9_.]*|-[A-Za-z_][A-Za-z0-9_]*)/.exec(s.slice(this.pos, this.pos + 400));
    if (m && m[0].length) {
      this.pos += m[0].length;
      const kind = /^[-+]?[\d.]/.test(m[0]) ? 'number' : 'ident';
      return { kind, text: m[0], line, col };
    }
    if ('{}<>:,;[]'.includes(c)) {
      this.pos++;
      return { kind: 'punct', text: c, line, col };
    }
    throw this.error(`unexpected character ${JSON.stringify(c)}`);
  }

  private readString(): number[] {
    const s = this.src;
    const quote = s[this.pos++]!;
    const out: number[] = [];
    const pushChar = (ch: string) => out.push(...Buffer.from(ch, 'utf8'));
    while (this.pos < s.length && s[this.pos] !== quote) {
      const ch = s[this.pos++]!;
      if (ch === '\n') throw this.error('newline inside a string');
      if (ch !== '\\') {
        pushChar(ch);
        continue;
      }
      const e = s[this.pos++];
      switch (e) {
        case 'n': out.push(10); break;
        case 't': out.push(9); break;
        case 'r': out.push(13); break;
        case 'a': out.push(7); break;
        case 'b': out.push(8); break;
        case 'f': out.push(12); break;
        case 'v': out.push(11); break;
        case '\\': out.push(92); break;
        case "'": out.push(39); break;
        case '"': out.push(34); break;
        case '?': out.push(63); break;
        case 'x': {
          const h = /^[0-9a-fA-F]{1,2}/.exec(s.slice(this.pos))?.[0];
          if (!h) throw this.error('bad \\x escape');
          this.pos += h.length;
          out.push(parseInt(h, 16));
          break;
        }
        case 'u':
        case 'U': {
          const n = e === 'u' ? 4 : 8;
          const h = s.slice(this.pos, this.pos + n);
          if (!/^[0-9a-fA-F]+$/.test(h) || h.length !== n) throw this.error(`bad \\${e} escape`);
          this.pos += n;
          pushChar(String.fromCodePoint(parseInt(h, 16)));
          break;
        }
        default: {
          const o = /^[0-7]{1,3}/.exec(s.slice(this.pos - 1))?.[0];
          if (!o) throw this.error(`unknown escape \\${e ?? ''}`);
          this.pos += o.length - 1;
          out.push(parseInt(o, 8) & 0xff);
        }
      }
    }
    if (this.pos >= s.length) throw this.error('unterminated string');
    this.pos++;
    return out;
  }
}

function parseIntToken(tok: Token, field: protobuf.FieldBase, tz: Tokenizer): number | Long {
  let text = tok.text;
  const neg = text.startsWith('-');
  if (neg || text.startsWith('+')) text = text.slice(1);
  let radix = 10;
  if (/^0[xX]/.test(text)) {
    radix = 16;
    text = text.slice(2);
  } else if (/^0[0-7]+$/.test(text)) {
    radix = 8;
    text = text.slice(1);
  } else if (!/^\d+$/.test(text)) {
    throw tz.error(`field ${field.name}: expected an integer, got ${tok.text}`, tok);
  }
  const unsigned = UNSIGNED.has(field.type);
  if (neg && unsigned) throw tz.error(`field ${field.name}: negative value for an unsigned field`, tok);
  let big = BigInt(radix === 16 ? `0x${text}` : radix === 8 ? `0o${text}` : text);
  if (neg) big = -big;
  const bits = LONG_TYPES.has(field.type) ? 64 : 32;
  const min = unsigned ? 0n : -(1n << BigInt(bits - 1));
  const max = unsigned ? (1n << BigInt(bits)) - 1n : (1n << BigInt(bits - 1)) - 1n;
  if (big < min || big > max) throw tz.error(`field ${field.name}: ${tok.text} is out of range for ${field.type}`, tok);
  if (bits === 32) return Number(big);
  return Long.fromString(big.toString(), unsigned);
}

function parseScalar(field: protobuf.FieldBase, tz: Tokenizer, keyType?: string): unknown {
  const tok = tz.next();
  if (!tok) throw tz.error(`field ${field.name}: value expected at end of input`);
  const type = keyType ?? field.type;
  if (!keyType && field.resolvedType instanceof protobuf.Enum) {
    const e = field.resolvedType;
    if (tok.kind === 'ident' && tok.text in e.values) return e.values[tok.text];
    if (tok.kind === 'number' && /^-?\d+$/.test(tok.text) && Number(tok.text) in e.valuesById) return Number(tok.text);
    throw tz.error(`field ${field.name}: ${tok.text} is not a value of enum ${e.name}`, tok);
  }
  if (type === 'string' || type === 'bytes') {
    if (tok.kind !== 'string') throw tz.error(`field ${field.name}: expected a string, got ${tok.text}`, tok);
    return type === 'string' ? Buffer.from(tok.bytes!).toString('utf8') : tok.bytes!;
  }
  if (type === 'bool') {
    if (['true', 't', '1', 'True'].includes(tok.text)) return true;
    if (['false', 'f', '0', 'False'].includes(tok.text)) return false;
    throw tz.error(`field ${field.name}: expected true or false, got ${tok.text}`, tok);
  }
  if (type === 'float' || type === 'double') {
    const t = tok.text.toLowerCase().replace(/f$/, '');
    if (['inf', 'infinity', '+inf'].includes(t)) return Infinity;
    if (['-inf', '-infinity'].includes(t)) return -Infinity;
    if (t === 'nan') return NaN;
    const v = Number(t);
    if (tok.kind !== 'number' || Number.isNaN(v)) throw tz.error(`field ${field.name}: expected a number, got ${tok.text}`, tok);
    return type === 'float' ? Math.fround(v) : v;
  }
  if (INT_TYPES.has(type)) {
    if (tok.kind !== 'number') throw tz.error(`field ${field.name}: expected an integer, got ${tok.text}`, tok);
    return parseIntToken(tok, { type, name: field.name } as protobuf.FieldBase, tz);
  }
  throw tz.error(`field ${field.name}: unsupported type ${type}`, tok);
}

function expect(tz: Tokenizer, text: string): Token {
  const tok = tz.next();
  if (!tok || tok.text !== text || tok.kind === 'string') throw tz.error(`expected "${text}", got ${tok ? tok.text || 'a string' : 'end of input'}`, tok);
  return tok;
}

function parseMessageBody(type: protobuf.Type, tz: Tokenizer, close: string | null, msg: Msg): void {
  for (;;) {
    const tok = tz.peek();
    if (!tok) {
      if (close) throw tz.error(`missing "${close}" to end message ${type.name}`);
      return;
    }
    if (close && tok.text === close && tok.kind === 'punct') {
      tz.next();
      return;
    }
    tz.next();
    if (tok.kind !== 'ident') throw tz.error(`expected a field name, got ${tok.text || 'a string'}`, tok);
    const field = type.fields[tok.text];
    if (!field) throw tz.error(`message ${type.fullName.slice(1)} has no field named "${tok.text}"`, tok);
    field.resolve();
    const isMsg = field.resolvedType instanceof protobuf.Type || field.map;
    const sep = tz.peek();
    if (sep?.text === ':' && sep.kind === 'punct') tz.next();
    else if (!isMsg) throw tz.error(`expected ":" after ${field.name}`, sep);
    const readOne = (): unknown => {
      if (field.map) return parseMapEntry(field as unknown as protobuf.MapField, tz);
      if (field.resolvedType instanceof protobuf.Type) {
        const open = tz.next();
        if (!open || (open.text !== '{' && open.text !== '<') || open.kind !== 'punct') throw tz.error(`expected "{" to start ${field.name}`, open);
        const sub: Msg = {};
        parseMessageBody(field.resolvedType, tz, open.text === '{' ? '}' : '>', sub);
        return sub;
      }
      return parseScalar(field, tz);
    };
    const values: unknown[] = [];
    const lb = tz.peek();
    if (lb?.text === '[' && lb.kind === 'punct') {
      if (!field.repeated && !field.map) throw tz.error(`field ${field.name} is not repeated; a list is not allowed`, lb);
      tz.next();
      if (tz.peek()?.text !== ']') {
        for (;;) {
          values.push(readOne());
          const t = tz.next();
          if (t?.text === ']') break;
          if (t?.text !== ',') throw tz.error(`expected "," or "]" in the list of ${field.name}`, t);
        }
      } else tz.next();
    } else {
      values.push(readOne());
    }
    const prop = propertyName(field.name);
    if (field.map) {
      const m = (msg[prop] ??= {}) as Msg;
      for (const [k, v] of values as [string, unknown][]) m[k] = v;
    } else if (field.repeated) {
      ((msg[prop] ??= []) as unknown[]).push(...values);
    } else if (field.resolvedType instanceof protobuf.Type && msg[prop]) {
      mergeInto(msg[prop] as Msg, values[0] as Msg); // a repeated singular message merges
    } else {
      msg[prop] = values[0]; // a repeated singular scalar: the last value wins
    }
    if (field.partOf) {
      for (const other of field.partOf.fieldsArray) if (other !== field) delete msg[propertyName(other.name)];
    }
    const sepTok = tz.peek();
    if (sepTok && sepTok.kind === 'punct' && (sepTok.text === ',' || sepTok.text === ';')) tz.next();
  }
}

function mergeInto(target: Msg, src: Msg): void {
  for (const [k, v] of Object.entries(src)) {
    if (Array.isArray(v)) target[k] = [...((target[k] as unknown[]) ?? []), ...v];
    else if (v && typeof v === 'object' && !(v instanceof Uint8Array) && !('low' in v) && target[k]) mergeInto(target[k] as Msg, v as Msg);
    else target[k] = v;
  }
}

function parseMapEntry(field: protobuf.MapField, tz: Tokenizer): [string, unknown] {
  const open = tz.next();
  if (!open || (open.text !== '{' && open.text !== '<')) throw tz.error(`expected "{" to start an entry of ${field.name}`, open);
  const close = open.text === '{' ? '}' : '>';
  let key: unknown = field.keyType === 'string' ? '' : 0;
  let value: unknown;
  for (;;) {
    const tok = tz.next();
    if (!tok) throw tz.error(`missing "${close}" in an entry of ${field.name}`);
    if (tok.text === close && tok.kind === 'punct') break;
    if (tok.text === 'key') {
      expect(tz, ':');
      key = parseScalar(field, tz, field.keyType);
    } else if (tok.text === 'value') {
      if (field.resolvedType instanceof protobuf.Type) {
        if (tz.peek()?.text === ':') tz.next();
        const o = tz.next();
        if (!o || (o.text !== '{' && o.text !== '<')) throw tz.error(`expected "{" to start the value of ${field.name}`, o);
        const sub: Msg = {};
        parseMessageBody(field.resolvedType, tz, o.text === '{' ? '}' : '>', sub);
        value = sub;
      } else {
        expect(tz, ':');
        value = parseScalar(field, tz);
      }
    } else {
      throw tz.error(`a map entry of ${field.name} has only "key" and "value", got ${tok.text}`, tok);
    }
    const sep = tz.peek();
    if (sep && sep.kind === 'punct' && (sep.text === ',' || sep.text === ';')) tz.next();
  }
  const k = typeof key === 'object' && key !== null ? (key as Long).toString() : String(key);
  return [k, value];
}

/**
 * Parses text format into a plain object for `typeName`'s static `fromObject`
 * (camelCase properties, 64-bit integers as Long). Unknown field names, bad values
 * and syntax errors are FormatErrors with line and column.
 */
export function parseTextFormat(typeName: string | protobuf.Type, text: string, file = '<text>'): Msg {
  const type = typeOf(typeName);
  const tz = new Tokenizer(text, file);
  const msg: Msg = {};
  parseMessageBody(type, tz, null, msg);
  return msg;
}
