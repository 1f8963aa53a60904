/**
 * A TF Serving client this project did not write: messages are built and read
 * by @bufbuild/protobuf from a descriptor set the buf CLI compiles from the
 * upstream tensorflow_serving/apis protos in schemas/ (neither protobufjs nor
 * the project's codecs are involved); grpc-js only carries the bytes.
 */
import * as grpc from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, createFileRegistry, fromBinary, toBinary, type DescMessage, type Message } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { ROOT } from '../helpers.js';

export type Msg = Message & Record<string, unknown>;

/** The descriptors of tensorflow_serving/apis (and what they import), compiled by `buf build`. */
export function tfServingDescriptors(): (name: string) => DescMessage {
  const tmp = mkdtempSync(join(tmpdir(), 'tf-serving-descriptors-'));
  try {
    const set = join(tmp, 'set.binpb');
    execFileSync(join(ROOT, 'node_modules', '.bin', 'buf'), ['build', join(ROOT, 'schemas'), '-o', set], { cwd: tmp, stdio: ['ignore', 'ignore', 'pipe'] });
    const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(set)));
    return (name) => registry.getMessage(name) ?? (() => { throw new Error(`${name} not in the descriptor set`); })();
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** A raw-bytes gRPC client of tensorflow.serving.PredictionService at `address`. */
export function predictionServiceClient(address: string): { call(method: string, bytes: Uint8Array): Promise<Buffer>; close(): void } {
  const raw = (b: Buffer) => b;
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return {
    call: (method, bytes) =>
      new Promise<Buffer>((resolve, reject) =>
        client.makeUnaryRequest(`/tensorflow.serving.PredictionService/${method}`, raw, raw, Buffer.from(bytes), (err, res) => (err ? reject(err) : resolve(res!))),
      ),
    close: () => client.close(),
  };
}

/** Predict on serving_default with serialized records under `instances`; each output's float_val and shape. */
export async function predictRecords(desc: (name: string) => DescMessage, address: string, records: Uint8Array[]): Promise<Record<string, { floatVal: number[]; shape: bigint[] }>> {
  const PredictRequest = desc('tensorflow.serving.PredictRequest');
  const PredictResponse = desc('tensorflow.serving.PredictResponse');
  const TensorProto = desc('tensorflow.TensorProto');
  const tensor = create(TensorProto, { dtype: 7, tensorShape: { dim: [{ size: BigInt(records.length) }] }, stringVal: records });
  const req = create(PredictRequest, { modelSpec: { name: 'default', signatureName: 'serving_default' }, inputs: { instances: tensor } });
  const client = predictionServiceClient(address);
  try {
    const res = fromBinary(PredictResponse, await client.call('Predict', toBinary(PredictRequest, req))) as Msg;
    const out: Record<string, { floatVal: number[]; shape: bigint[] }> = {};
    for (const [name, t] of Object.entries(res.outputs as Record<string, Msg>)) {
      out[name] = { floatVal: [...(t.floatVal as number[])], shape: ((t.tensorShape as Msg).dim as Msg[]).map((d) => d.size as bigint) };
    }
    return out;
  } finally {
    client.close();
  }
}
