/**
 * Traditional characters read through their simplified forms, one character for one, as
 * pinyin_edge/runtime/traditional.py does: the phrase table, the model's vocabulary and the fixed
 * readings are keyed on simplified characters, so the policy decides on `simplify(chars)` and the
 * readings land on the original characters. Table: the bundle's traditional.txt
 * (docs/bundle-format.md): `c` characters only traditional text uses (any one marks a text
 * traditional), `s` characters mapped only in a marked text, `p` phrases matched longest first.
 */

export const MODES = ['auto', true, false];

/**
 * traditional.txt -> {chars, shared, phrases}, each original -> simplified (code points). Throws on a
 * row whose two sides differ in length: alignment depends on it.
 * @param {string} raw
 * @param {(message: string) => Error} fail
 */
export function parseTraditional(raw, fail) {
  const chars = new Map();
  const shared = new Map();
  const phrases = new Map();
  const lines = raw.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((line, i) => {
    const parts = line.split('\t');
    const from = parts.length === 3 ? Array.from(parts[1]) : [];
    const to = parts.length === 3 ? Array.from(parts[2]) : [];
    if (!['c', 's', 'p'].includes(parts[0]) || !from.length || from.length !== to.length) {
      throw fail(`line ${i + 1}: expected kind<TAB>originals<TAB>simplified of one length`);
    }
    if (parts[0] === 'p') phrases.set(parts[1], parts[2]);
    else from.forEach((c, k) => (parts[0] === 'c' ? chars : shared).set(c, to[k]));
  });
  return { chars, shared, phrases };
}

export class Simplifier {
  /**
   * @param {{chars: Map<string, string>, shared: Map<string, string>, phrases: Map<string, string>}} table
   * @param {'auto'|boolean} [mode]  'auto': map a text that has a traditional-only character; true:
   *   every text; false: none
   */
  constructor(table, mode = 'auto') {
    if (!MODES.includes(mode)) throw new TypeError(`traditional must be 'auto', true or false, got ${String(mode)}`);
    this.mode = mode;
    this.marker = table.chars;
    this.chars = new Map([...table.shared, ...table.chars]);
    this.phrases = table.phrases;
    const lengths = new Map();
    for (const phrase of table.phrases.keys()) {
      const cps = Array.from(phrase);
      if (!lengths.has(cps[0])) lengths.set(cps[0], new Set());
      lengths.get(cps[0]).add(cps.length);
    }
    this.lengths = new Map([...lengths].map(([first, ls]) => [first, [...ls].sort((a, b) => b - a)]));
  }

  /** Has the text (code points) a character only traditional text uses? */
  isTraditional(chars) {
    return chars.some((c) => this.marker.has(c));
  }

  /**
   * `chars` (code points) with traditional characters in simplified form, same length; the same array
   * when nothing is mapped.
   * @param {string[]} chars
   * @returns {string[]}
   */
  simplify(chars) {
    if (this.mode === false || (this.mode === 'auto' && !this.isTraditional(chars))) return chars;
    const map = (c) => this.chars.get(c) ?? c;
    const out = [];
    const n = chars.length;
    let i = 0;
    while (i < n) {
      const char = chars[i];
      let matched = false;
      for (const length of this.lengths.get(char) ?? []) {
        const got = i + length <= n ? this.phrases.get(chars.slice(i, i + length).join('')) : undefined;
        if (got !== undefined) {
          out.push(...Array.from(got));
          i += length;
          matched = true;
          break;
        }
      }
      if (!matched) {
        out.push(map(char));
        i += 1;
      }
    }
    // rows are length-checked on load; kept as the guard that alignment depends on
    return out.length === n ? out : chars.map(map);
  }
}
