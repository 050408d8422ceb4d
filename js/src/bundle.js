/**
 * Reading a browser bundle (docs/bundle-format.md, "The browser bundle"): the manifest, each file
 * checked against its sha256, the tables parsed. The caller supplies how bytes are read and hashed,
 * so the same code runs under Node (fs, node:crypto) and in a browser (fetch, crypto.subtle).
 */
import { parseTraditional } from './traditional.js';

export const FORMAT = 'pinyin-edge-web';
export const SCHEMA_VERSION = 2;
const TABLES = ['runtime', 'dictionary', 'chars', 'phrases', 'styles', 'traditional'];

/** A bundle that cannot be trusted: a missing file, a checksum, a field of the wrong shape. */
export class BundleError extends Error {
  constructor(message) {
    super(message);
    this.name = 'BundleError';
  }
}

/**
 * @typedef {object} Source
 * @property {(name: string) => Promise<Uint8Array>} read  the bytes of a bundle file
 * @property {(bytes: Uint8Array) => Promise<string>} sha256  lower-case hex digest
 * @property {string} where  the bundle's location, for messages
 */

/**
 * @typedef {object} Tables
 * @property {object} manifest  manifest.json
 * @property {object} runtime  runtime.json: tokenizer, vocab, labels, candidates, policy, windows
 * @property {Map<string, string>} dictionary  character -> the bundle's fixed reading
 * @property {Map<string, string[]>} chars  character -> its dictionary readings (the first is its default)
 * @property {Map<string, string>} words  phrase -> readings per character joined by spaces ('' where none)
 * @property {Set<string>} prefixes  every proper prefix of a phrase that is not itself a phrase
 * @property {{readings: string[], styles: Object<string, string[]>}} styles  styles.json
 * @property {{chars: Map<string, string>, shared: Map<string, string>, phrases: Map<string, string>}} traditional
 *   traditional.txt: traditional -> simplified (see traditional.js)
 * @property {Uint8Array} graph  the ONNX graph
 */

const decoder = new TextDecoder('utf-8', { fatal: true });

function text(bytes, where) {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new BundleError(`${where}: not UTF-8`);
  }
}

function json(bytes, where) {
  try {
    return JSON.parse(text(bytes, where));
  } catch (error) {
    if (error instanceof BundleError) throw error;
    throw new BundleError(`${where}: not JSON (${error.message})`);
  }
}

function lines(raw) {
  const out = raw.split('\n');
  if (out.length && out[out.length - 1] === '') out.pop();
  return out;
}

/** `reading<TAB>characters` lines (dictionary.txt) -> character -> reading. */
export function parseDictionary(raw) {
  const out = new Map();
  for (const line of lines(raw)) {
    const tab = line.indexOf('\t');
    const reading = line.slice(0, tab);
    for (const char of line.slice(tab + 1)) out.set(char, reading);
  }
  return out;
}

/** `readings<TAB>characters` lines (chars.txt) -> character -> readings. */
export function parseChars(raw) {
  const out = new Map();
  for (const line of lines(raw)) {
    const tab = line.indexOf('\t');
    const readings = line.slice(0, tab).split(',');
    for (const char of line.slice(tab + 1)) out.set(char, readings);
  }
  return out;
}

/** phrases.txt -> (phrase -> its value, the prefixes the segmenter walks). */
export function parsePhrases(raw, chars) {
  const words = new Map();
  for (const line of lines(raw)) {
    const tab = line.indexOf('\t');
    if (tab < 0) {
      words.set(line, Array.from(line, (c) => chars.get(c)[0]).join(' '));
    } else {
      words.set(line.slice(0, tab), line.slice(tab + 1));
    }
  }
  const prefixes = new Set();
  for (const word of words.keys()) {
    const cps = Array.from(word);
    let piece = '';
    for (let i = 0; i < cps.length - 1; i++) {
      piece += cps[i];
      if (!words.has(piece)) prefixes.add(piece);
    }
  }
  return { words, prefixes };
}

/**
 * Load and verify a browser bundle: manifest.json against manifest.sha256, then every file against
 * the manifest, then the tables. Throws BundleError naming the file at the first failure.
 * @param {Source} source
 * @returns {Promise<Tables>}
 */
export async function loadTables(source) {
  const { read, sha256, where } = source;
  const rawManifest = await read('manifest.json');
  const sumLine = text(await read('manifest.sha256'), `${where}/manifest.sha256`);
  const expected = `${await sha256(rawManifest)}  manifest.json\n`;
  if (sumLine !== expected) {
    throw new BundleError(`${where}/manifest.json: sha256 does not match manifest.sha256; re-export the bundle`);
  }
  const manifest = json(rawManifest, `${where}/manifest.json`);
  if (manifest.format !== FORMAT || manifest.schema_version !== SCHEMA_VERSION) {
    throw new BundleError(`${where}/manifest.json: not a ${FORMAT} bundle of schema version ${SCHEMA_VERSION}`);
  }
  const bytes = {};
  for (const key of ['graph', ...TABLES]) {
    const entry = manifest.files && manifest.files[key];
    if (!entry || typeof entry.path !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(entry.path)) {
      throw new BundleError(`${where}/manifest.json: files.${key} is missing or malformed`);
    }
    const got = await read(entry.path);
    if (got.length !== entry.bytes || (await sha256(got)) !== entry.sha256) {
      throw new BundleError(`${where}/${entry.path}: sha256 does not match the manifest; the file is corrupt or was replaced`);
    }
    bytes[key] = got;
  }
  const file = (key) => `${where}/${manifest.files[key].path}`;
  const chars = parseChars(text(bytes.chars, file('chars')));
  const { words, prefixes } = parsePhrases(text(bytes.phrases, file('phrases')), chars);
  return {
    manifest,
    runtime: json(bytes.runtime, file('runtime')),
    dictionary: parseDictionary(text(bytes.dictionary, file('dictionary'))),
    chars,
    words,
    prefixes,
    styles: json(bytes.styles, file('styles')),
    traditional: parseTraditional(text(bytes.traditional, file('traditional')),
      (message) => new BundleError(`${file('traditional')}: ${message}`)),
    graph: bytes.graph,
  };
}
