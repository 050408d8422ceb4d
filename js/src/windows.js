/**
 * Model windows and batches, as the Python runtime plans them (pinyin_edge/runtime/predictor.py):
 * the same windows in the same runs give the same logits from any onnxruntime binding.
 */

/**
 * Cover `numTokens` tokens with windows `[start, end, coreStart, coreEnd]` of at most `maxContent`
 * tokens; cores partition the tokens; each core token keeps `margin` tokens of context on each side.
 */
export function windowSpans(numTokens, maxContent, margin) {
  if (numTokens <= maxContent) return [[0, numTokens, 0, numTokens]];
  if (maxContent - 2 * margin < 1) throw new Error(`margin ${margin} leaves no core in windows of ${maxContent} tokens`);
  const spans = [];
  let coreStart = 0;
  while (coreStart < numTokens) {
    let start = Math.max(0, coreStart - margin);
    let end = start + maxContent;
    let coreEnd;
    if (end >= numTokens) {
      end = numTokens;
      start = Math.max(0, numTokens - maxContent);
      coreEnd = numTokens;
    } else {
      coreEnd = end - margin;
    }
    spans.push([start, end, coreStart, coreEnd]);
    coreStart = coreEnd;
  }
  return spans;
}

/**
 * Cut ascending padded `lengths` into runs `[start, end)` of at most `maxBatch` rows and `maxTokens`
 * padded tokens, minimising padded tokens plus `runCost` per run (a dynamic programme over the
 * distinct lengths).
 */
export function splitRuns(lengths, maxBatch, maxTokens, runCost) {
  if (lengths.length < 2) return lengths.length ? [[0, lengths.length]] : [];
  const values = [];
  const ends = [];
  lengths.forEach((length, i) => {
    if (values.length && length === values[values.length - 1]) {
      ends[ends.length - 1] = i + 1;
    } else {
      if (values.length && length < values[values.length - 1]) throw new Error('splitRuns needs ascending lengths');
      values.push(length);
      ends.push(i + 1);
    }
  });
  const rowsPerRun = (length) => Math.max(1, Math.min(maxBatch, Math.floor(maxTokens / length)));
  const best = new Array(values.length + 1).fill(0);
  const cut = new Array(values.length + 1).fill(0);
  for (let j = 1; j <= values.length; j++) {
    const length = values[j - 1];
    const perRun = rowsPerRun(length);
    const end = ends[j - 1];
    best[j] = -1;
    for (let i = j - 1; i >= 0; i--) {
      const n = end - (i ? ends[i - 1] : 0);
      const cost = best[i] + Math.ceil(n / perRun) * runCost + n * length;
      if (best[j] < 0 || cost < best[j]) {
        best[j] = cost;
        cut[j] = i;
      }
    }
  }
  const bounds = [];
  for (let j = values.length; j > 0; j = cut[j]) bounds.push(j);
  const runs = [];
  let start = 0;
  for (const j of bounds.reverse()) {
    const end = ends[j - 1];
    const perRun = rowsPerRun(values[j - 1]);
    for (let lo = start; lo < end; lo += perRun) runs.push([lo, Math.min(end, lo + perRun)]);
    start = end;
  }
  return runs;
}

/**
 * @typedef {object} Window  tokens [start, end) of text `text`, deciding `offsets` at token indices `tokens`
 * @property {number} text
 * @property {number} start
 * @property {number} end
 * @property {number[]} tokens
 * @property {number[]} offsets
 */

/** The window(s) over [start, end) deciding `tokens`: with a context, narrowed around each group of queries. */
export function narrow(text, start, end, tokens, offsets, context) {
  if (context === null || context === undefined) return [{ text, start, end, tokens, offsets }];
  const first = tokens[0];
  const last = tokens[tokens.length - 1];
  if (last - first <= 2 * context + 3) {
    return [{ text, start: Math.max(start, first - context), end: Math.min(end, last + 1 + context), tokens, offsets }];
  }
  const windows = [];
  let lo = 0;
  for (let k = 1; k <= tokens.length; k++) {
    if (k === tokens.length || tokens[k] - tokens[k - 1] > 2 * context + 3) {
      windows.push({
        text,
        start: Math.max(start, tokens[lo] - context),
        end: Math.min(end, tokens[k - 1] + 1 + context),
        tokens: tokens.slice(lo, k),
        offsets: offsets.slice(lo, k),
      });
      lo = k;
    }
  }
  return windows;
}

/**
 * The windows of one text deciding `offsets` at token indices `tokens` (ascending).
 * @param {{maxContent: number, margin: number, context: number|null}} settings
 */
export function textWindows(text, numTokens, tokens, offsets, settings) {
  const spans = windowSpans(numTokens, settings.maxContent, settings.margin);
  if (spans.length === 1) return narrow(text, 0, spans[0][1], tokens, offsets, settings.context);
  const windows = [];
  let lo = 0;
  let span = 0;
  let s = 0; // the last span whose core starts at or before the token (tokens ascend)
  for (let k = 0; k <= tokens.length; k++) {
    if (k < tokens.length) while (s + 1 < spans.length && spans[s + 1][2] <= tokens[k]) s++;
    const which = k < tokens.length ? s : -1;
    if (k > 0 && which !== span) {
      windows.push(...narrow(text, spans[span][0], spans[span][1], tokens.slice(lo, k), offsets.slice(lo, k), settings.context));
      lo = k;
    }
    span = which;
  }
  return windows;
}

/** Windows sorted by length (stable), cut into runs by splitRuns. */
export function batches(windows, { batchSize, batchTokens, runCost }) {
  if (windows.length === 1) return [windows];
  const ordered = windows
    .map((w, i) => [w, i])
    .sort((a, b) => (a[0].end - a[0].start) - (b[0].end - b[0].start) || a[1] - b[1])
    .map(([w]) => w);
  const lengths = ordered.map((w) => w.end - w.start + 2);
  return splitRuns(lengths, batchSize, batchTokens, runCost).map(([lo, hi]) => ordered.slice(lo, hi));
}
