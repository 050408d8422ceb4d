// The demo page in headless Chromium: served from js/ on 127.0.0.1, it loads the bundle under
// onnxruntime-web (WebAssembly), a sentence is typed, and the page must show what the Node runtime
// reads, with the model's polyphones highlighted and their probabilities on hover. Skipped without
// Chromium (/usr/bin/chromium, or $PINYIN_EDGE_CHROMIUM). $PINYIN_EDGE_DEMO_SCREENSHOT: where to save
// a screenshot (default test/.generated/demo.png).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { load } from '../src/node.js';

const js = join(dirname(fileURLToPath(import.meta.url)), '..');
const chromium = process.env.PINYIN_EDGE_CHROMIUM || '/usr/bin/chromium';
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json',
  '.wasm': 'application/wasm', '.txt': 'text/plain; charset=utf-8', '.onnx': 'application/octet-stream', '.sha256': 'text/plain' };

function serve() {
  const server = createServer(async (request, response) => {
    const path = normalize(join(js, decodeURIComponent(new URL(request.url, 'http://x').pathname)));
    if (!path.startsWith(js + sep)) { response.writeHead(403).end(); return; }
    try {
      const body = await readFile(path);
      response.writeHead(200, { 'content-type': TYPES[extname(path)] || 'application/octet-stream' }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

test('the demo page reads a typed sentence as the Node runtime does', { skip: !existsSync(chromium) && `no Chromium at ${chromium}`, timeout: 180000 }, async () => {
  const { chromium: browserType } = await import('playwright-core');
  const server = await serve();
  const browser = await browserType.launch({ executablePath: chromium, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 900, height: 380 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${server.address().port}/demo/index.html`);
    await page.waitForSelector('body[data-ready], body[data-error]', { timeout: 120000 });
    assert.equal(await page.getAttribute('body', 'data-error'), null, 'the page failed to load the model');
    const sentence = '他还了钱，银行行长很开心，长大了还要去重庆。';
    const before = await page.getAttribute('body', 'data-ready');
    await page.fill('#input', '');
    await page.type('#input', sentence);
    await page.waitForFunction((b) => document.body.dataset.ready !== b && document.querySelector('#output').textContent.includes('庆'), before);
    await page.waitForTimeout(300); // the last keystroke's reading
    const shown = await page.$$eval('#output ruby', (rubies) => rubies.map((r) => [r.firstChild.textContent, r.querySelector('rt').textContent, r.className, r.dataset.tip || '']));
    const expected = (await (await load(join(js, 'bundle'))).annotate(sentence, { style: 'tone' })).filter((a) => a.source !== 'none');
    assert.deepEqual(shown.map(([c, r]) => [c, r]), expected.map((a) => [a.char, a.reading]));
    const model = expected.map((a, i) => [a, shown[i]]).filter(([a]) => a.source === 'model');
    assert.ok(model.length >= 3, 'the sentence has polyphones the model decides');
    for (const [a, [, , cls, tip]] of model) {
      assert.equal(cls, 'model');
      assert.match(tip, new RegExp(`^${a.candidates[0][0]}  \\d+(\\.\\d+)?%`));
    }
    await page.hover('#output ruby.model');
    assert.match(await page.textContent('#tip'), /%/);
    assert.ok(await page.isVisible('#tip'));
    // onnxruntime-web (WebAssembly) reads the first 1,000 conformance texts as the Python runtime does
    const conformance = join(js, 'test', '.generated', 'conformance.json');
    if (existsSync(conformance)) {
      const batches = JSON.parse(readFileSync(conformance, 'utf-8')).batches.slice(0, 40);
      const [differ, checked] = await page.evaluate(async (all) => {
        let n = 0;
        let total = 0;
        for (const batch of all) {
          const got = await window.pinyinEdge.pinyinBatch(batch.texts, { style: 'tone' });
          got.forEach((items, i) => { total++; if (JSON.stringify(items) !== JSON.stringify(batch.tone[i])) n++; });
        }
        return [n, total];
      }, batches);
      assert.equal(checked, 1000);
      assert.equal(differ, 0, `${differ} of 1,000 texts read otherwise in the browser`);
    }
    const shot = process.env.PINYIN_EDGE_DEMO_SCREENSHOT || join(js, 'test', '.generated', 'demo.png');
    mkdirSync(dirname(shot), { recursive: true });
    await page.screenshot({ path: shot });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    server.close();
  }
});
