/**
 * The decision policy (pinyin_edge/runtime/policy.py): who reads each character.
 *
 * 1. dictionary (phrases): a polyphone inside a multi-character phrase takes the phrase's reading,
 *    except at the bundle's word exceptions; where another segmentation contradicts the phrase, or
 *    the text is a word exception's word alone, the model overrules it at a set confidence;
 * 2. model: a polyphone the model decides is chosen among its candidates; for a plain reading, where
 *    the bundle's memo holds its local context, the reading the model always gave there (no run);
 * 3. dictionary: the bundle's fixed readings, a Han character's one reading, else a polyphone's
 *    phrase reading or its first reading;
 * 4. none: any other character has no reading.
 * Then 一 and 不 are read in citation tone.
 */
import { CodePointTable } from './ranges.js';
import { decidingPhrases, fallbackReading, phraseAnalysis } from './phrases.js';

/** @typedef {[string, number][]} Ranked */

export class DecisionPolicy {
  /**
   * @param {import('./bundle.js').Tables} tables
   * @param {import('./predictor.js').Predictor} scorer
   */
  constructor(tables, scorer) {
    const runtime = tables.runtime;
    this.scorer = scorer;
    this.dictionary = tables.dictionary;
    this.chars = tables.chars;
    this.words = tables.words;
    this.prefixes = tables.prefixes;
    this.phrases = Boolean(runtime.phrases);
    this.wordExceptions = runtime.phrase_word_exceptions;
    this.contested = runtime.contested;
    this.citation = runtime.citation;
    this.han = new CodePointTable(runtime.han);
    this.staticCache = new Map();
    this.memo = memoTable(runtime.memo || {});
  }

  isPolyphone(char) {
    const readings = this.chars.get(char);
    return Boolean(readings && readings.length > 1);
  }

  /** What decides `char` when no phrase or model does: [reading, source]; 'fallback' is resolved per text. */
  static(char) {
    let got = this.staticCache.get(char);
    if (got === undefined) {
      if (this.dictionary.has(char)) {
        got = [this.dictionary.get(char), 'dictionary'];
      } else if (!this.han.get(char.codePointAt(0))) {
        got = [null, 'none'];
      } else {
        const readings = this.chars.get(char) || [];
        if (readings.length === 1) got = [readings[0], 'dictionary'];
        else got = [null, readings.length ? 'fallback' : 'none'];
      }
      if (this.staticCache.size < 65536) this.staticCache.set(char, got);
    }
    return got;
  }

  analyse(chars) {
    return phraseAnalysis(chars, this.words, this.prefixes, this.wordExceptions);
  }

  /**
   * Per text (an array of code points): readings (canonical or null), sources and, when `ranked`,
   * the ranked candidates of each character.
   * @param {string[][]} texts
   * @returns {Promise<{readings: (string|null)[], sources: string[], candidates: Ranked[]|null}[]>}
   */
  async decide(texts, ranked = false) {
    const analyses = texts.map((chars) => (this.phrases ? this.analyse(chars) : null));
    const phrases = analyses.map((a) => (a ? decidingPhrases(a.found, a.excepted) : new Map()));
    // a phrase another segmentation contradicts: the model may overrule it where it is confident
    const contested = texts.map((chars, t) => {
      const c = new Map();
      const a = analyses[t];
      if (a && (a.crossed.size || a.alone.size)) {
        const phrase = phrases[t];
        for (const o of a.crossed) if (phrase.has(o) && this.isPolyphone(chars[o])) c.set(o, this.contested.crossed);
        for (const o of a.alone) if (phrase.has(o) && this.isPolyphone(chars[o])) c.set(o, this.contested.alone);
      }
      return c;
    });
    // the model decides only what no uncontested phrase covers
    const skip = phrases.map((phrase, t) => {
      if (!phrase.size) return null;
      return new Set([...phrase.keys()].filter((o) => !contested[t].has(o)));
    });
    // a plain reading takes the memo's where it has the local context (ranked ones need the model)
    const memoised = this.memo && !ranked ? texts.map((chars, t) => this.memoLookup(chars, skip[t], contested[t])) : null;
    if (memoised) {
      memoised.forEach((found, t) => {
        if (!found.size) return;
        if (!skip[t]) skip[t] = new Set();
        for (const o of found.keys()) skip[t].add(o);
      });
    }
    let predictions;
    if (ranked || contested.some((c) => c.size)) {
      predictions = await this.scorer.predict(texts, skip);
      predictions.forEach((pred, t) => {
        if (!contested[t].size) return;
        const phrase = new Map(phrases[t]); // found stays whole for the fallbacks
        phrases[t] = phrase;
        for (const [offset, confidence] of contested[t]) {
          const got = pred.get(offset);
          if (got === undefined) continue;
          if (got[0][0] !== phrase.get(offset) && got[0][1] >= confidence) phrase.delete(offset);
          else pred.delete(offset);
        }
      });
      if (!ranked) predictions = predictions.map((pred) => new Map([...pred].map(([o, got]) => [o, got[0][0]])));
    } else {
      predictions = await this.scorer.bestReadings(texts, skip);
    }
    if (memoised) memoised.forEach((found, t) => { for (const [o, r] of found) predictions[t].set(o, r); });
    return texts.map((chars, t) => {
      const phrase = phrases[t];
      const pairs = chars.map((c) => this.static(c));
      const readings = pairs.map((p) => p[0]);
      const sources = pairs.map((p) => p[1]);
      for (const [offset, got] of predictions[t]) {
        readings[offset] = ranked ? got[0][0] : got;
        sources[offset] = 'model';
      }
      const fromPhrase = [...phrase.keys()]
        .filter((o) => this.isPolyphone(chars[o]) || neutralOf(phrase.get(o), readings[o]));
      for (const o of fromPhrase) {
        readings[o] = phrase.get(o);
        sources[o] = 'dictionary';
      }
      if (sources.includes('fallback')) {
        const found = analyses[t] ? analyses[t].found : this.analyse(chars).found;
        sources.forEach((source, o) => {
          if (source === 'fallback') {
            readings[o] = fallbackReading(o, found, this.chars.get(chars[o]));
            sources[o] = 'dictionary';
          }
        });
      }
      let candidates = null;
      if (ranked) {
        candidates = chars.map((char, o) => {
          if (sources[o] === 'model') return predictions[t].get(o);
          if (readings[o] === null) return [];
          return this.dictionaryRanked(char, readings[o]);
        });
        for (const o of fromPhrase) candidates[o] = [[readings[o], 1.0]];
      }
      this.citationTones(chars, readings, sources, candidates);
      return { readings, sources, candidates };
    });
  }

  /**
   * Offset -> the memo's reading for each memo polyphone outside `skip` and `contested`: the key with
   * both neighbours first, then the left one alone, then the right one alone.
   */
  memoLookup(chars, skip, contested) {
    const found = new Map();
    const { keys, polyphones } = this.memo;
    chars.forEach((char, o) => {
      if (!polyphones.has(char) || (skip && skip.has(o)) || contested.has(o)) return;
      const left = o ? chars[o - 1] : MEMO_EDGE;
      const right = o < chars.length - 1 ? chars[o + 1] : MEMO_EDGE;
      const reading = keys.get(left + char + right) ?? keys.get(left + char + MEMO_ANY) ?? keys.get(MEMO_ANY + char + right);
      if (reading !== undefined) found.set(o, reading);
    });
    return found;
  }

  /** The dictionary's reading first (1.0), then the character's other readings (0.0). */
  dictionaryRanked(char, reading) {
    return [[reading, 1.0], ...(this.chars.get(char) || []).filter((r) => r !== reading).map((r) => [r, 0.0])];
  }

  /** 一 and 不 in citation tone (their sandhi forms folded, probabilities summed). */
  citationTones(chars, readings, sources, candidates) {
    chars.forEach((char, o) => {
      const forms = this.citation[char];
      if (!forms || readings[o] === null) return;
      if (Object.hasOwn(forms, readings[o])) readings[o] = forms[readings[o]];
      if (candidates) {
        const merged = new Map();
        for (const [reading, p] of candidates[o]) {
          const key = Object.hasOwn(forms, reading) ? forms[reading] : reading;
          merged.set(key, (merged.get(key) || 0) + p);
        }
        candidates[o] = [...merged].map((e, i) => [...e, i]).sort((a, b) => b[1] - a[1] || a[2] - b[2]).map(([r, p]) => [r, p]);
      }
    });
  }
}

const MEMO_EDGE = '\ufffe';
const MEMO_ANY = '\uffff';

/**
 * The manifest's memo (reading -> keys of three characters each) as a map, or null when it has none.
 * A key listed under two readings takes the first reading in sorted order, as the Python runtime does.
 */
function memoTable(memo) {
  const keys = new Map();
  const polyphones = new Set();
  for (const reading of Object.keys(memo).sort()) {
    const chars = Array.from(memo[reading]);
    for (let k = 0; k + 2 < chars.length; k += 3) {
      const key = chars[k] + chars[k + 1] + chars[k + 2];
      if (!keys.has(key)) keys.set(key, reading);
      polyphones.add(chars[k + 1]);
    }
  }
  return keys.size ? { keys, polyphones } : null;
}

/** Is the phrase's reading the light (tone 5) form of the character's own reading? */
function neutralOf(phraseReading, reading) {
  return reading !== null && phraseReading.endsWith('5') && !reading.endsWith('5')
    && phraseReading.slice(0, -1) === reading.slice(0, -1);
}
