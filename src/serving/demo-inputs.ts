import Long from 'long';
import { ConfigError } from '../errors.js';
import { monolith, parser } from '../proto.js';
import { makeFidV1 } from '../io/fid.js';
import type { Rng } from '../util/random.js';
import type { SavedModelSignature } from '../export/export-context.js';
import { stringTensor } from '../export/warmup.js';
import { floatTensor, int64Tensor } from './tensor-proto.js';
import type { tensorflow } from '../proto.js';

export interface DemoInputOptions {
  batchSize: number;
  rng: Rng;
  /** Slots to put fids in (demo_predictor: the model's slots). */
  slots: number[];
  /** Feature names for Example inputs, by slot (default `slot_<n>`). */
  featureNames?: Map<number, string>;
  /** fids per slot (default 5, as demo_predictor). */
  fidsPerSlot?: number;
  /** Upper bound of the random id part (default 10000). */
  maxVocab?: number;
  /** Record type of string inputs (default: Examples for an input named `examples`, else Instances). */
  stringRecords?: 'instance' | 'example';
}

const fidsFor = (o: DemoInputOptions, slot: number) =>
  Array.from({ length: o.fidsPerSlot ?? 5 }, () => Long.fromString(makeFidV1(slot, BigInt(o.rng.int(0, (o.maxVocab ?? 10000) - 1))).toString(), true));

/** One random Instance with fid-v1 fids in each slot (demo_predictor's generate_demo_instance). */
export function demoInstance(o: DemoInputOptions): Uint8Array {
  return parser.proto.Instance.encode({ fid: o.slots.flatMap((s) => fidsFor(o, s)) }).finish();
}

export function demoExample(o: DemoInputOptions): Uint8Array {
  return monolith.io.proto.Example.encode({ namedFeature: o.slots.map((s) => ({ name: o.featureNames?.get(s) ?? `slot_${s}`, feature: { fidV1List: { value: fidsFor(o, s) } } })) }).finish();
}

/**
 * Random request inputs for a signature by dtype (demo_predictor /
 * demo_predictor_client): string → serialized Instances (or Examples for an
 * `examples` input, one ExampleBatch for `example_batch`), 1-D only; int64 →
 * random ints; float32 → uniform floats; -1 dims become the batch size; any
 * other dtype is a ConfigError.
 */
export function demoInputs(sig: SavedModelSignature, o: DemoInputOptions): Record<string, tensorflow.TensorProto.$Properties> {
  const out: Record<string, tensorflow.TensorProto.$Properties> = {};
  for (const [name, spec] of Object.entries(sig.inputs)) {
    const shape = spec.shape.map((d) => (d < 0 ? o.batchSize : d));
    const n = shape.reduce((a, b) => a * b, 1);
    switch (spec.dtype) {
      case 'string': {
        if (shape.length !== 1) throw new ConfigError(`input ${name}: string inputs must be 1-D, got shape [${spec.shape.join(', ')}]`);
        if (name === 'example_batch') {
          const rows = o.batchSize;
          const batch = monolith.io.proto.ExampleBatch.encode({
            batchSize: rows,
            namedFeatureList: o.slots.map((s) => ({ name: o.featureNames?.get(s) ?? `slot_${s}`, feature: Array.from({ length: rows }, () => ({ fidV1List: { value: fidsFor(o, s) } })) })),
          }).finish();
          out[name] = stringTensor([batch]);
        } else {
          out[name] = stringTensor(Array.from({ length: n }, () => ((o.stringRecords ?? (name === 'examples' ? 'example' : 'instance')) === 'example' ? demoExample(o) : demoInstance(o))));
        }
        break;
      }
      case 'int64':
        out[name] = int64Tensor(Array.from({ length: n }, () => o.rng.int(0, (o.maxVocab ?? 10000) - 1)), shape);
        break;
      case 'float32':
        out[name] = floatTensor(Float32Array.from({ length: n }, () => o.rng.float()), shape);
        break;
      default:
        throw new ConfigError(`input ${name}: no demo data for dtype ${spec.dtype} (string, int64 and float32 only)`);
    }
  }
  return out;
}
