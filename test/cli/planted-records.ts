import Long from 'long';
import { RecordFileWriter } from '../../src/io/record-file.js';
import { parser } from '../../src/proto.js';
import { SyntheticCtr } from '../../src/streams/sources/synthetic-ctr.js';
import { Rng } from '../../src/util/random.js';

/** Headers before each record's size: none (plain) or an empty sort id (FilePBDataset's default). */
export type TestLayout = 'plain' | 'sort_id';

/**
 * Writes `n` planted CTR Instances the way a user's converter would: fid-v1
 * ids in slots 1..26, 13 dense features `dense_0..dense_12` (one value each),
 * a label drawn from the planted model.
 */
export async function writePlantedRecords(path: string, n: number, layout: TestLayout, seed = 1): Promise<number[]> {
  const { payloads, labels } = plantedInstances(n, seed);
  const w = await RecordFileWriter.open(path, layout === 'plain' ? new Uint8Array(0) : new Uint8Array(8));
  for (const p of payloads) await w.write(p);
  await w.close();
  return labels;
}

/** `n` planted Instances (serialized) and their labels. */
export function plantedInstances(n: number, seed = 1): { payloads: Uint8Array[]; labels: number[] } {
  const ctr = new SyntheticCtr({ seed: 11, vocabSize: 50, interactions: 0 });
  const rng = new Rng(seed);
  const names = Array.from({ length: 13 }, (_, j) => `dense_${j}`);
  const payloads: Uint8Array[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = ctr.sampleRow(rng);
    labels.push(row.label);
    const bytes = parser.proto.Instance.encode({
      fid: Array.from(row.ids, (id, s) => Long.fromBits(id, (s + 1) << 22, true)),
      feature: names.map((name, j) => ({ name, floatValue: [row.dense[j]!] })),
      label: [row.label],
      lineId: { uid: Long.fromNumber(i, true) },
    }).finish();
    payloads.push(bytes);
  }
  return { payloads, labels };
}
