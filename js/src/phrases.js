/**
 * pypinyin's phrase dictionary as a decision source (pinyin_edge/runtime/phrases.py): forward maximum
 * matching over the phrase table, then each phrase's per-character readings.
 */

/**
 * [the end of the longest phrase chars[start, end) with end >= firstEnd, else 0; the end at which
 * growing the piece stopped, chars.length + 1 when the text ran out first].
 */
function longestMatch(chars, start, firstEnd, words, prefixes) {
  const n = chars.length;
  let piece = chars.slice(start, firstEnd - 1).join('');
  let j = firstEnd;
  let last = 0;
  while (j <= n) {
    piece += chars[j - 1];
    if (words.has(piece)) last = j;
    else if (!prefixes.has(piece)) break;
    j += 1;
  }
  return [last, j];
}

/**
 * `[start, end)` of every multi-character phrase in the segmentation of `chars` (the longest phrase
 * starting at each point, found by growing a prefix while it is a phrase or a phrase's prefix).
 * @param {string[]} chars
 * @param {Map<string, string>} words
 * @param {Set<string>} prefixes
 */
export function phraseWords(chars, words, prefixes) {
  const found = [];
  const n = chars.length;
  let i = 0;
  while (i < n) {
    const [last, j] = longestMatch(chars, i, i + 1, words, prefixes);
    if (last) {
      if (last - i > 1) found.push([i, last]);
      i = last;
    } else if (j > n) {
      break; // the rest is a prefix holding no phrase
    } else {
      i += 1;
    }
  }
  return found;
}

/** offset in the phrase -> reading, for each character the phrase reads unambiguously. */
function wordReadings(words, word) {
  const out = new Map();
  const value = words.get(word);
  if (value) {
    value.split(' ').forEach((reading, i) => {
      if (reading) out.set(i, reading);
    });
  }
  return out;
}

/**
 * One segmentation of a text: `found` (offset -> reading inside a dictionary phrase), `excepted`
 * (offsets the bundle's word exceptions take from their phrase), `crossed` (offsets a greedy word
 * decides although another segmentation would read them otherwise) and `alone` (the excepted offsets
 * of a text that is one dictionary word: contested there, not dropped).
 * @param {Object<string, number[]>} wordExceptions
 */
export function phraseAnalysis(chars, words, prefixes, wordExceptions) {
  const found = new Map();
  let excepted = new Set();
  const segments = phraseWords(chars, words, prefixes);
  for (const [start, end] of segments) {
    const word = chars.slice(start, end).join('');
    for (const [i, reading] of wordReadings(words, word)) found.set(start + i, reading);
    const positions = wordExceptions && Object.hasOwn(wordExceptions, word) ? wordExceptions[word] : null;
    if (positions) for (const i of positions) excepted.add(start + i);
  }
  const crossed = new Set();
  for (const [start, end] of segments) {
    for (const o of crossedBy(chars, start, end, found, words, prefixes)) crossed.add(o);
  }
  let alone = new Set();
  if (excepted.size && segments.length === 1 && segments[0][0] === 0 && segments[0][1] === chars.length) {
    alone = excepted; // a word given alone: its dictionary reading stands unless the model is confident
    excepted = new Set();
  }
  return { found, excepted, crossed, alone };
}

/**
 * Offsets whose reading the greedy word [start, end) decides although another dictionary word crosses
 * its end (为人|民 against 人民): the part before the crossing word, and inside the crossing word the
 * offsets the two phrases read differently.
 */
function crossedBy(chars, start, end, found, words, prefixes) {
  for (let p = start + 1; p < end; p++) {
    const [last] = longestMatch(chars, p, p + 1, words, prefixes);
    if (last > end) {
      const other = wordReadings(words, chars.slice(p, last).join(''));
      const out = [];
      for (let o = start; o < p; o++) out.push(o);
      for (let o = p; o < last; o++) if (other.get(o - p) !== found.get(o)) out.push(o);
      return out;
    }
  }
  return [];
}

/** Of the phrase readings, those that decide: not the excepted offsets. */
export function decidingPhrases(found, excepted) {
  if (!found || !found.size) return new Map();
  if (!excepted.size) return found;
  const out = new Map();
  for (const [o, r] of found) if (!excepted.has(o)) out.set(o, r);
  return out;
}

/** A polyphone no model decides: its phrase's reading when that is one of its readings, else its first. */
export function fallbackReading(offset, phrase, candidates) {
  const got = phrase.get(offset);
  return got !== undefined && candidates.includes(got) ? got : candidates[0];
}
