// Format throughput: TFRecord write/read, Monolith record-file read, and Instance decode
// with our static codec next to protobufjs reflection and @bufbuild/protobuf, all in one run.
//
//   node dist/bench/formats.js            # table on stdout and in bench/RESULTS-formats.md
//
// `run(opts)` is exported for bench/run-all.ts. MB = 10^6 bytes. Files live in a temp
// directory and are deleted afterwards. Reads follow the writes, so the file is in the page
// cache: the read figures measure parsing, not the disk (the raw-read baseline shows the ceiling).
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Long from 'long';
import { createFileRegistry, fromBinary, type DescMessage } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { parser } from '../src/proto.js';
import { lookupType } from '../src/io/schema-registry.js';
import { readTFRecords, TFRecordWriter, encodeTFRecord } from '../src/io/tfrecord.js';
import { readRecordFile, RecordFileWriter, sortHeader } from '../src/io/record-file.js';
import { Rng } from '../src/util/random.js';
import { projectRoot } from './project-root.js';

export interface FormatsBenchOptions {
  /** Approximate size of each TFRecord file, bytes. Default 200e6. */
  fileBytes?: number;
  /** Payload sizes of the TFRecord runs, bytes. Default [100, 4096]. */
  recordSizes?: number[];
  /** Instances in the Monolith record file. Default 250_000. */
  recordFileInstances?: number;
  /** Distinct encoded Instances cycled through by the decode runs. Default 20_000. */
  decodePool?: number;
  /** Measured seconds per decoder, split over `decodeRounds` interleaved rounds. Default 2. */
  decodeSeconds?: number;
  decodeRounds?: number;
  /** Parent of the temp directory. Default os.tmpdir(). */
  tmpDir?: string;
  /** Where to write the markdown; null to skip. Default <project>/bench/RESULTS-formats.md. */
  resultsPath?: string | null;
  /** Progress lines on stderr. Default true. */
  progress?: boolean;
  seed?: number;
}

export interface BenchRow {
  group: string;
  name: string;
  records: number;
  bytes: number;
  seconds: number;
  recordsPerSec: number;
  mbPerSec: number;
  /** Name of the row this one is compared with, in the same group. */
  baseline?: string;
  /** This row's records/s over the baseline's. */
  ratio?: number;
  note?: string;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  node: string;
  platform: string;
  memGB: number;
  /** 1-minute load average when the run started. */
  load1: number;
}

export interface FormatsBenchResult {
  machine: MachineInfo;
  rows: BenchRow[];
  markdown: string;
  wallSeconds: number;
}

const now = (): number => Number(process.hrtime.bigint()) / 1e9;


export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    memGB: Math.round(os.totalmem() / 2 ** 30),
    load1: os.loadavg()[0] ?? 0,
  };
}

function row(group: string, name: string, records: number, bytes: number, seconds: number, note?: string): BenchRow {
  return { group, name, records, bytes, seconds, recordsPerSec: records / seconds, mbPerSec: bytes / 1e6 / seconds, note };
}

// ---------------------------------------------------------------------------
// Realistic Instances: 30 v1 fids over 26 slots, 13 dense float features, a label, a LineId.

function fidV1(rng: Rng, slot: number): Long {
  // slot << 54 | 54 random bits: high word = slot << 22 | 22 random bits
  return Long.fromBits(rng.u32() | 0, ((slot << 22) | rng.int(0, (1 << 22) - 1)) | 0, true);
}

export function realisticInstance(rng: Rng): parser.proto.Instance.$Properties {
  const slots = Array.from({ length: 26 }, (_, i) => i + 1);
  const fid: Long[] = slots.map((s) => fidV1(rng, s));
  for (let i = 0; i < 4; i++) fid.push(fidV1(rng, rng.choice(slots)));
  return {
    fid,
    label: [rng.float() < 0.1 ? 1 : 0],
    instanceWeight: 1,
    lineId: {
      uid: Long.fromBits(rng.u32() | 0, rng.u32() | 0, true),
      reqTime: Long.fromNumber(1_700_000_000 + rng.int(0, 86_400)),
      itemId: Long.fromBits(rng.u32() | 0, rng.u32() | 0, true),
      actions: [rng.int(0, 10)],
      sampleRate: 1,
      chnid: Long.fromNumber(rng.int(0, 100)),
    },
    feature: Array.from({ length: 13 }, (_, i) => ({ name: `dense_${i + 1}`, floatValue: [Math.fround(rng.normal())] })),
  };
}

// ---------------------------------------------------------------------------
// TFRecord

async function rawWrite(path: string, chunk: Buffer, totalBytes: number): Promise<void> {
  const out = createWriteStream(path);
  await once(out, 'open');
  for (let left = totalBytes; left > 0; left -= chunk.length) {
    if (!out.write(left >= chunk.length ? chunk : chunk.subarray(0, left))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
}

async function rawRead(path: string): Promise<number> {
  let n = 0;
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) n += (c as Buffer).length;
  return n;
}

async function tfrecordBench(dir: string, size: number, fileBytes: number, rng: Rng, log: (s: string) => void): Promise<BenchRow[]> {
  const group = `TFRecord, ${size} B records`;
  const pool = Array.from({ length: 256 }, () => {
    const b = Buffer.allocUnsafe(size);
    for (let i = 0; i < size; i += 4) b.writeUInt32LE(rng.u32(), Math.min(i, size - 4));
    return b;
  });
  const n = Math.max(1, Math.floor(fileBytes / (size + 16)));
  const path = join(dir, `bench-${size}.tfrecord`);
  const rows: BenchRow[] = [];

  log(`${group}: writing ${n} records`);
  let t0 = now();
  const w = await TFRecordWriter.open(path);
  for (let i = 0; i < n; i++) {
    const p = w.write(pool[i & 255]!);
    if (p) await p;
  }
  await w.close();
  const writeS = now() - t0;
  const fileSize = statSync(path).size;
  if (fileSize !== n * (size + 16)) throw new Error(`TFRecord file is ${fileSize} bytes, expected ${n * (size + 16)}`);

  // Raw write of the same byte count (pre-framed records in 1 MiB chunks): the I/O ceiling.
  const framed = Buffer.concat(Array.from({ length: Math.ceil((1 << 20) / (size + 16)) }, (_, i) => encodeTFRecord(pool[i & 255]!)));
  const rawPath = join(dir, `bench-${size}.raw`);
  t0 = now();
  await rawWrite(rawPath, framed, fileSize);
  const rawWriteS = now() - t0;
  rmSync(rawPath, { force: true });

  rows.push(row(group, 'raw fs write (baseline)', n, fileSize, rawWriteS, 'same bytes, pre-framed, 1 MiB writes'));
  rows.push(row(group, 'TFRecordWriter write', n, fileSize, writeS, 'framing + 2 CRC32C per record, temp file + rename'));

  log(`${group}: reading`);
  t0 = now();
  const rawBytes = await rawRead(path);
  const rawReadS = now() - t0;
  if (rawBytes !== fileSize) throw new Error('raw read short');
  t0 = now();
  let count = 0;
  let payload = 0;
  for await (const r of readTFRecords(path)) {
    count++;
    payload += r.length;
  }
  const readS = now() - t0;
  if (count !== n || payload !== n * size) throw new Error(`read ${count} records / ${payload} bytes, expected ${n} / ${n * size}`);
  rows.push(row(group, 'raw fs read (baseline)', n, fileSize, rawReadS, '1 MiB chunks, page cache'));
  rows.push(row(group, 'readTFRecords read', n, fileSize, readS, 'both CRCs checked'));
  rmSync(path, { force: true });
  for (const r of rows) r.baseline = r.name.startsWith('TFRecordWriter') ? 'raw fs write (baseline)' : r.name.startsWith('readTF') ? 'raw fs read (baseline)' : undefined;
  return rows;
}

// ---------------------------------------------------------------------------
// Monolith record file

async function recordFileBench(dir: string, encoded: Uint8Array[], count: number, log: (s: string) => void): Promise<BenchRow[]> {
  const group = 'Monolith record file (sort_id header), Instances';
  const path = join(dir, 'bench-instances.pb');
  log(`${group}: writing ${count} records`);
  const w = await RecordFileWriter.open(path, sortHeader(true, false, false));
  for (let i = 0; i < count; i++) {
    const p = w.write(encoded[i % encoded.length]!);
    if (p) await p;
  }
  await w.close();
  const size = statSync(path).size;

  let t0 = now();
  const rawBytes = await rawRead(path);
  const rawS = now() - t0;
  if (rawBytes !== size) throw new Error('raw read short');

  t0 = now();
  let n = 0;
  for await (const rec of readRecordFile(path, { sortId: true })) n += rec.payload.length > 0 ? 1 : 0;
  const readS = now() - t0;
  if (n !== count) throw new Error(`record file: read ${n} of ${count}`);

  t0 = now();
  let fids = 0;
  for await (const rec of readRecordFile(path, { sortId: true })) fids += parser.proto.Instance.decode(rec.payload).fid.length;
  const decodeS = now() - t0;
  if (fids !== count * 30) throw new Error(`record file: ${fids} fids, expected ${count * 30}`);
  rmSync(path, { force: true });
  const baseline = 'raw fs read (baseline)';
  return [
    row(group, baseline, count, size, rawS, '1 MiB chunks, page cache'),
    { ...row(group, 'readRecordFile read', count, size, readS), baseline },
    { ...row(group, 'readRecordFile + Instance.decode', count, size, decodeS, 'static codec'), baseline },
  ];
}

// ---------------------------------------------------------------------------
// Instance decode

function bufRegistryInstance(dir: string): DescMessage | string {
  const root = projectRoot();
  const buf = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'buf.cmd' : 'buf');
  if (!existsSync(buf)) return `buf CLI not found at ${buf}`;
  const out = join(dir, 'set.binpb');
  try {
    execFileSync(buf, ['build', join(root, 'schemas'), '-o', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    return `buf build failed: ${(err as Error).message.split('\n')[0]}`;
  }
  const reg = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(out)));
  return reg.getMessage('parser.proto.Instance') ?? 'parser.proto.Instance not in descriptor set';
}

/** Runs `decode` over the pool for at least `seconds`; returns records decoded and seconds taken. */
function timeDecode(pool: Uint8Array[], seconds: number, decode: (b: Uint8Array) => number): { n: number; s: number; check: number } {
  let n = 0;
  let check = 0;
  const t0 = now();
  let t = t0;
  const deadline = t0 + seconds;
  while (t < deadline) {
    for (let i = 0; i < pool.length; i++) check += decode(pool[i]!);
    n += pool.length;
    t = now();
  }
  return { n, s: t - t0, check };
}

function decodeBench(pool: Uint8Array[], dir: string, seconds: number, rounds: number, log: (s: string) => void): BenchRow[] {
  const group = 'Instance decode (30 fids / 26 slots, 13 dense, label, LineId)';
  const bytes = pool.reduce((s, b) => s + b.length, 0) / pool.length;
  const reflType = lookupType('parser.proto.Instance');
  const bufDesc = bufRegistryInstance(dir);
  const decoders: { name: string; note: string; fn?: (b: Uint8Array) => number; skip?: string }[] = [
    { name: 'protobufjs reflection (baseline)', note: "lookupType('parser.proto.Instance').decode", fn: (b) => (reflType.decode(b) as unknown as { fid: unknown[] }).fid.length },
    { name: 'static codec (ours)', note: 'parser.proto.Instance.decode', fn: (b) => parser.proto.Instance.decode(b).fid.length },
    typeof bufDesc === 'string'
      ? { name: '@bufbuild/protobuf', note: '', skip: bufDesc }
      : { name: '@bufbuild/protobuf', note: 'fromBinary(registry message from `buf build schemas`)', fn: (b) => (fromBinary(bufDesc, b) as unknown as { fid: unknown[] }).fid.length },
  ];
  // every decoder must agree on the pool before it is timed
  for (const d of decoders) {
    if (!d.fn) continue;
    const fids = pool.reduce((s, b) => s + d.fn!(b), 0);
    if (fids !== pool.length * 30) throw new Error(`${d.name}: ${fids} fids over the pool, expected ${pool.length * 30}`);
  }
  log(`${group}: ${rounds} rounds of ${(seconds / rounds).toFixed(2)} s per decoder`);
  for (const d of decoders) if (d.fn) timeDecode(pool, 0.5, d.fn); // warm-up (JIT)
  const runs = new Map<string, number[]>();
  for (let r = 0; r < rounds; r++) {
    for (const d of decoders) {
      if (!d.fn) continue;
      const { n, s } = timeDecode(pool, seconds / rounds, d.fn);
      (runs.get(d.name) ?? runs.set(d.name, []).get(d.name)!).push(n / s);
    }
  }
  const baseline = decoders[0]!.name;
  return decoders.map((d) => {
    if (!d.fn) return { ...row(group, d.name, 0, 0, 1), recordsPerSec: NaN, mbPerSec: NaN, note: `skipped: ${d.skip}` };
    const rates = runs.get(d.name)!.sort((a, b) => a - b);
    const median = rates[Math.floor(rates.length / 2)]!;
    const spread = rates.length > 1 ? ` of ${rates.length} rounds (sorted: ${rates.map((x) => fmtInt(x)).join(' / ')})` : '';
    return {
      group,
      name: d.name,
      records: Math.round(median),
      bytes: median * bytes,
      seconds: 1,
      recordsPerSec: median,
      mbPerSec: (median * bytes) / 1e6,
      baseline,
      note: `${d.note}; median${spread}`,
    };
  });
}

// ---------------------------------------------------------------------------
// Report

function fmtInt(x: number): string {
  if (!Number.isFinite(x)) return '–';
  return Math.round(x).toLocaleString('en-US');
}
const fmt1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '–');

function markdown(machine: MachineInfo, rows: BenchRow[], wall: number, opts: Required<Pick<FormatsBenchOptions, 'fileBytes'>> & { poolBytes: number }): string {
  const out: string[] = [];
  out.push('# bench/formats');
  out.push('');
  out.push(`Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memGB} GiB, ${machine.platform}, Node ${machine.node}; load average ${machine.load1.toFixed(2)} at start (other work on the machine skews the figures).`);
  out.push(`Run: ${new Date().toISOString()}, ${wall.toFixed(1)} s wall. MB = 10^6 bytes. TFRecord files of ~${(opts.fileBytes / 1e6).toFixed(0)} MB in a temp dir (deleted after);`);
  out.push(`reads follow the writes, so files are in the page cache. Instances average ${opts.poolBytes.toFixed(0)} bytes encoded.`);
  out.push('Ratio = records/s of the row over records/s of the baseline row of its group.');
  out.push('');
  const byGroup = new Map<string, BenchRow[]>();
  for (const r of rows) (byGroup.get(r.group) ?? byGroup.set(r.group, []).get(r.group)!).push(r);
  for (const [group, rs] of byGroup) {
    out.push(`## ${group}`);
    out.push('');
    out.push('| what | records/s | MB/s | records | seconds | ratio to baseline | notes |');
    out.push('| --- | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const r of rs) {
      const base = r.baseline ? rs.find((x) => x.name === r.baseline) : undefined;
      r.ratio = base && base !== r ? r.recordsPerSec / base.recordsPerSec : undefined;
      const isDecode = group.startsWith('Instance decode');
      out.push(
        `| ${r.name} | ${fmtInt(r.recordsPerSec)} | ${fmt1(r.mbPerSec)} | ${isDecode ? '–' : fmtInt(r.records)} | ${isDecode ? '–' : r.seconds.toFixed(2)} | ${r.ratio !== undefined ? `${r.ratio.toFixed(2)}×` : r.name.endsWith('(baseline)') ? '1.00 (baseline)' : ''} | ${r.note ?? ''} |`,
      );
    }
    out.push('');
  }
  return `${out.join('\n')}\n`;
}

export async function run(opts: FormatsBenchOptions = {}): Promise<FormatsBenchResult> {
  const started = now();
  const fileBytes = opts.fileBytes ?? 200e6;
  const log = opts.progress === false ? () => {} : (s: string) => process.stderr.write(`[formats] ${s}\n`);
  const rng = new Rng(opts.seed ?? 20240611);
  const dir = mkdtempSync(join(opts.tmpDir ?? os.tmpdir(), 'monolith-bench-formats-'));
  const machine = machineInfo();
  const rows: BenchRow[] = [];
  try {
    for (const size of opts.recordSizes ?? [100, 4096]) rows.push(...(await tfrecordBench(dir, size, fileBytes, rng, log)));

    const poolN = opts.decodePool ?? 20_000;
    const pool = Array.from({ length: poolN }, () => parser.proto.Instance.encode(realisticInstance(rng)).finish());
    const poolBytes = pool.reduce((s, b) => s + b.length, 0) / pool.length;

    rows.push(...(await recordFileBench(dir, pool, opts.recordFileInstances ?? 250_000, log)));
    rows.push(...decodeBench(pool, dir, opts.decodeSeconds ?? 2, opts.decodeRounds ?? 5, log));

    const wall = now() - started;
    const md = markdown(machine, rows, wall, { fileBytes, poolBytes });
    const resultsPath = opts.resultsPath === undefined ? join(projectRoot(), 'bench', 'RESULTS-formats.md') : opts.resultsPath;
    if (resultsPath) {
      mkdirSync(dirname(resultsPath), { recursive: true });
      writeFileSync(resultsPath, md);
    }
    return { machine, rows, markdown: md, wallSeconds: wall };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  run()
    .then((r) => process.stdout.write(r.markdown))
    .catch((err: unknown) => {
      process.stderr.write(`bench/formats: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    });
}
