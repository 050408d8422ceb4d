/**
 * The `bert-char` tokenizer: one token per non-space character (docs/bundle-format.md, "Running a
 * bundle"). The character classes and lower-casing come from the bundle (runtime.json), as the
 * Python runtime computes them, so both read every code point alike.
 */
import { CodePointTable } from './ranges.js';

export const WORD = 0;
export const ALONE = 1; // a Han character or punctuation: looked up as itself
export const SPACE = 2; // no token, ends a run
export const DROP = 3; // no token, does not end a run

export class Tokenizer {
  /** @param {object} runtime  runtime.json */
  constructor(runtime) {
    const spec = runtime.tokenizer;
    if (spec.type !== 'bert-char') throw new Error(`tokenizer type ${spec.type} is not supported`);
    this.vocab = new Map();
    runtime.vocab.forEach((token, id) => this.vocab.set(token, id));
    this.doLowerCase = Boolean(spec.do_lower_case);
    this.clsId = this.vocab.get(spec.cls_token);
    this.sepId = this.vocab.get(spec.sep_token);
    this.unkId = this.vocab.get(spec.unk_token);
    this.padId = this.vocab.get(spec.pad_token);
    this.kinds = new CodePointTable(runtime.char_kinds);
    this.lower = new Map();
    for (let i = 0; i < runtime.lower.length; i += 2) this.lower.set(runtime.lower[i], runtime.lower[i + 1]);
  }

  /** The id of a character as a run's first character, or as `##c` when `continuation`. */
  tokenId(char, continuation = false) {
    let piece = char;
    if (this.doLowerCase) {
      const low = this.lower.get(char.codePointAt(0));
      if (low !== undefined) piece = String.fromCodePoint(low);
    }
    const id = this.vocab.get(continuation ? `##${piece}` : piece);
    return id === undefined ? this.unkId : id;
  }

  /**
   * Token ids (no specials) and, per character, its token index or -1.
   * @param {string[]} chars  the text's code points
   */
  encode(chars) {
    const ids = [];
    const positions = new Int32Array(chars.length).fill(-1);
    let previousWord = false;
    for (let i = 0; i < chars.length; i++) {
      const kind = this.kinds.get(chars[i].codePointAt(0));
      if (kind === DROP) continue;
      const continuation = kind === WORD && previousWord;
      previousWord = kind === WORD;
      if (kind === SPACE) continue;
      positions[i] = ids.length;
      ids.push(this.tokenId(chars[i], continuation));
    }
    return { ids, positions };
  }
}
