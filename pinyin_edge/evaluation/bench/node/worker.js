'use strict';
// The node timing worker, the twin of worker.py: one peer, one measurement, in a fresh process.
// usage: node worker.js cold|measure|speed SPEC OUT NAME
// SPEC names the folder where the npm packages are installed (node_dir) and the inputs; the result
// goes to OUT as JSON. Readings come back as the engine returns them: Python aligns and scores them.
const started = process.hrtime.bigint();
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

// Each peer's one-text call as a user would make it, with numbered tones.
const ENGINES = {
  'pinyin-pro': (req) => {
    const { pinyin } = req('pinyin-pro');
    return (text) => pinyin(text, { toneType: 'num', type: 'array', v: true });
  },
  'napi-pinyin': (req) => {
    const napi = req('@napi-rs/pinyin');
    // style 3 = WithToneNumEnd; segment + phrase: the package's contextual readings
    return (text) => napi.pinyin(text, { style: 3, segment: true, segmenter: 'phrase' });
  },
};

const ms = (from, to) => Number(to - from) / 1e6;
const maxRssMb = () => Math.round(process.resourceUsage().maxRSS / 102.4) / 10; // kilobytes

function timeCalls(call, timed, warmup, maxSeconds, minCalls = 20) {
  for (const text of warmup) call(text);
  const samples = [];
  let chars = 0;
  let spent = 0;
  for (const text of timed) {
    const began = process.hrtime.bigint();
    call(text);
    const elapsed = ms(began, process.hrtime.bigint());
    samples.push(elapsed);
    chars += text.length;
    spent += elapsed / 1000;
    if (spent > maxSeconds && samples.length >= Math.min(minCalls, timed.length)) break;
  }
  return [samples, chars];
}

// No batch API in either peer: the batched figure is the one-call loop, in batches as worker.py times
// them (a warm pass, then the timed pass over the same texts).
function timeBatched(call, texts, batchSize, maxSeconds) {
  const onePass = (items) => {
    let seconds = 0, sentences = 0, chars = 0;
    for (let start = 0; start < items.length; start += batchSize) {
      const batch = items.slice(start, start + batchSize);
      const began = process.hrtime.bigint();
      for (const text of batch) call(text);
      seconds += ms(began, process.hrtime.bigint()) / 1000;
      sentences += batch.length;
      chars += batch.reduce((n, t) => n + t.length, 0);
      if (seconds > maxSeconds) break;
    }
    return [seconds, sentences, chars];
  };
  const [, warmed] = onePass(texts);
  const [seconds, sentences, chars] = onePass(texts.slice(0, warmed));
  const rate = (n) => (seconds > 0 ? Math.round((10 * n) / seconds) / 10 : null);
  return { seconds: Math.round(seconds * 1e4) / 1e4, sentences, chars, chars_per_s: rate(chars),
           sentences_per_s: rate(sentences) };
}

function main() {
  const [mode, specPath, outPath, name] = process.argv.slice(2);
  const spec = JSON.parse(fs.readFileSync(specPath, 'utf8'));
  const req = createRequire(path.join(spec.node_dir, 'package.json'));
  if (!ENGINES[name]) throw new Error(`unknown peer ${name}`);
  let result;
  if (mode === 'cold') {
    const baseRss = maxRssMb();
    const began = process.hrtime.bigint();
    const call = ENGINES[name](req);
    const imported = process.hrtime.bigint();
    call(spec.first_text);
    const done = process.hrtime.bigint();
    result = { status: 'ok', import_s: ms(began, imported) / 1000, load_s: 0,
               first_call_s: ms(imported, done) / 1000, total_s: ms(began, done) / 1000,
               startup_s: ms(started, began) / 1000, peak_rss_mb: maxRssMb(), base_rss_mb: baseRss };
  } else if (mode === 'measure' || mode === 'speed') {
    const call = ENGINES[name](req);
    result = { status: 'ok', loaded_rss_mb: maxRssMb(), latency_samples_ms: {}, latency_chars: {} };
    for (const kind of ['ime', 'sentence', 'paragraph']) {
      const inputs = spec.inputs[kind];
      const [samples, chars] = timeCalls(call, inputs.timed, inputs.warmup, spec.max_seconds);
      result.latency_samples_ms[kind] = samples;
      result.latency_chars[kind] = chars;
    }
    result.rss_after_latency_mb = maxRssMb();
    result.batched = timeBatched(call, spec.inputs.sentence.timed, spec.batch_size, spec.max_seconds);
    result.rss_after_speed_mb = maxRssMb();
    result.rss_now_mb = Math.round(process.memoryUsage().rss / 104857.6) / 10;
    if (mode === 'measure') {
      result.readings = JSON.parse(fs.readFileSync(spec.accuracy_texts, 'utf8')).map(call);
    }
    result.rss_end_mb = maxRssMb();
  } else {
    throw new Error(`unknown worker mode ${mode}`);
  }
  fs.writeFileSync(outPath, JSON.stringify(result));
}

main();
