// Times an ONNX model under ONNX Runtime (onnxruntime-node) on .npy inputs,
// the way `tfc run --bench` times a compiled one: two warm-up runs, then N
// timed runs, median and minimum printed in tfc's format.
//
//   node ort_bench.js model.onnx --input name=file.npy ... --bench N --threads T [-o dir]
//
// Graph optimizations are on (ORT_ENABLE_ALL), as a deployment would run.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

// The input dtypes transformer models take: float32 activations, int64 or
// int32 token ids and masks, bool padding masks.
const DTYPES = {
  '<f4': ['float32', Float32Array], '<i8': ['int64', BigInt64Array],
  '<i4': ['int32', Int32Array], '|b1': ['bool', Uint8Array],
};

function readNpy(file) {
  const buffer = fs.readFileSync(file);
  if (buffer.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not a .npy file`);
  const headerLength = buffer[6] === 1 ? buffer.readUInt16LE(8) : buffer.readUInt32LE(8);
  const start = buffer[6] === 1 ? 10 : 12;
  const header = buffer.toString('latin1', start, start + headerLength);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  if (!(descr in DTYPES)) throw new Error(`${file}: dtype ${descr} is not float32, int64, int32 or bool`);
  const [type, ArrayType] = DTYPES[descr];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1]
      .split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const bytes = buffer.subarray(start + headerLength,
                                start + headerLength + ArrayType.BYTES_PER_ELEMENT * count);
  return new ort.Tensor(type, new ArrayType(new Uint8Array(bytes).buffer, 0, count), shape);
}

function writeNpyFloat32(file, tensor) {
  const shape = tensor.dims.length === 1 ? `(${tensor.dims[0]},)` : `(${tensor.dims.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = 1;
  prefix.writeUInt16LE(header.length, 8);
  const data = tensor.data;
  fs.writeFileSync(file, Buffer.concat([prefix, Buffer.from(header, 'latin1'),
    Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

async function main() {
  const args = process.argv.slice(2);
  let model = null; let runs = 5; let threads = 0; let outDir = null;
  const feeds = {};
  for (let i = 0; i < args.length; ++i) {
    if (args[i] === '--input') {
      const [name, file] = args[++i].split('=');
      feeds[name] = readNpy(file);
    } else if (args[i] === '--bench') runs = Number(args[++i]);
    else if (args[i] === '--threads') threads = Number(args[++i]);
    else if (args[i] === '-o') outDir = args[++i];
    else model = args[i];
  }
  if (!model) throw new Error('usage: node ort_bench.js model.onnx --input name=file.npy ... --bench N --threads T');
  const session = await ort.InferenceSession.create(model, {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  let results = await session.run(feeds); // warm-up
  // Later runs write into the warm-up's output tensors, as `tfc run --bench`
  // writes into its first run's buffers: a fresh output buffer per run costs
  // a page fault per 4 KB on the VMs we measure on (17 ms for a 6 MB
  // output), which would time the allocator, not the model.
  const fetches = {};
  for (const [name, tensor] of Object.entries(results)) fetches[name] = tensor;
  // The second warm-up, as tfc's (which is the first to use its memory plan).
  results = await session.run(feeds, fetches);
  const times = [];
  for (let i = 0; i < runs; ++i) {
    const start = process.hrtime.bigint();
    results = await session.run(feeds, fetches);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  if (process.env.ORT_BENCH_TIMES) console.log(times.map((t) => t.toFixed(2)).join(" "));
  times.sort((a, b) => a - b);
  if (outDir) {
    fs.mkdirSync(outDir, { recursive: true });
    for (const [name, tensor] of Object.entries(results)) writeNpyFloat32(path.join(outDir, `${name}.npy`), tensor);
  }
  console.log(`bench: ${runs} runs, median ${times[Math.floor(times.length / 2)].toFixed(3)} ms, min ${times[0].toFixed(3)} ms`);
}

main().catch((error) => { console.error(`ort_bench: ${error.message}`); process.exit(1); });
