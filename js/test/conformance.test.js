// The JavaScript runtime reads the project's 5,000 conformance texts exactly as the Python runtime
// does (test/conformance.py wrote what Python reads; test/prepare.mjs runs it before the tests).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { load } from '../src/node.js';

const here = dirname(fileURLToPath(import.meta.url));
const data = JSON.parse(readFileSync(join(here, '.generated', 'conformance.json'), 'utf-8'));
const g2p = await load(join(here, '..', 'bundle'));
const texts = data.batches.reduce((n, b) => n + b.texts.length, 0);

test(`the 5,000 texts: enough of every kind`, () => {
  assert.equal(texts, 5000);
  const all = data.batches.flatMap((b) => b.texts);
  assert.ok(all.filter((t) => Array.from(t).length > 400).length >= 100, 'long texts that cross windows');
  assert.ok(all.some((t) => /[a-zA-Z]/.test(t) && /\p{Script=Han}/u.test(t)), 'mixed scripts');
  assert.ok(all.some((t) => Array.from(t).some((c) => c.codePointAt(0) > 0xffff)), 'characters outside the BMP');
  assert.ok(all.includes(''), 'the empty text');
});

for (const style of data.styles) {
  test(`pinyinBatch, style ${style}: identical to Python on ${texts} texts`, async () => {
    let mismatches = 0;
    const shown = [];
    for (const batch of data.batches) {
      const got = await g2p.pinyinBatch(batch.texts, { style });
      batch.texts.forEach((text, i) => {
        if (JSON.stringify(got[i]) !== JSON.stringify(batch[style][i])) {
          mismatches++;
          if (shown.length < 3) shown.push({ text, js: got[i], python: batch[style][i] });
        }
      });
    }
    assert.equal(mismatches, 0, `${mismatches} texts differ, e.g. ${JSON.stringify(shown).slice(0, 2000)}`);
  });
}

test('every other style: identical to Python on the first 200 texts', async () => {
  const styles = Object.keys(data.batches[0].other_styles);
  assert.deepEqual([...new Set([...data.styles, ...styles])].sort(), [...g2p.styleNames].sort());
  let checked = 0;
  for (const batch of data.batches.filter((b) => b.other_styles)) {
    for (const style of styles) {
      const got = await g2p.pinyinBatch(batch.texts, { style });
      batch.texts.forEach((text, i) => {
        checked++;
        assert.deepEqual(got[i], batch.other_styles[style][i], `${style}: ${JSON.stringify(text)}`);
      });
    }
  }
  assert.equal(checked, 200 * styles.length);
});

test(`annotateBatch: readings, sources and ranked candidates identical, probabilities within 1e-9`, async () => {
  let differ = 0;
  let worst = 0;
  const shown = [];
  for (const batch of data.batches) {
    const got = await g2p.annotateBatch(batch.texts);
    batch.texts.forEach((text, i) => {
      const python = batch.annotate[i];
      const js = got[i];
      const same = js.length === python.length && js.every((a, k) => {
        const [reading, source, candidates] = python[k];
        return a.reading === reading && a.source === source && a.candidates.length === candidates.length
          && a.candidates.every(([r, p], j) => {
            worst = Math.max(worst, Math.abs(p - candidates[j][1]));
            return r === candidates[j][0] && Math.abs(p - candidates[j][1]) <= 1e-9;
          });
      });
      if (!same) {
        differ++;
        if (shown.length < 2) shown.push({ text, js, python });
      }
    });
  }
  assert.equal(differ, 0, `${differ} texts differ, e.g. ${JSON.stringify(shown).slice(0, 2000)}`);
  assert.ok(worst <= 1e-9, `largest probability difference ${worst}`);
});
