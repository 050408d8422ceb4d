/**
 * Browser entry point: a browser bundle fetched from a URL under onnxruntime-web (passed in, so the
 * page chooses how it loads it: a script tag's global `ort`, or an import).
 *
 *   const g2p = await load('bundle/', ort);
 *   await g2p.annotate('银行行长');
 */
import { BundleError, loadTables } from './bundle.js';
import { G2P, ortBackend } from './g2p.js';

export { BundleError, G2P };

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * @param {string} baseUrl  the bundle folder's URL (relative to the page or absolute)
 * @param {any} ort  the onnxruntime-web module
 * @returns {Promise<G2P>}
 */
export async function load(baseUrl, ort) {
  const base = new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`, globalThis.location ? globalThis.location.href : undefined);
  const tables = await loadTables({
    where: base.href.replace(/\/$/, ''),
    async read(name) {
      const response = await fetch(new URL(name, base));
      if (!response.ok) throw new BundleError(`${new URL(name, base)}: HTTP ${response.status}`);
      return new Uint8Array(await response.arrayBuffer());
    },
    async sha256(bytes) {
      if (!globalThis.crypto || !globalThis.crypto.subtle) {
        throw new BundleError('cannot verify the bundle: crypto.subtle needs a secure context (https, or http on localhost)');
      }
      return hex(await crypto.subtle.digest('SHA-256', bytes));
    },
  });
  const session = await ort.InferenceSession.create(tables.graph, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  return new G2P(tables, ortBackend(ort, session));
}
