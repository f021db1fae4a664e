// Greedy decoding with ONNX Runtime (onnxruntime-node): the reference
// `tfc generate` is checked against. A model exported with past keys and
// values runs the prompt with empty pasts, then each chosen token with the
// presents fed back (past_X <- present_X); a model without (what tfc
// compiles with --decoder) runs the whole sequence so far each step. The
// highest logit of the last position is the next token; prints each
// sequence's new tokens as `tfc generate` does.
//
//   node generate_ort.js model.onnx --prompt-ids ids.npy --max-new-tokens N
//
// NODE_PATH must point at onnxruntime-node's node_modules (scripts/common.sh
// installs it under build/ort).
'use strict';
const ort = require('onnxruntime-node');
const { readNpy } = require('./run_ort.js');

async function main() {
  const args = process.argv.slice(2);
  let model = null; let promptFile = null; let steps = 16;
  for (let i = 0; i < args.length; ++i) {
    if (args[i] === '--prompt-ids') promptFile = args[++i];
    else if (args[i] === '--max-new-tokens') steps = Number(args[++i]);
    else model = args[i];
  }
  if (!model || !promptFile) throw new Error('usage: generate_ort.js model.onnx --prompt-ids ids.npy [--max-new-tokens N]');
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all' });
  const prompt = readNpy(promptFile);
  const [batch] = prompt.dims;
  const pasts = session.inputNames.filter((name) => name.includes('past'));
  const feeds = { input_ids: prompt };
  for (const name of pasts) {
    // [layers, batch, heads, 0, head_dim]: the shapes gpt2-kv takes; the
    // static dims come from an output's run on the prompt, so run once
    // with a zero-length past shaped from the model's metadata.
    const meta = session.inputMetadata ? session.inputMetadata.find((m) => m.name === name) : null;
    const dims = meta && meta.shape ? meta.shape.map((d, i) => (typeof d === 'number' ? d : (i === 1 ? batch : 0))) : null;
    if (!dims) throw new Error(`no shape for ${name}`);
    feeds[name] = new ort.Tensor('float32', new Float32Array(0), dims);
  }
  const tokens = Array.from({ length: batch }, () => []);
  for (let step = 0; step < steps; ++step) {
    const results = await session.run(feeds);
    const logits = results.logits;
    const [, length, vocab] = logits.dims;
    const next = [];
    for (let b = 0; b < batch; ++b) {
      const row = logits.data.subarray((b * length + length - 1) * vocab, (b * length + length) * vocab);
      let best = 0;
      for (let v = 1; v < vocab; ++v) if (row[v] > row[best]) best = v;
      next.push(best);
      tokens[b].push(best);
    }
    if (pasts.length) {
      feeds.input_ids = new ort.Tensor('int64', BigInt64Array.from(next.map(BigInt)), [batch, 1]);
      for (const name of pasts) feeds[name] = results[name.replace('past', 'present')];
    } else {
      // The whole sequence again, the new tokens appended.
      const ids = feeds.input_ids; const old = ids.dims[1];
      const grown = new BigInt64Array(batch * (old + 1));
      for (let b = 0; b < batch; ++b) {
        grown.set(ids.data.subarray(b * old, (b + 1) * old), b * (old + 1));
        grown[b * (old + 1) + old] = BigInt(next[b]);
      }
      feeds.input_ids = new ort.Tensor('int64', grown, [batch, old + 1]);
    }
  }
  tokens.forEach((row, b) => console.log(`sequence ${b}: ${row.join(' ')}`));
}

main().catch((error) => { console.error(`generate_ort.js: ${error.message}`); process.exit(1); });
