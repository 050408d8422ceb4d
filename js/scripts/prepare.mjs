// Before the tests: the browser bundle (js/bundle) and the conformance data the Python runtime reads
// (js/test/.generated), both written by this checkout's Python package. Python: $PINYIN_EDGE_PYTHON,
// else the repository's .venv, else python3.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const js = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(js, '..');
const venv = join(root, '.venv', 'bin', 'python');
const python = process.env.PINYIN_EDGE_PYTHON || (existsSync(venv) ? venv : 'python3');
const env = { ...process.env, PYTHONPATH: [root, process.env.PYTHONPATH].filter(Boolean).join(':') };

function run(args) {
  try {
    execFileSync(python, args, { cwd: root, env, stdio: 'inherit' });
  } catch (error) {
    console.error(`error: ${python} ${args.join(' ')} failed (${error.message.split('\n')[0]})`);
    process.exit(1);
  }
}

run(['-m', 'pinyin_edge.cli', 'export-web', 'default', '--out', join(js, 'bundle')]);
run([join(js, 'test', 'conformance.py'), '--bundle', 'default', '--out', join(js, 'test', '.generated', 'conformance.json')]);
