// The public API and the bundle's integrity checks (the readings themselves: conformance.test.js).
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BundleError, load } from '../src/node.js';
import { parseTraditional, Simplifier } from '../src/traditional.js';
import { splitRuns, windowSpans } from '../src/windows.js';

const bundle = join(dirname(fileURLToPath(import.meta.url)), '..', 'bundle');
const g2p = await load(bundle);

test('pinyin: one item per code point, in each style', async () => {
  const text = '银行行长说，😀 OK';
  assert.deepEqual(await g2p.pinyin(text), ['yin2', 'hang2', 'hang2', 'zhang3', 'shuo1', '，', '😀', ' ', 'O', 'K']);
  assert.deepEqual((await g2p.pinyin(text, { style: 'tone' })).slice(0, 5), ['yín', 'háng', 'háng', 'zhǎng', 'shuō']);
  assert.deepEqual((await g2p.pinyin(text, { style: 'NORMAL' })).slice(0, 5), ['yin', 'hang', 'hang', 'zhang', 'shuo']);
  assert.deepEqual(await g2p.pinyin(''), []);
});

test('annotate: the model decides a polyphone, with probabilities that sum to 1', async () => {
  const items = await g2p.annotate('他还了钱');
  const huan = items[1];
  assert.equal(huan.char, '还');
  assert.equal(huan.source, 'model');
  assert.equal(huan.reading, huan.candidates[0][0]);
  assert.ok(Math.abs(huan.candidates.reduce((s, [, p]) => s + p, 0) - 1) < 1e-9);
  assert.deepEqual(items[3].candidates, [['qian2', 1]]);
  assert.equal(items[3].source, 'dictionary');
});

test('traditional text: decided on its simplified form, read against its own characters', async () => {
  assert.deepEqual(await g2p.pinyin('銀行行長'), ['yin2', 'hang2', 'hang2', 'zhang3']);
  assert.deepEqual((await g2p.annotate('音樂')).map((a) => [a.char, a.reading]), [['音', 'yin1'], ['樂', 'yue4']]);
  const never = await load(bundle, { traditional: false });
  assert.deepEqual(await never.pinyin('銀行行長'), ['yin2', 'hang2', 'xing2', 'zhang3']);
  // 著 is a simplified character too: mapped only in a marked text, or always with traditional: true
  assert.deepEqual(await g2p.pinyin('看著我'), ['kan4', 'zhu4', 'wo3']);
  assert.deepEqual(await (await load(bundle, { traditional: true })).pinyin('看著我'), ['kan4', 'zhe5', 'wo3']);
  await assert.rejects(load(bundle, { traditional: 'yes' }), /traditional must be 'auto', true or false/);
});

test('traditional table: phrases longest first, simplified text untouched, rows of two lengths refused', () => {
  const table = parseTraditional(readFileSync(join(bundle, 'traditional.txt'), 'utf-8'), (m) => new Error(m));
  const simplifier = new Simplifier(table);
  assert.equal(simplifier.simplify(Array.from('乾坤還瞭解')).join(''), '乾坤还了解');
  const plain = Array.from('乾坤瞭解');
  assert.equal(simplifier.simplify(plain), plain);
  assert.throws(() => parseTraditional('p\t瞭解\t了\n', (m) => new Error(m)), /line 1: expected kind/);
  assert.throws(() => parseTraditional('x\t銀\t银\n', (m) => new Error(m)), /line 1/);
});

test('bad input: an unknown style and a text that is not a string are refused', async () => {
  await assert.rejects(g2p.pinyin('中', { style: 'pinyin' }), /unknown style "pinyin"; choose one of: tone3, tone,/);
  await assert.rejects(g2p.pinyin(42), TypeError);
  await assert.rejects(g2p.pinyinBatch(['中', null]), /texts\[1\] must be a string/);
});

test('a changed file or manifest is refused, naming the file', async () => {
  const copy = mkdtempSync(join(tmpdir(), 'pinyin-edge-web-'));
  try {
    cpSync(bundle, copy, { recursive: true });
    const phrases = join(copy, 'phrases.txt');
    const original = readFileSync(phrases);
    writeFileSync(phrases, Buffer.concat([original, Buffer.from('银行\tyin2 xing2\n')]));
    await assert.rejects(load(copy), (e) => e instanceof BundleError && /phrases\.txt: sha256 does not match/.test(e.message));
    writeFileSync(phrases, original);
    const manifest = join(copy, 'manifest.json');
    writeFileSync(manifest, readFileSync(manifest, 'utf-8').replace('"tone"', '"tone2"'));
    await assert.rejects(load(copy), /manifest\.json: sha256 does not match manifest\.sha256/);
    await assert.rejects(load(join(copy, 'missing')), /cannot read/);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});

test('windows: cores partition the tokens and keep their margin of context', () => {
  for (const [n, width, margin] of [[5, 126, 31], [126, 126, 31], [127, 126, 31], [1000, 126, 31], [300, 20, 4]]) {
    const spans = windowSpans(n, width, margin);
    assert.equal(spans[0][2], 0);
    assert.equal(spans[spans.length - 1][3], n);
    spans.forEach(([start, end, coreStart, coreEnd], i) => {
      assert.ok(end - start <= width && start <= coreStart && coreEnd <= end);
      if (i) assert.equal(coreStart, spans[i - 1][3]);
      if (coreStart > 0) assert.ok(coreStart - start >= Math.min(margin, coreStart));
      if (coreEnd < n) assert.ok(end - coreEnd >= margin);
    });
  }
});

test('runs: every window once, in order, within the batch limits', () => {
  const lengths = [3, 3, 4, 10, 10, 10, 11, 50, 128, 128].concat(Array(100).fill(20)).sort((a, b) => a - b);
  const runs = splitRuns(lengths, 64, 1024, 16);
  assert.equal(runs[0][0], 0);
  assert.equal(runs[runs.length - 1][1], lengths.length);
  runs.forEach(([lo, hi], i) => {
    if (i) assert.equal(lo, runs[i - 1][1]);
    assert.ok(hi - lo <= 64 && (hi - lo) * lengths[hi - 1] <= Math.max(1024, lengths[hi - 1]));
  });
});

test('memo: a plain reading of memoised contexts runs no model; ranked readings still run it', async () => {
  const keys = g2p.policy.memo.keys;
  const backend = g2p.predictor.backend;
  let runs = 0;
  g2p.predictor.backend = { run: (...args) => { runs += 1; return backend.run(...args); } };
  try {
    // keys with both neighbours, neither of them a polyphone the model decides, each as a text of its own
    let checked = 0;
    for (const key of keys.keys()) {
      const [left, , right] = Array.from(key);
      if ([left, right].some((c) => c === '\ufffe' || c === '\uffff' || g2p.predictor.decides(c))) continue;
      const ranked = await g2p.annotate(key);
      if (ranked[1].source !== 'model') continue; // a phrase of the three characters decides
      runs = 0;
      assert.equal((await g2p.pinyin(key))[1], keys.get(key), key);
      assert.equal(runs, 0, key);
      await g2p.annotate(key);
      assert.equal(runs, 1, key);
      if (++checked === 20) break;
    }
    assert.equal(checked, 20);
  } finally {
    g2p.predictor.backend = backend;
  }
});
