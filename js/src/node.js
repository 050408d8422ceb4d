/**
 * Node entry point: a browser bundle from disk under onnxruntime-node.
 *
 *   import { load, pinyin } from 'pinyin-edge';
 *   const g2p = await load('bundle');            // a folder written by `pinyin-edge export-web`
 *   await g2p.pinyin('银行行长', { style: 'tone' });
 *   await pinyin('银行行长');                     // the default bundle: $PINYIN_EDGE_WEB_BUNDLE or js/bundle
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { BundleError, loadTables } from './bundle.js';
import { G2P, ortBackend } from './g2p.js';

export { BundleError, G2P };

/** Where `pinyin()` and `annotate()` look for a bundle: $PINYIN_EDGE_WEB_BUNDLE, else js/bundle. */
export function defaultBundleDir() {
  return process.env.PINYIN_EDGE_WEB_BUNDLE || join(dirname(fileURLToPath(import.meta.url)), '..', 'bundle');
}

/**
 * Load a browser bundle folder (every file checked against its sha256).
 * @param {string} [dir]
 * @param {{threads?: number, traditional?: 'auto'|boolean}} [options]  onnxruntime intra-op threads (default
 *   1); how traditional text is read (G2P's option, default 'auto')
 * @returns {Promise<G2P>}
 */
export async function load(dir = defaultBundleDir(), { threads = 1, traditional = 'auto' } = {}) {
  const where = resolve(dir);
  const tables = await loadTables({
    where,
    async read(name) {
      try {
        return new Uint8Array(await readFile(join(where, name)));
      } catch (error) {
        throw new BundleError(`${join(where, name)}: cannot read (${error.code || error.message}); write the bundle with \`pinyin-edge export-web\``);
      }
    },
    async sha256(bytes) {
      return createHash('sha256').update(bytes).digest('hex');
    },
  });
  const session = await ort.InferenceSession.create(tables.graph, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  return new G2P(tables, ortBackend(ort, session), { traditional });
}

let shared = null;

function instance() {
  if (!shared) {
    shared = load();
    shared.catch(() => { shared = null; });
  }
  return shared;
}

/** `load().pinyin(text, options)` on the default bundle, loaded once. */
export async function pinyin(text, options) {
  return (await instance()).pinyin(text, options);
}

/** `load().annotate(text, options)` on the default bundle, loaded once. */
export async function annotate(text, options) {
  return (await instance()).annotate(text, options);
}
