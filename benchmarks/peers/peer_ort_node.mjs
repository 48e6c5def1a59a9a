// The ONNX Runtime for Node.js driver of the peer suite (npm onnxruntime-node, pinned in
// tests/reference_runtimes/ort/package-lock.json; native libonnxruntime, CPU execution provider):
// graph optimisation 'all', sequential, intraOpNumThreads = N, interOpNumThreads = 1, the options
// of tests/reference_runtimes/ort/run.mjs. Same protocol as the other drivers (peer_common.py):
//   node peer_ort_node.mjs --models A.onnx,... --threads N --warmup W --runs R
import fs from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../tests/reference_runtimes/ort/package.json'));

function peakRssKb() {
  const m = fs.readFileSync('/proc/self/status', 'utf8').match(/^VmHWM:\s+(\d+) kB/m);
  return m ? Number(m[1]) : 0;
}

function fail(message, status) {
  process.stdout.write(JSON.stringify({runtime: 'onnxruntime-node', error: message}) + '\n');
  process.exit(status);
}

function options(argv) {
  const o = {models: [], threads: 1, warmup: 10, runs: 30};
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (value === undefined) fail(`option ${key} needs a value`, 2);
    if (key === '--models') o.models = value.split(',').filter((m) => m);
    else if (['--threads', '--warmup', '--runs'].includes(key)) o[key.slice(2)] = Number(value);
    else fail(`unknown option ${key}`, 2);
  }
  return o;
}

// Deterministic values in [-1, 1) (latency does not depend on them).
function inputValues(count, seed) {
  const data = new Float32Array(count);
  let x = seed >>> 0;
  for (let k = 0; k < count; ++k) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    data[k] = (x / 4294967296) * 2 - 1;
  }
  return data;
}

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const now = () => Number(process.hrtime.bigint()) / 1e6;

async function main() {
  const o = options(process.argv.slice(2));
  const ort = require('onnxruntime-node');
  const rssBefore = peakRssKb();
  const t0 = now();
  const sessions = [];
  for (const [m, file] of o.models.entries()) {
    let session;
    try {
      session = await ort.InferenceSession.create(file, {
        executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: o.threads,
        interOpNumThreads: 1, executionMode: 'sequential', logSeverityLevel: 3});
    } catch (error) {
      fail(`cannot load: ${error?.message ?? error}`, 3);
    }
    const feeds = {};
    session.inputMetadata.forEach((meta, k) => {
      const shape = Array.from(meta.shape);
      const count = shape.reduce((a, b) => a * b, 1);
      const seed = 12345 + 1000 * (10 * m + k);
      feeds[meta.name] = new ort.Tensor('float32', inputValues(count, seed), shape);
    });
    await session.run(feeds);
    sessions.push({session, feeds});
  }
  const loadMs = now() - t0;
  const runOnce = async () => {
    for (const s of sessions) await s.session.run(s.feeds);
  };
  for (let i = 0; i < o.warmup; ++i) await runOnce();
  const ms = [];
  for (let i = 0; i < o.runs; ++i) {
    const start = now();
    await runOnce();
    ms.push(now() - start);
  }
  const r4 = (x) => Math.round(x * 1e4) / 1e4;
  process.stdout.write(JSON.stringify({
    runtime: 'onnxruntime-node', median_ms: r4(median(ms)), min_ms: r4(Math.min(...ms)),
    max_ms: r4(Math.max(...ms)), load_ms: r4(loadMs), rss_before_kb: rssBefore,
    rss_peak_kb: peakRssKb(), samples_ms: ms.map(r4)}) + '\n');
  for (const s of sessions) await s.session.release();
}

main().catch((error) => fail(`run failed: ${error?.message ?? error}`, 1));
