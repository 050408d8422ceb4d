/**
 * Run the graph over texts and rank each polyphone's candidate readings (the Python runtime's
 * Predictor): the model decides the characters of `candidates` with two or more readings whose token
 * is not [UNK]; the softmax runs over a character's candidates only.
 */
import { Tokenizer } from './tokenizer.js';
import { batches, textWindows } from './windows.js';

/**
 * The graph, behind any onnxruntime binding: `run(inputIds, attentionMask, [batch, width], queryIndex)`
 * resolves to the logits, a Float32Array of [queries, labels].
 * @typedef {{run: (ids: BigInt64Array, mask: BigInt64Array, dims: number[], query: BigInt64Array) => Promise<Float32Array>}} Backend
 */

export class Predictor {
  /**
   * @param {object} runtime  runtime.json
   * @param {Backend} backend
   */
  constructor(runtime, backend) {
    this.backend = backend;
    this.tokenizer = new Tokenizer(runtime);
    this.labels = runtime.labels;
    const labelIndex = new Map(this.labels.map((label, i) => [label, i]));
    /** @type {Map<string, {readings: string[], columns: number[]}>} */
    this.rows = new Map();
    for (const [char, readings] of Object.entries(runtime.candidates)) {
      if (Array.from(char).length !== 1 || readings.length < 2) continue;
      if (this.tokenizer.tokenId(char) === this.tokenizer.unkId) continue;
      this.rows.set(char, { readings, columns: readings.map((r) => labelIndex.get(r)) });
    }
    const w = runtime.windows;
    this.settings = {
      maxContent: runtime.max_length - 2,
      margin: w.margin,
      context: runtime.context,
      batchSize: w.batch_size,
      batchTokens: w.batch_tokens,
      runCost: w.run_cost,
    };
  }

  /** Is `char` a polyphone the model decides? */
  decides(char) {
    return this.rows.has(char);
  }

  plan(texts, skip) {
    const windows = [];
    const encodings = [];
    texts.forEach((chars, t) => {
      const offsets = [];
      chars.forEach((c, o) => {
        if (this.rows.has(c) && !(skip[t] && skip[t].has(o))) offsets.push(o);
      });
      if (!offsets.length) return;
      const { ids, positions } = this.tokenizer.encode(chars);
      encodings[t] = ids;
      const kept = offsets.filter((o) => positions[o] >= 0);
      if (!kept.length) return;
      windows.push(...textWindows(t, ids.length, kept.map((o) => positions[o]), kept, this.settings));
    });
    return { windows, encodings };
  }

  async* scored(texts, skip) {
    const { windows, encodings } = this.plan(texts, skip);
    if (!windows.length) return;
    for (const batch of batches(windows, this.settings)) {
      const width = Math.max(...batch.map((w) => w.end - w.start)) + 2;
      const ids = new BigInt64Array(batch.length * width).fill(BigInt(this.tokenizer.padId));
      const mask = new BigInt64Array(batch.length * width);
      const query = [];
      batch.forEach((w, b) => {
        const row = b * width;
        const n = w.end - w.start;
        ids[row] = BigInt(this.tokenizer.clsId);
        const source = encodings[w.text];
        for (let k = 0; k < n; k++) ids[row + 1 + k] = BigInt(source[w.start + k]);
        ids[row + n + 1] = BigInt(this.tokenizer.sepId);
        mask.fill(1n, row, row + n + 2);
        for (const token of w.tokens) query.push(BigInt(row + token - w.start + 1));
      });
      const logits = await this.backend.run(ids, mask, [batch.length, width], BigInt64Array.from(query));
      if (logits.length !== query.length * this.labels.length) {
        throw new Error(`logits of ${logits.length} values, expected ${query.length} x ${this.labels.length}`);
      }
      yield { batch, logits };
    }
  }

  /** Each decided polyphone's candidate readings and their logits: `{text, offset, readings, scores}`. */
  async *candidateScores(texts, skip) {
    const width = this.labels.length;
    for await (const { batch, logits } of this.scored(texts, skip)) {
      let k = 0;
      for (const w of batch) {
        for (const offset of w.offsets) {
          const { readings, columns } = this.rows.get(texts[w.text][offset]);
          yield { text: w.text, offset, readings, scores: columns.map((c) => logits[k * width + c]) };
          k++;
        }
      }
    }
  }

  /** Per text: offset -> its most probable reading (the first maximum of its candidates' logits). */
  async bestReadings(texts, skip) {
    const out = texts.map(() => new Map());
    for await (const { text, offset, readings, scores } of this.candidateScores(texts, skip)) {
      let best = 0;
      for (let j = 1; j < scores.length; j++) if (scores[j] > scores[best]) best = j;
      out[text].set(offset, readings[best]);
    }
    return out;
  }

  /** Per text: offset -> candidates ranked by probability, `[[reading, p], ...]` (ties keep candidate order). */
  async predict(texts, skip) {
    const out = texts.map(() => new Map());
    for await (const { text, offset, readings, scores } of this.candidateScores(texts, skip)) {
      const top = Math.max(...scores);
      const exp = scores.map((s) => Math.exp(s - top));
      const sum = exp.reduce((a, b) => a + b, 0);
      const ranked = readings.map((r, j) => [r, exp[j] / sum, j]);
      ranked.sort((a, b) => b[1] - a[1] || a[2] - b[2]);
      out[text].set(offset, ranked.map(([r, p]) => [r, p]));
    }
    return out;
  }
}
