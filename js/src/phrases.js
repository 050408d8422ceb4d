/**
 * pypinyin's phrase dictionary as a decision source (pinyin_edge/runtime/phrases.py): forward maximum
 * matching over the phrase table, then each phrase's per-character readings.
 */

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
    let j = i + 1;
    let last = 0;
    let piece = '';
    while (j <= n) {
      piece += chars[j - 1];
      if (words.has(piece)) last = j;
      else if (!prefixes.has(piece)) break;
      j += 1;
    }
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

/**
 * (offset -> reading for every character a phrase reads unambiguously, the offsets the bundle's word
 * exceptions take from their phrase).
 * @param {Object<string, number[]>} wordExceptions
 */
export function phraseLookup(chars, words, prefixes, wordExceptions) {
  const found = new Map();
  const excepted = new Set();
  for (const [start, end] of phraseWords(chars, words, prefixes)) {
    const word = chars.slice(start, end).join('');
    const value = words.get(word);
    if (value) {
      value.split(' ').forEach((reading, i) => {
        if (reading) found.set(start + i, reading);
      });
    }
    const positions = wordExceptions && wordExceptions[word];
    if (positions) for (const i of positions) excepted.add(start + i);
  }
  return { found, excepted };
}

/** Of the phrase readings, those that decide: never the exception characters nor the excepted offsets. */
export function decidingPhrases(chars, found, exceptions, excepted) {
  if (!found || !found.size) return new Map();
  if (!exceptions.size && !excepted.size) return found;
  const out = new Map();
  for (const [o, r] of found) if (!exceptions.has(chars[o]) && !excepted.has(o)) out.set(o, r);
  return out;
}

/** A polyphone no model decides: its phrase's reading when that is one of its readings, else its first. */
export function fallbackReading(offset, phrase, candidates) {
  const got = phrase.get(offset);
  return got !== undefined && candidates.includes(got) ? got : candidates[0];
}
