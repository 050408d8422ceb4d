// The JavaScript runtime (js/) against pinyin-pro under Node, on the same sentences, and the browser
// bundle's download size. Writes benchmarks/results/js.json and js.md.
//
//   (cd js && npm ci && npm run bundle)       # js/node_modules and the browser bundle js/bundle
//   node benchmarks/js_bench.mjs [--data ../shared/data/polyphone/cpp/test.sent] [--n 3000] [--first]
//
// Inputs: N sentences of --data spread evenly over the whole file (CPP files are grouped by polyphone:
// their first sentences cover few polyphones), or its first N with --first (CPP-style: the labelled
// character between U+2581 marks, its label on the same line of the .lb file beside it), read at run
// time and never stored. Each
// system converts each sentence in its own call (batch 1), after an untimed warm-up pass over the
// same sentences; the timed pass runs three times and the fastest is kept (the machine is shared).
// Accuracy is on the labelled character of each sentence.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const FLAGS = ['first']; // options without a value
const KNOWN = ['data', 'n', 'bundle', 'out', ...FLAGS];
const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) => (FLAGS.includes(a.slice(2)) ? [...pairs, [a.slice(2), true]] : a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []));
const unknown = Object.keys(args).filter((k) => !KNOWN.includes(k));
if (unknown.length) {
  console.error(`error: unknown option --${unknown[0]} (known: ${KNOWN.map((k) => `--${k}`).join(' ')})`);
  process.exit(2);
}
const dataPath = args.data || join(root, '..', 'shared', 'data', 'polyphone', 'cpp', 'test.sent');
const count = Number(args.n || 3000);
const bundleDir = args.bundle || join(root, 'js', 'bundle');
const out = args.out || join(root, 'benchmarks', 'results');

if (!existsSync(dataPath)) {
  console.error(`error: ${dataPath}: no such file (pass --data PATH.sent)`);
  process.exit(1);
}
const { load } = await import(join(root, 'js', 'src', 'node.js'));
const { pinyin: pinyinPro } = createRequire(join(root, 'js', 'package.json'))('pinyin-pro');
const pinyinProVersion = JSON.parse(readFileSync(join(root, 'js', 'node_modules', 'pinyin-pro', 'package.json'), 'utf-8')).version;

const loadBefore = loadavg()[0];
const MARK = '\u2581';
const allRaw = readFileSync(dataPath, 'utf-8').split('\n').filter(Boolean);
const allLabels = readFileSync(dataPath.replace(/\.sent$/, '.lb'), 'utf-8').split('\n');
const taken = Math.min(count, allRaw.length);
const picks = Array.from({ length: taken }, (_, i) => (args.first ? i : Math.floor((i * allRaw.length) / taken)));
const raw = picks.map((i) => allRaw[i]);
const labels = picks.map((i) => allLabels[i].trim().replace('u:', 'v'));
const sentences = raw.map((line) => line.split(MARK).join(''));
const targets = raw.map((line) => Array.from(line.split(MARK)[0]).length);
const chars = sentences.reduce((n, s) => n + Array.from(s).length, 0);

function percentile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Time `convert` over every sentence, one call each: the fastest of `passes` passes. */
async function measure(convert, passes = 3) {
  for (const s of sentences) await convert(s); // warm-up
  let best = null;
  for (let pass = 0; pass < passes; pass++) {
    const times = [];
    const started = process.hrtime.bigint();
    for (const s of sentences) {
      const t0 = process.hrtime.bigint();
      await convert(s);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const wall = Number(process.hrtime.bigint() - started) / 1e9;
    times.sort((a, b) => a - b);
    const result = {
      p50_ms: percentile(times, 0.5), p95_ms: percentile(times, 0.95), mean_ms: (wall * 1e3) / sentences.length,
      sentences_per_s: sentences.length / wall, chars_per_s: chars / wall,
    };
    if (!best || result.sentences_per_s > best.sentences_per_s) best = result;
  }
  return best;
}

function accuracy(readings) {
  let right = 0;
  readings.forEach((r, i) => { if (r[targets[i]] === labels[i]) right++; });
  return (100 * right) / readings.length;
}

const loadStarted = process.hrtime.bigint();
const g2p = await load(bundleDir);
const loadS = Number(process.hrtime.bigint() - loadStarted) / 1e9;
const firstStarted = process.hrtime.bigint();
await g2p.pinyin(sentences[0]);
const firstMs = Number(process.hrtime.bigint() - firstStarted) / 1e6;

const proReadings = (s) => pinyinPro(s, { toneType: 'num', type: 'all' })
  .map((x) => (x.isZh ? x.pinyin.replace('ü', 'v').replace(/0$/, '5') : null));
const systems = {
  'pinyin-edge (js)': {
    latency: await measure((s) => g2p.pinyin(s)),
    accuracy: accuracy(await Promise.all(sentences.map((s) => g2p.pinyin(s)))),
  },
  [`pinyin-pro ${pinyinProVersion}`]: {
    latency: await measure((s) => pinyinPro(s, { toneType: 'num', type: 'array' })),
    accuracy: accuracy(sentences.map(proReadings)),
  },
};
const batchStarted = process.hrtime.bigint();
for (let i = 0; i < sentences.length; i += 64) await g2p.pinyinBatch(sentences.slice(i, i + 64));
const batchS = Number(process.hrtime.bigint() - batchStarted) / 1e9;
systems['pinyin-edge (js)'].batched = { batch: 64, sentences_per_s: sentences.length / batchS, chars_per_s: chars / batchS };

const files = {};
for (const name of readdirSync(bundleDir).sort()) {
  const bytes = readFileSync(join(bundleDir, name));
  files[name] = { bytes: bytes.length, gzip_bytes: gzipSync(bytes, { level: 9 }).length };
}
const total = (key) => Object.values(files).reduce((n, f) => n + f[key], 0);
const report = {
  date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  node: process.version,
  cpu: `${cpus()[0].model.trim()} (${cpus().length} usable cores)`,
  onnxruntime_threads: 1,
  load_average_1m: { before: loadBefore },
  inputs: { data: relative(root, dataPath).startsWith('..') ? `../shared/data/${dataPath.split('/').slice(-3).join('/')}` : relative(root, dataPath), sentences: sentences.length, selection: args.first ? 'first' : 'spread over the file', characters: chars },
  load_s: loadS,
  first_call_ms: firstMs,
  systems,
  bundle: { files, bytes: total('bytes'), gzip_bytes: total('gzip_bytes'), target_gzip_bytes: 8e6 },
};
report.load_average_1m.after = loadavg()[0];
writeFileSync(join(out, 'js.json'), `${JSON.stringify(report, null, 1)}\n`);

const f = (x, d = 2) => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const rows = Object.entries(systems).map(([name, s]) => `| ${name} | ${f(s.accuracy)} | ${f(s.latency.p50_ms, 3)} | ${f(s.latency.p95_ms, 3)} | ${f(s.latency.sentences_per_s, 0)} | ${f(s.latency.chars_per_s, 0)} | ${s.batched ? f(s.batched.chars_per_s, 0) : '-'} |`);
const md = `# JavaScript runtime benchmark (Node)

${report.date} · node ${report.node} · ${report.cpu} · onnxruntime-node, 1 thread · load average ${f(report.load_average_1m.before, 1)} before, ${f(report.load_average_1m.after, 1)} after

Command: \`node benchmarks/js_bench.mjs --data ${report.inputs.data} --n ${count}${args.first ? ' --first' : ''}\`

Inputs: ${args.first ? 'the first' : 'evenly spread over the file,'} ${sentences.length} sentences of \`${report.inputs.data}\` (${chars.toLocaleString('en-US')} characters), one call per sentence after a warm-up pass; fastest of three timed passes. Accuracy: the labelled character of each sentence.

| system | acc % | sentence p50 ms | sentence p95 ms | sentences/s | chars/s | chars/s batched (64) |
|---|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}

Load (read and verify the bundle, build the session): ${f(loadS)} s; first call ${f(firstMs, 1)} ms.

## Browser bundle download

| file | bytes | gzipped |
|---|---:|---:|
${Object.entries(files).map(([n, x]) => `| ${n} | ${x.bytes.toLocaleString('en-US')} | ${x.gzip_bytes.toLocaleString('en-US')} |`).join('\n')}
| **total** | **${total('bytes').toLocaleString('en-US')}** | **${total('gzip_bytes').toLocaleString('en-US')}** (target: at most 8,000,000) |

Gzip level 9 per file, as a server that compresses its responses sends them. onnxruntime-web's own
WebAssembly and script files come on top (see docs/javascript.md).
`;
writeFileSync(join(out, 'js.md'), md);
console.log(md);
