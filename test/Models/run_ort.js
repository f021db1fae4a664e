// Runs an ONNX model with ONNX Runtime (onnxruntime-node) on .npy inputs and
// writes its outputs as .npy: the reference tfc's outputs are checked
// against.
//
//   node run_ort.js model.onnx --input name=file.npy ... -o outdir [--threads N]
//
// onnxruntime-node comes from npm (scripts/common.sh installs it under
// build/ort); NODE_PATH must point at its node_modules.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

const DTYPES = {
  '<f4': ['float32', Float32Array], '<f8': ['float64', Float64Array],
  '|i1': ['int8', Int8Array], '|u1': ['uint8', Uint8Array],
  '<i2': ['int16', Int16Array], '<u2': ['uint16', Uint16Array],
  '<i4': ['int32', Int32Array], '<u4': ['uint32', Uint32Array],
  '<i8': ['int64', BigInt64Array], '<u8': ['uint64', BigUint64Array],
  '|b1': ['bool', Uint8Array],
};

function readNpy(file) {
  const buffer = fs.readFileSync(file);
  if (buffer.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = buffer[6];
  const headerLength = major === 1 ? buffer.readUInt16LE(8) : buffer.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buffer.toString('latin1', start, start + headerLength);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1]
      .split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  if (!(descr in DTYPES)) throw new Error(`${file}: unsupported dtype ${descr}`);
  const [type, ArrayType] = DTYPES[descr];
  const count = shape.reduce((a, b) => a * b, 1);
  const bytes = buffer.subarray(start + headerLength, start + headerLength + count * ArrayType.BYTES_PER_ELEMENT);
  const data = new ArrayType(new Uint8Array(bytes).buffer, 0, count);
  return new ort.Tensor(type, type === 'bool' ? Uint8Array.from(data) : data, shape);
}

function writeNpy(file, tensor) {
  const entry = Object.entries(DTYPES).find(([, [type]]) => type === tensor.type);
  if (!entry) throw new Error(`cannot write ${tensor.type}`);
  const shape = tensor.dims.length === 1 ? `(${tensor.dims[0]},)` : `(${tensor.dims.join(', ')})`;
  let header = `{'descr': '${entry[0]}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = 1; prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  const data = tensor.type === 'bool' ? Uint8Array.from(tensor.data, (v) => (v ? 1 : 0)) : tensor.data;
  fs.writeFileSync(file, Buffer.concat([prefix, Buffer.from(header, 'latin1'),
    Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

async function main() {
  const args = process.argv.slice(2);
  let model = null; let outDir = null; let threads = 0; const inputs = {};
  for (let i = 0; i < args.length; ++i) {
    if (args[i] === '--input') {
      const [name, file] = args[++i].split('=');
      inputs[name] = readNpy(file);
    } else if (args[i] === '-o') {
      outDir = args[++i];
    } else if (args[i] === '--threads') {
      threads = Number(args[++i]);
    } else {
      model = args[i];
    }
  }
  if (!model || !outDir) throw new Error('usage: run_ort.js model.onnx --input name=file.npy ... -o outdir');
  const options = { graphOptimizationLevel: 'all' };
  if (threads > 0) { options.intraOpNumThreads = threads; options.interOpNumThreads = 1; }
  const session = await ort.InferenceSession.create(model, options);
  const results = await session.run(inputs);
  fs.mkdirSync(outDir, { recursive: true });
  for (const name of session.outputNames) {
    writeNpy(path.join(outDir, `${name.replace(/[/\\]/g, '_')}.npy`), results[name]);
    console.log(`${name}: ${results[name].type} [${results[name].dims.join(', ')}]`);
  }
}

module.exports = { readNpy, writeNpy };

if (require.main === module) {
  main().catch((error) => { console.error(`run_ort.js: ${error.message}`); process.exit(1); });
}
