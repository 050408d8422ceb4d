// A JSON-RPC client in another language than the service: drives `pinyin-edge serve` over stdio and
// over HTTP and checks the answers. Usage: node tests/service_client.js PYTHON (PYTHONPATH set by the
// caller). Exit status 0 when every check passes; each failure is printed.
'use strict';
const { spawn } = require('child_process');
const http = require('http');
const assert = require('assert');
const readline = require('readline');

const python = process.argv[2] || 'python3';
const cli = ['-m', 'pinyin_edge.cli', 'serve'];

const requests = [
  '{"jsonrpc": "2.0", "id": 1, "method": "pinyin", "params": {"text": "银行", "style": "tone3"}}',
  '{"jsonrpc": "2.0", "id": 2, "method": "word_readings", "params": {"word": "目的", "k": 2}}',
  '{"jsonrpc": "2.0", "id": 3, "method": "annotate", "params": ["行长"]}',
  'this is not json',
  '{"jsonrpc": "2.0", "id": 5, "method": "no_such_method"}',
  '{"jsonrpc": "2.0", "id": 6, "method": "pinyin", "params": {"text": 42}}',
  '{"id": 7, "method": "pinyin"}',
  '{"jsonrpc": "2.0", "method": "pinyin", "params": {"text": "通知"}}',
  '[{"jsonrpc": "2.0", "id": 9, "method": "pinyin_batch", "params": {"texts": ["重庆", "长大"]}}]',
  '{"jsonrpc": "2.0", "id": 10, "method": "pinyin", "params": {"text": "AI行业", "style": "tone"}}',
];

function check(answers) {
  // the notification (id-less request) gets no answer: 9 answers for 10 requests
  assert.strictEqual(answers.length, 9, `expected 9 answers, got ${answers.length}`);
  const [pinyin, words, annotate, parse, missing, badParams, invalid, batch, styled] = answers;
  assert.deepStrictEqual(pinyin, { jsonrpc: '2.0', id: 1, result: ['yin2', 'hang2'] });
  assert.deepStrictEqual(words.result[0], { pinyin: ['mu4', 'di4'], probability: 1.0 });
  assert.strictEqual(annotate.result.length, 2);
  assert.strictEqual(annotate.result[0].reading, 'hang2');
  assert.strictEqual(parse.error.code, -32700);
  assert.strictEqual(parse.id, null);
  assert.strictEqual(missing.error.code, -32601);
  assert.strictEqual(missing.id, 5);
  assert.strictEqual(badParams.error.code, -32602);
  assert.strictEqual(invalid.error.code, -32600);
  assert.deepStrictEqual(batch, [{ jsonrpc: '2.0', id: 9, result: [['chong2', 'qing4'], ['zhang3', 'da4']] }]);
  assert.deepStrictEqual(styled.result, ['A', 'I', 'háng', 'yè']);
}

function viaStdio() {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [...cli, '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const answers = [];
    readline.createInterface({ input: child.stdout }).on('line', (line) => answers.push(JSON.parse(line)));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`stdio server exited with ${code}`));
      resolve(answers);
    });
    child.stdin.end(requests.join('\n') + '\n');
  });
}

function post(port, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/',
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } },
    (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { data += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function viaHttp() {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [...cli, '--http', '127.0.0.1:0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.on('error', reject);
    let err = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', async (chunk) => {
      err += chunk;
      const m = err.match(/http:\/\/[^:]+:(\d+)\//);
      if (!m || child.started) return;
      child.started = true;
      try {
        const answers = [];
        for (const body of requests) {
          const res = await post(Number(m[1]), body);
          if (res.status === 204) continue;  // the notification
          assert.strictEqual(res.status, 200);
          answers.push(JSON.parse(res.body));
        }
        resolve(answers);
      } catch (e) {
        reject(e);
      } finally {
        child.kill();
      }
    });
    setTimeout(() => { child.kill(); reject(new Error('HTTP server did not start: ' + err)); }, 60000).unref();
  });
}

(async () => {
  let failed = 0;
  for (const [name, run] of [['stdio', viaStdio], ['http', viaHttp]]) {
    try {
      check(await run());
      console.log(`${name}: ok`);
    } catch (e) {
      failed += 1;
      console.log(`${name}: FAILED ${e.message}`);
    }
  }
  process.exit(failed ? 1 : 0);
})();
