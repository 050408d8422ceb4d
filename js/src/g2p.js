/**
 * `G2P`: Chinese text in, one reading per character out, over a loaded browser bundle and any
 * onnxruntime binding (the backend is injected: onnxruntime-node, onnxruntime-web).
 */
import { DecisionPolicy } from './policy.js';
import { Predictor } from './predictor.js';
import { Styles } from './styles.js';
import { Simplifier } from './traditional.js';

/**
 * @typedef {object} CharAnnotation
 * @property {string} char
 * @property {number} offset  in code points
 * @property {string} reading  styled (the character itself when source is 'none')
 * @property {[string, number][]} candidates  ranked, with probabilities (1/0 for dictionary decisions)
 * @property {string} source  'model', 'dictionary' or 'none'
 */

function codePoints(text, what = 'text') {
  if (typeof text !== 'string') throw new TypeError(`${what} must be a string, not ${text === null ? 'null' : typeof text}`);
  return Array.from(text);
}

export class G2P {
  /**
   * @param {import('./bundle.js').Tables} tables
   * @param {import('./predictor.js').Backend} backend
   * @param {{traditional?: 'auto'|boolean}} [options]  read traditional characters through their
   *   simplified forms ('auto': texts that have a traditional-only character; true: every text; false: never)
   */
  constructor(tables, backend, { traditional = 'auto' } = {}) {
    this.manifest = tables.manifest;
    this.predictor = new Predictor(tables.runtime, backend);
    this.policy = new DecisionPolicy(tables, this.predictor);
    this.styles = new Styles(tables.styles);
    this.simplifier = new Simplifier(tables.traditional, traditional);
  }

  /** The policy's decisions, made on each text's simplified form (same length, so each lands on its
   * original character). */
  decide(all, ranked) {
    return this.policy.decide(all.map((chars) => this.simplifier.simplify(chars)), ranked);
  }

  /** The style names this bundle renders. */
  get styleNames() {
    return this.styles.names;
  }

  /**
   * One item per character (code point) of `text`: its reading in `style`, or the character itself.
   * @param {string} text
   * @param {{style?: string}} [options]
   * @returns {Promise<string[]>}
   */
  async pinyin(text, options = {}) {
    return (await this.pinyinBatch([text], options))[0];
  }

  /** pinyin() for many texts, their model windows batched together. */
  async pinyinBatch(texts, { style = 'tone3' } = {}) {
    const render = this.styles.styler(style);
    const all = Array.from(texts, (t, i) => codePoints(t, `texts[${i}]`));
    const decisions = await this.decide(all, false);
    return all.map((chars, t) => chars.map((c, o) => {
      const reading = decisions[t].readings[o];
      return reading === null ? c : render(reading);
    }));
  }

  /**
   * Per character: char, offset, reading, ranked candidates with probabilities, source.
   * @param {string} text
   * @param {{style?: string}} [options]
   * @returns {Promise<CharAnnotation[]>}
   */
  async annotate(text, options = {}) {
    return (await this.annotateBatch([text], options))[0];
  }

  async annotateBatch(texts, { style = 'tone3' } = {}) {
    const render = this.styles.styler(style);
    const all = Array.from(texts, (t, i) => codePoints(t, `texts[${i}]`));
    const decisions = await this.decide(all, true);
    return all.map((chars, t) => {
      const { readings, sources, candidates } = decisions[t];
      return chars.map((char, offset) => ({
        char,
        offset,
        reading: readings[offset] === null ? char : render(readings[offset]),
        candidates: candidates[offset].map(([r, p]) => [render(r), p]),
        source: sources[offset],
      }));
    });
  }

  /** Canonical readings, one per character (null where a character has none). */
  async readings(text) {
    return (await this.decide([codePoints(text)], false))[0].readings;
  }
}

/**
 * The graph behind an onnxruntime binding's session (onnxruntime-node and onnxruntime-web share
 * this API).
 * @param {{Tensor: any}} ort  the onnxruntime module
 * @param {{run: Function}} session  an InferenceSession of the bundle's graph
 * @returns {import('./predictor.js').Backend}
 */
export function ortBackend(ort, session) {
  return {
    async run(ids, mask, dims, query) {
      const out = await session.run({
        input_ids: new ort.Tensor('int64', ids, dims),
        attention_mask: new ort.Tensor('int64', mask, dims),
        query_index: new ort.Tensor('int64', query, [query.length]),
      });
      return out.logits.data;
    },
  };
}
