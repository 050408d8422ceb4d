/** The runtime's core, with no platform code: load tables from any source, run any onnxruntime. */
export { BundleError, loadTables } from './bundle.js';
export { G2P, ortBackend } from './g2p.js';
