#!/usr/bin/env node
// Runs a .tflite model with the official LiteRT runtime (the @litertjs/core WebAssembly build, CPU
// through XNNPACK) and writes its outputs, as the reference Polyhead's agreement tests compare
// against. Test-only: nothing here ships with Polyhead.
//
//   node run.mjs MODEL.tflite --input FILE.f32 [--input FILE2.f32 ...] --out DIR [--wasm compat|default]
//                [--verbose] [--repeat N]
//   --repeat N times N more runs after the first and prints their median latency (for reference
//   only: WebAssembly is not a fair speed peer of native code).
//   node run.mjs MODEL.tflite --input A.f32 --out DIR1 --input B.f32 --out DIR2 ...
//
// The second form runs the model once per --out (each with the --input files given since the
// previous --out) in one process: the runtime loads and the model compiles once.
//
// Inputs are raw little-endian float32 in the model's input order and shapes (NHWC, as TFLite).
// Writes DIR/<index>.f32 per output (little-endian float32) and DIR/outputs.json:
//   {"runtime": "...", "inputs": [{index,name,shape,dtype}], "outputs": [{index,name,shape,dtype,file}]}
// Exit status 0 on success, 1 on any error (message on stderr), 2 on bad usage.
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import vm from 'node:vm';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

function usage(message) {
  if (message) process.stderr.write(`litert_reference: ${message}\n`);
  process.stderr.write(
      'usage: node run.mjs MODEL.tflite --input FILE.f32 [--input FILE.f32 ...] --out DIR ' +
      '[--wasm compat|default] [--verbose]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const args = {model: null, inputs: [], runs: [], wasm: 'compat', verbose: false, repeat: 0};
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--input') args.inputs.push(value());
    else if (a === '--out') {
      args.runs.push({out: value(), inputs: args.inputs});
      args.inputs = [];
    }
    else if (a === '--wasm') args.wasm = value();
    else if (a === '--verbose') args.verbose = true;
    else if (a === '--repeat') {
      args.repeat = Number(value());
      if (!Number.isInteger(args.repeat) || args.repeat < 1) usage('--repeat must be a positive integer');
    }
    else if (a === '-h' || a === '--help') usage();
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else if (args.model === null) args.model = a;
    else usage(`unexpected argument ${a}`);
  }
  if (!args.model) usage('no model given');
  if (args.runs.length === 0) usage('no --out DIR given');
  if (args.inputs.length) {
    // --input after the only --out: the single-run form in any order.
    if (args.runs.length !== 1 || args.runs[0].inputs.length) usage('--input after the last --out');
    args.runs[0].inputs = args.inputs;
  }
  if (args.wasm !== 'compat' && args.wasm !== 'default') usage(`--wasm must be compat or default`);
  return args;
}

// LiteRT.js expects to run in a browser or a web worker: it loads its emscripten glue with
// importScripts() and reads `self.ModuleFactory`. Provide what a worker would, backed by the
// file system; the glue itself detects Node and reads its .wasm with node:fs.
function installWorkerShims(wasmDir) {
  globalThis.self = globalThis;
  if (!globalThis.navigator) globalThis.navigator = {};
  if (globalThis.navigator.hardwareConcurrency === undefined) {
    Object.defineProperty(globalThis.navigator, 'hardwareConcurrency',
                          {value: os.cpus().length, configurable: true});
  }
  // The glue's Node path uses CommonJS `require` and `__dirname`.
  globalThis.require = require;
  globalThis.__dirname = wasmDir;
  globalThis.importScripts = (...urls) => {
    for (const url of urls) {
      const file = url.startsWith('file:') ? fileURLToPath(url) : url;
      // Global scope, like a classic worker script: `var ModuleFactory` becomes self.ModuleFactory.
      vm.runInThisContext(fs.readFileSync(file, 'utf8'), {filename: file});
    }
  };
}

function readF32(file, count) {
  const bytes = fs.readFileSync(file);
  if (bytes.length !== count * 4) {
    throw new Error(`input ${file} has ${bytes.length} bytes; the model input needs ` +
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

const details = (d) => ({index: d.index, name: d.name, shape: Array.from(d.shape), dtype: d.dtype});

// LiteRT logs its set-up (INFO lines, the failed WebGPU probe) through the console; keep that
// out of the way unless --verbose, and show it only when the run fails.
const held = [];
function holdConsole() {
  for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
    console[level] = (...parts) => held.push(parts.map(String).join(' '));
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (!args.verbose) holdConsole();
  const coreDir = path.dirname(require.resolve('@litertjs/core/package.json'));
  const wasmDir = path.join(coreDir, 'wasm');
  installWorkerShims(wasmDir);
  const litert = await import('@litertjs/core');

  // The compat build (SIMD128, no relaxed SIMD) gives the same numbers on every machine; the
  // default lets LiteRT.js pick the relaxed-SIMD build when the engine supports it.
  const glue = args.wasm === 'compat' ? path.join(wasmDir, 'litert_wasm_compat_internal.js')
                                      : wasmDir + path.sep;
  await litert.loadLiteRt(glue);

  const modelBytes = new Uint8Array(fs.readFileSync(args.model));
  const model = await litert.loadAndCompile(modelBytes, {accelerator: 'wasm'});
  for (const run of args.runs) await runOnce(litert, model, run, glue, args, coreDir);
  model.delete();
}

async function runOnce(litert, model, run, glue, args, coreDir) {
  const inputDetails = model.getInputDetails();
  const outputDetails = model.getOutputDetails();
  if (run.inputs.length !== inputDetails.length) {
    throw new Error(`the model has ${inputDetails.length} input(s) ` +
                    `(${inputDetails.map((d) => `${d.name} [${Array.from(d.shape)}]`).join(', ')}); ` +
                    `got ${run.inputs.length} --input file(s) for --out ${run.out}`);
  }
  const inputs = inputDetails.map((d, i) => {
    if (d.dtype !== 'float32') throw new Error(`input ${d.name} is ${d.dtype}; only float32 is supported`);
    const shape = Array.from(d.shape);
    const count = shape.reduce((a, b) => a * b, 1);
    return new litert.Tensor(readF32(run.inputs[i], count), shape);
  });

  const outputs = await model.run(inputs);
  let latencyMs = null;
  if (args.repeat) {
    const times = [];
    for (let r = 0; r < args.repeat; ++r) {
      const start = process.hrtime.bigint();
      const again = await model.run(inputs);
      for (const t of again) await t.data();  // include reading the results back
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
      for (const t of again) t.delete();
    }
    times.sort((a, b) => a - b);
    latencyMs = times[Math.floor(times.length / 2)];
    process.stdout.write(`latency median ${latencyMs.toFixed(3)} ms over ${args.repeat} runs ` +
                         `(min ${times[0].toFixed(3)} ms): ${path.basename(args.model)}\n`);
  }
  fs.mkdirSync(run.out, {recursive: true});
  const described = [];
  for (let i = 0; i < outputs.length; ++i) {
    const t = outputs[i];
    const data = await t.data();
    const d = outputDetails[i];
    const file = `${i}.f32`;
    writeF32(path.join(run.out, file), data);
    described.push({...details(d), index: i, tensor_index: d.index,
                    shape: Array.from(t.type.layout.dimensions), file});
    t.delete();
  }
  for (const t of inputs) t.delete();
  const version = JSON.parse(fs.readFileSync(path.join(coreDir, 'package.json'), 'utf8')).version;
  const report = {
    runtime: `@litertjs/core ${version} (${args.wasm === 'compat' ? path.basename(glue) : 'build chosen by LiteRT.js'}, accelerator wasm)`,
    model: path.resolve(args.model),
    inputs: inputDetails.map(details),
    outputs: described,
    latency_ms_median: latencyMs,
  };
  fs.writeFileSync(path.join(run.out, 'outputs.json'), JSON.stringify(report, null, 2) + '\n');
}

main().then(() => process.exit(0), (error) => {
  if (held.length) process.stderr.write(held.join('\n') + '\n');
  process.stderr.write(`litert_reference: ${error?.stack ?? error}\n`);
  process.exit(1);
});
