#!/usr/bin/env node
// The ONNX Runtime peer of `sluice bench`: the same measurement with onnxruntime-node's CPU execution
// provider (ONNX Runtime's prebuilt CPU library), printed as JSON with the keys of `sluice bench --json`.
//
//   node benchmarks/ort_bench.js MODEL [--threads N] [--sessions S] [-t SECONDS] [-niter N] [--batch B]
//                                [--seed N] [--json FILE]
//
// --threads N   intra-op threads of each session (default 2); inter-op threads are 1 (sequential mode).
// --sessions S  S sessions, each with N threads, run at once, each with one request in flight (default 1).
//               S > 1 runs each session in its own worker thread, because onnxruntime-node runs an
//               inference synchronously on the thread that calls run().
// -t, -niter    measure for SECONDS, or N inferences in all, whichever comes first (default: 10 s).
// --batch B     dimension 0 of every input when it is dynamic (default 1); other dynamic dimensions are 1.
//
// Inputs are seeded random data like sluice's: reals uniform in [-1, 1], integers in [0, 9], booleans.
// One warm-up inference per session comes first (first_inference_ms: the slowest session's).
'use strict';

const fs = require('node:fs');
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const ort = require('onnxruntime-node');

const USAGE =
  'usage: node ort_bench.js MODEL [--threads N] [--sessions S] [-t SECONDS] [-niter N] [--batch B] ' +
  '[--seed N] [--json FILE]';
const DEFAULT_TIME_S = 10;

function fail(message) {
  process.stderr.write(`ort_bench: error: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const options = { model: null, threads: 2, sessions: 1, time: 0, niter: 0, batch: 0, seed: 0, json: null };
  const positiveInteger = [(v) => Number.isInteger(v) && v >= 1, 'an integer >= 1'];
  const numeric = {
    '--threads': ['threads', ...positiveInteger],
    '--sessions': ['sessions', ...positiveInteger],
    '-t': ['time', (v) => v > 0, 'seconds > 0'],
    '--time': ['time', (v) => v > 0, 'seconds > 0'],
    '-niter': ['niter', ...positiveInteger],
    '--niter': ['niter', ...positiveInteger],
    '-b': ['batch', ...positiveInteger],
    '--batch': ['batch', ...positiveInteger],
    '--seed': ['seed', (v) => Number.isInteger(v) && v >= 0, 'an integer >= 0'],
  };
  for (let i = 0; i < argv.length; ++i) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    if (arg in numeric) {
      const [key, valid, expected] = numeric[arg];
      const text = argv[++i];
      const value = Number(text);
      if (text === undefined || text.trim() === '' || !valid(value)) {
        fail(`${arg}: expected ${expected}, got '${text}'`);
      }
      options[key] = value;
    } else if (arg === '--json') {
      options.json = argv[++i];
      if (options.json === undefined) fail('--json: expected a file name');
    } else if (arg.startsWith('-')) {
      fail(`unknown option '${arg}'`);
    } else if (options.model === null) {
      options.model = arg;
    } else {
      fail(`unexpected argument '${arg}'`);
    }
  }
  if (options.model === null) fail('no MODEL given');
  if (options.time === 0 && options.niter === 0) options.time = DEFAULT_TIME_S;
  return options;
}

// mulberry32: a small seeded generator, so that runs get the same inputs.
function makeRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ARRAYS = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
};

// The static shape of an input: dynamic (symbolic) dimension 0 is the batch, other dynamic ones are 1.
function resolveShape(meta, batch) {
  return meta.shape.map((dim, axis) => {
    if (typeof dim === 'number' && dim >= 0) {
      if (axis === 0 && batch > 0 && dim !== batch) {
        const what = `input '${meta.name}' has a static dimension 0 of ${dim}`;
        throw new Error(`${what}: --batch ${batch} cannot change it`);
      }
      return dim;
    }
    return axis === 0 && batch > 0 ? batch : 1;
  });
}

function randomFeeds(session, batch, seed) {
  const random = makeRandom(seed);
  const feeds = {};
  const inputs = [];
  for (const meta of session.inputMetadata) {
    if (!meta.isTensor) throw new Error(`input '${meta.name}' is not a tensor`);
    const ArrayType = ARRAYS[meta.type];
    if (ArrayType === undefined) {
      throw new Error(`input '${meta.name}': element type ${meta.type} is not supported here`);
    }
    const shape = resolveShape(meta, batch);
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new ArrayType(size);
    for (let i = 0; i < size; ++i) {
      if (meta.type === 'float32' || meta.type === 'float64') data[i] = random() * 2 - 1;
      else if (meta.type === 'bool') data[i] = random() < 0.5 ? 1 : 0;
      else if (meta.type === 'int64' || meta.type === 'uint64') data[i] = BigInt(Math.floor(random() * 10));
      else data[i] = Math.floor(random() * 10);
    }
    feeds[meta.name] = new ort.Tensor(meta.type, data, shape);
    inputs.push({ name: meta.name, type: meta.type, shape: `[${shape.join(',')}]` });
  }
  return { feeds, inputs };
}

function sessionOptions(threads) {
  return {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  };
}

function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

// Creates a session, sets its inputs and runs the warm-up inference.
async function prepare(options) {
  let start = nowMs();
  const session = await ort.InferenceSession.create(options.model, sessionOptions(options.threads));
  const createMs = nowMs() - start;
  const { feeds, inputs } = randomFeeds(session, options.batch, options.seed);
  start = nowMs();
  await session.run(feeds);
  return { session, feeds, inputs, createMs, firstMs: nowMs() - start };
}

// One request in flight: runs until niter inferences in all (`counter`, an Int32Array over memory shared by
// the sessions, hands out the slots) or until the time since `startMs` (the common start) is up.
async function measure(session, feeds, options, counter, startMs) {
  const latencies = [];
  for (;;) {
    if (options.niter > 0 && Atomics.add(counter, 0, 1) >= options.niter) break;
    const begin = nowMs();
    await session.run(feeds);
    const end = nowMs();
    latencies.push(end - begin);
    if (options.time > 0 && end - startMs >= options.time * 1000) break;
  }
  return latencies;
}

// Nearest-rank percentiles and the median, as `sluice bench` computes them
// (src/tools/sluice/bench_report.cpp).
function latencyStats(latencies) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const n = sorted.length;
  const percentile = (p) => sorted[Math.min(Math.max(Math.ceil((p / 100) * n), 1), n) - 1];
  return {
    median: n % 2 === 1 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2,
    average: sorted.reduce((a, b) => a + b, 0) / n,
    min: sorted[0],
    max: sorted[n - 1],
    p90: percentile(90),
    p99: percentile(99),
  };
}

// A worker: one session of several. Messages: -> {ready, createMs, firstMs, inputs}; <- {start: ms};
// -> {latencies}.
async function workerMain() {
  const { options, shared } = workerData;
  const { session, feeds, inputs, createMs, firstMs } = await prepare(options);
  const counter = new Int32Array(shared);
  parentPort.once('message', async ({ startMs }) => {
    const latencies = await measure(session, feeds, options, counter, startMs);
    parentPort.postMessage({ latencies });
  });
  parentPort.postMessage({ ready: true, createMs, firstMs, inputs });
}

async function runSessions(options, counter) {
  if (options.sessions === 1) {
    const { session, feeds, inputs, createMs, firstMs } = await prepare(options);
    const startMs = nowMs();
    const latencies = await measure(session, feeds, options, counter, startMs);
    return { inputs, createMs, firstMs, latencies, durationMs: nowMs() - startMs };
  }
  const workers = [];
  const ready = [];
  for (let i = 0; i < options.sessions; ++i) {
    const worker = new Worker(__filename, { workerData: { options, shared: counter.buffer } });
    workers.push(worker);
    ready.push(
      new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      }),
    );
  }
  const prepared = await Promise.all(ready);
  const finished = workers.map(
    (worker) =>
      new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      }),
  );
  const startMs = nowMs();
  for (const worker of workers) worker.postMessage({ startMs });
  const results = await Promise.all(finished);
  const durationMs = nowMs() - startMs;
  await Promise.all(workers.map((worker) => worker.terminate()));
  return {
    inputs: prepared[0].inputs,
    createMs: Math.max(...prepared.map((p) => p.createMs)),
    firstMs: Math.max(...prepared.map((p) => p.firstMs)),
    latencies: results.flatMap((r) => r.latencies),
    durationMs,
  };
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const run = await runSessions(options, counter);
  const first = run.inputs[0];
  const batch = first && first.shape !== '[]' ? Number(first.shape.slice(1).split(',')[0]) : 1;
  const count = run.latencies.length;
  const report = {
    throughput_fps: (batch * count) / (run.durationMs / 1000),
    count,
    duration_ms: run.durationMs,
    latency_ms: latencyStats(run.latencies),
    first_inference_ms: run.firstMs,
    compile_ms: run.createMs, // InferenceSession.create: reading and optimizing the model
    peak_rss_kb: process.resourceUsage().maxRSS, // kilobytes, the whole process
    model: options.model,
    device: 'ORT-CPU',
    api: 'sync',
    requests: options.sessions,
    batch,
    seed: options.seed,
    inputs: run.inputs,
    properties: {
      ONNXRUNTIME_VERSION: ort.env.versions.node || ort.env.versions.common,
      EXECUTION_PROVIDER: 'cpu',
      SESSIONS: String(options.sessions),
      INTRA_OP_NUM_THREADS: String(options.threads),
      INTER_OP_NUM_THREADS: '1',
      GRAPH_OPTIMIZATION_LEVEL: 'all',
      EXECUTION_MODE: 'sequential',
    },
  };
  const text = `${JSON.stringify(report, null, 2)}\n`;
  process.stdout.write(text);
  if (options.json) fs.writeFileSync(options.json, text);
}

if (isMainThread) {
  main().catch((error) => {
    process.stderr.write(`ort_bench: error: ${error && error.message ? error.message : error}\n`);
    process.exit(1);
  });
} else {
  workerMain().catch((error) => {
    throw error;
  });
}
