import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import Long from 'long';
import type { tensorflow } from '../proto.js';
import { DEFAULT_SERVING_SIGNATURE_DEF_KEY } from '../export/parser-args.js';
import { invalidArgument, quoted, ServingError } from './errors.js';
import { signatureFor, versionNumber } from './predict-handler.js';
import { columnsToInputs, instancesToInputs, nest, signatureDefJson, tensorToJson } from './rest-json.js';
import type { PredictionServer } from './prediction-server.js';
import { statusOf } from './errors.js';

/** HTTP status of a TF status code, as TF Serving's REST API maps them. */
const HTTP: Record<ServingError['code'], number> = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  NOT_FOUND: 404,
  RESOURCE_EXHAUSTED: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
  CANCELLED: 499,
  DEADLINE_EXCEEDED: 504,
  UNIMPLEMENTED: 501,
};

/** `/v1/models/{name}[/versions/{v}|/labels/{l}][/metadata|:predict|:classify|:regress]` */
const ROUTE = /^\/v1\/models\/([^/:]+)(?:\/versions\/(\d+)|\/labels\/([^/:]+))?(?:(\/metadata)|:(predict|classify|regress))?$/;

type Json = unknown;

function modelSpec(name: string, version: string | undefined, label: string | undefined): tensorflow.serving.IModelSpec {
  return { name: decodeURIComponent(name), ...(version ? { version: { value: Long.fromString(version) } } : {}), ...(label ? { versionLabel: decodeURIComponent(label) } : {}) };
}

/**
 * TF Serving's REST API (the one on --rest_api_port): model status,
 * metadata, and Predict in row (`instances` → `predictions`) and columnar
 * (`inputs` → `outputs`) form, strings as UTF-8 or `{"b64": …}`; errors are
 * `{"error": "…"}` with TF Serving's HTTP status. Classify and Regress answer
 * as TF Serving does for a signature whose method is Predict.
 */
export class RestServer {
  private constructor(
    private readonly http: Server,
    readonly port: number,
  ) {}

  static async start(owner: PredictionServer, host: string, port: number): Promise<RestServer> {
    const maxBytes = owner.opts.maxMessageBytes ?? 16 << 20;
    const http = createServer((req, res) => void RestServer.handle(owner, maxBytes, req, res));
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, host, () => resolve());
    });
    const addr = http.address();
    return new RestServer(http, typeof addr === 'object' && addr ? addr.port : port);
  }

  private static async handle(owner: PredictionServer, maxBytes: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: Json) => {
      const text = JSON.stringify(body, null, 4);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(text);
    };
    try {
      const m = ROUTE.exec((req.url ?? '').split('?')[0]!);
      if (!m) throw new ServingError('NOT_FOUND', `Malformed request: ${req.method} ${quoted(req.url ?? '')}`);
      const [, name, version, label, metadata, verb] = m;
      const spec = modelSpec(name!, version, label);
      if (req.method === 'GET' && !verb) {
        send(200, metadata ? RestServer.metadata(owner, spec) : RestServer.status(owner, spec));
        return;
      }
      if (req.method !== 'POST' || !verb) throw new ServingError('NOT_FOUND', `Malformed request: ${req.method} ${quoted(req.url ?? '')}`);
      let gone = false;
      res.once('close', () => (gone = !res.writableFinished));
      const body = await readJson(req, maxBytes);
      send(200, await RestServer.infer(owner, spec, verb, body, () => (gone ? 'CANCELLED' : undefined)));
    } catch (err) {
      const { code, message } = statusOf(err);
      if (!res.headersSent) send(HTTP[code], { error: message });
    }
  }

  private static status(owner: PredictionServer, spec: tensorflow.serving.IModelSpec): Json {
    const m = owner.versions.resolve(spec);
    return { model_version_status: [{ version: String(versionNumber(m.version)), state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] };
  }

  private static metadata(owner: PredictionServer, spec: tensorflow.serving.IModelSpec): Json {
    const m = owner.versions.resolve(spec);
    return {
      model_spec: { name: owner.modelName, signature_name: '', version: String(versionNumber(m.version)) },
      metadata: { signature_def: { signature_def: Object.fromEntries(m.signatures.map((s) => [s.name, signatureDefJson(s)])) } },
    };
  }

  private static async infer(owner: PredictionServer, spec: tensorflow.serving.IModelSpec, verb: string, body: Json, abort: () => 'CANCELLED' | undefined): Promise<Json> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidArgument('the request body must be a JSON object');
    const b = body as Record<string, Json>;
    const signatureName = typeof b.signature_name === 'string' ? b.signature_name : DEFAULT_SERVING_SIGNATURE_DEF_KEY;
    return owner.versions.use(spec, async (model) => {
      const sig = signatureFor(model, { modelSpec: { signatureName } });
      if (verb !== 'predict') {
        const method = verb === 'classify' ? 'tensorflow/serving/classify' : 'tensorflow/serving/regress';
        throw invalidArgument(`Expected ${verb === 'classify' ? 'classification' : 'regression'} signature method_name to be ${method}. Was: tensorflow/serving/predict`);
      }
      const rows = Object.hasOwn(b, 'instances');
      if (rows === Object.hasOwn(b, 'inputs')) throw invalidArgument('Missing \'inputs\' or \'instances\' key (exactly one of them)');
      const inputs = rows ? instancesToInputs(b.instances, sig) : columnsToInputs(b.inputs, sig);
      const res = await model.predict({ modelSpec: { ...spec, signatureName }, inputs }, owner.predictOptions(abort));
      const outs = Object.entries(res.outputs ?? {}).map(([k, t]) => [k, tensorToJson(t)] as const);
      if (!rows) return { outputs: outs.length === 1 ? nest(outs[0]![1].values, outs[0]![1].shape) : Object.fromEntries(outs.map(([k, o]) => [k, nest(o.values, o.shape)])) };
      const batch = outs[0]?.[1].shape[0] ?? 0;
      const perRow = outs.map(([k, o]) => {
        if (o.shape[0] !== batch) throw invalidArgument(`output "${k}" has ${o.shape[0]} rows, other outputs ${batch}: ask in columnar form ("inputs")`);
        const rowsOf = nest(o.values, o.shape) as Json[];
        return [k, rowsOf] as const;
      });
      const predictions = Array.from({ length: batch }, (_, i) => (perRow.length === 1 ? perRow[0]![1][i] : Object.fromEntries(perRow.map(([k, r]) => [k, r[i]]))));
      return { predictions };
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }
}

async function readJson(req: IncomingMessage, maxBytes: number): Promise<Json> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > maxBytes) throw new ServingError('RESOURCE_EXHAUSTED', `request body larger than ${maxBytes} bytes`);
    chunks.push(c);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json;
  } catch (err) {
    throw invalidArgument(`JSON Parse error: ${(err as Error).message}`);
  }
}
