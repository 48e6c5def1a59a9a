#!/usr/bin/env node
// Runs ONNX models with the official ONNX Runtime (npm onnxruntime-node, native CPU execution
// provider) and writes their outputs or times them: the reference for Polyhead's ONNX importer
// tests and the ORT column of its benchmarks. Test/benchmark-only: nothing here ships with
// Polyhead.
//
//   node run.mjs MODEL.onnx [--input NAME=FILE.f32 ...] --out DIR [--threads N] [--rss]
//   node run.mjs --bench --models A.onnx,B.onnx,... [--group A.onnx,B.onnx] [--runs R]
//                [--warmup W] [--rounds K] [--threads N] [--rss]
//
// Session options: CPU EP, graphOptimizationLevel 'all', intraOpNumThreads N (default 1),
// interOpNumThreads 1, executionMode 'sequential'.
//
// Run mode: inputs are raw little-endian float32 files in the model's declared shape, given by
// input name. Without any --input every float32 input is generated (see lcgInput below) and
// written to DIR/<input name>.f32, so a C++ test can feed exactly the same bytes. Each output is
// written to DIR/<output name>.f32 (little-endian float32; characters outside [A-Za-z0-9._-] in
// the name become '_') and described in DIR/outputs.json.
//
// Bench mode: every model gets its own session and a generated input. After W warm-up runs per
// model, each of K rounds runs every model R times and the group "sequential" (the --group
// models, default all --models, one after another) R times, in an order shuffled with a fixed
// seed, so slow drifts of a shared machine spread over all of them. Prints JSON: per model and
// for the group the median/min/max/mean in ms over all K*R timed runs and the median per round.
// A timed run is one `await session.run(feeds)`, output tensors included.
//
// --rss adds peak resident memory (VmHWM of /proc/self/status, kB): "before" once ORT is
// imported but before any model is loaded, "after" once everything ran, and their difference.
//
// Exit status 0 on success, 1 on any error (message on stderr), 2 on bad usage.
import fs from 'node:fs';
import path from 'node:path';
import {createRequire} from 'node:module';

const require = createRequire(import.meta.url);

function usage(message) {
  if (message) process.stderr.write(`ort_reference: ${message}\n`);
  process.stderr.write(
      'usage: node run.mjs MODEL.onnx [--input NAME=FILE.f32 ...] --out DIR [--threads N] [--rss]\n' +
      '       node run.mjs --bench --models A.onnx,B.onnx,... [--group A.onnx,...] [--runs R]\n' +
      '                    [--warmup W] [--rounds K] [--threads N] [--rss]\n');
  process.exit(2);
}

class UserError extends Error {}

function parseArgs(argv) {
  const args = {model: null, inputs: [], out: null, threads: 1, rss: false, bench: false,
                models: [], group: null, runs: 20, warmup: 5, rounds: 5};
  const positive = (name, text, allowZero = false) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) {
      usage(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got '${text}'`);
    }
    return n;
  };
  const list = (name, text) => {
    const items = text.split(',').filter((s) => s.length);
    if (!items.length) usage(`${name} needs a comma-separated list of .onnx files`);
    return items;
  };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--input') {
      const v = value();
      const eq = v.indexOf('=');
      if (eq <= 0 || eq === v.length - 1) usage(`--input expects NAME=FILE.f32, got '${v}'`);
      args.inputs.push({name: v.slice(0, eq), file: v.slice(eq + 1)});
    } else if (a === '--out') args.out = value();
    else if (a === '--threads') args.threads = positive(a, value());
    else if (a === '--rss') args.rss = true;
    else if (a === '--bench') args.bench = true;
    else if (a === '--models') args.models = list(a, value());
    else if (a === '--group') args.group = list(a, value());
    else if (a === '--runs') args.runs = positive(a, value());
    else if (a === '--warmup') args.warmup = positive(a, value(), true);
    else if (a === '--rounds') args.rounds = positive(a, value());
    else if (a === '-h' || a === '--help') usage();
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else if (args.model === null) args.model = a;
    else usage(`unexpected argument ${a}`);
  }
  if (args.bench) {
    if (args.model) args.models.unshift(args.model);
    if (!args.models.length) usage('--bench needs --models A.onnx,B.onnx,...');
    if (args.inputs.length || args.out) usage('--input/--out are for run mode, not --bench');
    for (const g of args.group ?? []) {
      if (!args.models.includes(g)) usage(`--group model ${g} is not one of --models`);
    }
  } else {
    if (!args.model) usage('no model given');
    if (!args.out) usage('no --out DIR given');
    if (args.models.length || args.group) usage('--models/--group need --bench');
  }
  return args;
}

function peakRssKb() {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const field = (key) => {
    const m = status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : null;
  };
  return {vm_hwm_kb: field('VmHWM'), vm_rss_kb: field('VmRSS')};
}

function checkFile(file, what) {
  let st;
  try {
    st = fs.statSync(file);
  } catch {
    throw new UserError(`${what} ${file} does not exist`);
  }
  if (!st.isFile()) throw new UserError(`${what} ${file} is not a file`);
}

// Deterministic input: a 32-bit linear congruential generator, x <- (1664525 x + 1013904223)
// mod 2^32, starting from x = 12345 + 1000 * (index of the input in the model); element k is
// x_{k+1} / 2^32 * 2 - 1 (the (k+1)-th state mapped to [-1, 1)), rounded to float32.
function lcgInput(count, inputIndex) {
  const data = new Float32Array(count);
  let x = (12345 + 1000 * inputIndex) >>> 0;
  for (let k = 0; k < count; ++k) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    data[k] = (x / 4294967296) * 2 - 1;
  }
  return data;
}

function readF32(file, count, name) {
  checkFile(file, `input file for '${name}'`);
  const bytes = fs.readFileSync(file);
  if (bytes.length !== count * 4) {
    throw new UserError(`input file ${file} has ${bytes.length} bytes; input '${name}' needs ` +
                        `${count} float32 values (${count * 4} bytes)`);
  }
  const data = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count; ++i) data[i] = view.getFloat32(i * 4, true);
  return data;
}

function writeF32(file, array) {
  const buf = Buffer.alloc(array.length * 4);
  for (let i = 0; i < array.length; ++i) buf.writeFloatLE(Number(array[i]), i * 4);
  fs.writeFileSync(file, buf);
}

const safeName = (name) => name.replace(/[^A-Za-z0-9._-]/g, '_');

function sessionOptions(threads) {
  return {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    logSeverityLevel: 3,
  };
}

async function openSession(ort, file, threads) {
  checkFile(file, 'model');
  try {
    return await ort.InferenceSession.create(file, sessionOptions(threads));
  } catch (error) {
    throw new UserError(`onnxruntime could not load ${file}: ${error?.message ?? error}`);
  }
}

// The model's inputs with static shapes (symbolic or unknown dimensions are rejected: the
// models Polyhead imports are static-shape).
function inputSpecs(session, file) {
  return session.inputMetadata.map((m, index) => {
    if (!m.isTensor) throw new UserError(`${file}: input '${m.name}' is not a tensor`);
    const shape = Array.from(m.shape);
    if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new UserError(`${file}: input '${m.name}' has a non-static shape [${shape}]`);
    }
    return {index, name: m.name, type: m.type, shape, count: shape.reduce((a, b) => a * b, 1)};
  });
}

function generatedFeeds(ort, specs, file) {
  const feeds = {};
  for (const s of specs) {
    if (s.type !== 'float32') throw new UserError(`${file}: input '${s.name}' is ${s.type}; only float32 is supported`);
    feeds[s.name] = new ort.Tensor('float32', lcgInput(s.count, s.index), s.shape);
  }
  return feeds;
}

function runtimeName() {
  const version = JSON.parse(fs.readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')).version;
  return `onnxruntime-node ${version} (native libonnxruntime, CPU execution provider)`;
}

async function runMode(ort, args) {
  const rssBefore = args.rss ? peakRssKb() : null;
  const session = await openSession(ort, args.model, args.threads);
  const specs = inputSpecs(session, args.model);
  fs.mkdirSync(args.out, {recursive: true});
  const feeds = {};
  const described = [];
  if (args.inputs.length === 0) {
    Object.assign(feeds, generatedFeeds(ort, specs, args.model));
    for (const s of specs) {
      const file = `${safeName(s.name)}.f32`;
      writeF32(path.join(args.out, file), feeds[s.name].data);
      described.push({name: s.name, shape: s.shape, dtype: s.type, file, generated: true});
    }
  } else {
    const byName = new Map();
    for (const given of args.inputs) {
      if (!specs.some((s) => s.name === given.name)) {
        throw new UserError(`${args.model} has no input '${given.name}'; its inputs are ` +
                            specs.map((s) => `${s.name} [${s.shape}]`).join(', '));
      }
      if (byName.has(given.name)) throw new UserError(`input '${given.name}' given twice`);
      byName.set(given.name, given.file);
    }
    for (const s of specs) {
      if (!byName.has(s.name)) {
        throw new UserError(`missing --input ${s.name}=FILE.f32 (shape [${s.shape}]); give every ` +
                            'input or none (then they are generated)');
      }
      if (s.type !== 'float32') throw new UserError(`input '${s.name}' is ${s.type}; only float32 is supported`);
      const file = byName.get(s.name);
      feeds[s.name] = new ort.Tensor('float32', readF32(file, s.count, s.name), s.shape);
      described.push({name: s.name, shape: s.shape, dtype: s.type, file: path.resolve(file), generated: false});
    }
  }
  const results = await session.run(feeds);
  const outputs = [];
  for (const name of session.outputNames) {
    const t = results[name];
    const file = `${safeName(name)}.f32`;
    writeF32(path.join(args.out, file), t.data);
    outputs.push({name, shape: Array.from(t.dims), dtype: t.type, file});
  }
  const report = {
    runtime: runtimeName(),
    model: path.resolve(args.model),
    threads: args.threads,
    inputs: described,
    outputs,
  };
  if (args.rss) report.rss = rssReport(rssBefore);
  fs.writeFileSync(path.join(args.out, 'outputs.json'), JSON.stringify(report, null, 2) + '\n');
  await session.release();
}

function rssReport(before) {
  const after = peakRssKb();
  return {before, after, peak_increase_kb: after.vm_hwm_kb - before.vm_hwm_kb};
}

// Small seeded PRNG (mulberry32) for the shuffles: the same order on every invocation.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle(items, random) {
  for (let i = items.length - 1; i > 0; --i) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  const round3 = (x) => Math.round(x * 1000) / 1000;
  return {median_ms: round3(median), min_ms: round3(s[0]), max_ms: round3(s[s.length - 1]),
          mean_ms: round3(s.reduce((a, b) => a + b, 0) / s.length), samples: s.length};
}

async function timed(fn) {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function benchMode(ort, args) {
  const rssBefore = args.rss ? peakRssKb() : null;
  const models = [];
  for (const file of args.models) {
    const session = await openSession(ort, file, args.threads);
    const feeds = generatedFeeds(ort, inputSpecs(session, file), file);
    models.push({file, name: path.basename(file), session, feeds, times: [], rounds: []});
  }
  const group = (args.group ?? args.models).map((f) => models.find((m) => m.file === f));
  const runOne = (m) => m.session.run(m.feeds);
  const runGroup = async () => {
    for (const m of group) await runOne(m);
  };
  for (let w = 0; w < args.warmup; ++w) {
    for (const m of models) await runOne(m);
  }
  const seq = {times: [], rounds: []};
  const random = prng(0x9E3779B9);
  for (let round = 0; round < args.rounds; ++round) {
    const order = [];
    for (let r = 0; r < args.runs; ++r) {
      for (let i = 0; i <= models.length; ++i) order.push(i);  // index models.length = the group
    }
    const perRound = new Map();
    for (const i of shuffle(order, random)) {
      const ms = i === models.length ? await timed(runGroup) : await timed(() => runOne(models[i]));
      if (!perRound.has(i)) perRound.set(i, []);
      perRound.get(i).push(ms);
    }
    models.forEach((m, i) => {
      m.times.push(...perRound.get(i));
      m.rounds.push(stats(perRound.get(i)).median_ms);
    });
    seq.times.push(...perRound.get(models.length));
    seq.rounds.push(stats(perRound.get(models.length)).median_ms);
  }
  const report = {
    runtime: runtimeName(),
    threads: args.threads,
    session: sessionOptions(args.threads),
    warmup: args.warmup, runs: args.runs, rounds: args.rounds,
    models: models.map((m) => ({model: path.resolve(m.file), name: m.name, ...stats(m.times),
                                round_medians_ms: m.rounds})),
    sequential: {models: group.map((m) => m.name), ...stats(seq.times), round_medians_ms: seq.rounds},
  };
  if (args.rss) report.rss = rssReport(rssBefore);
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  for (const m of models) await m.session.release();
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const ort = require('onnxruntime-node');
  if (args.bench) await benchMode(ort, args);
  else await runMode(ort, args);
}

main().then(() => process.exit(0), (error) => {
  process.stderr.write(`ort_reference: ${error instanceof UserError ? error.message : (error?.stack ?? error)}\n`);
  process.exit(1);
});
