/**
 * Code point classes from the bundle's run-length tables (`[start, value, start, value, ...]`):
 * a lookup array for the BMP, a binary search beyond it.
 */
export class CodePointTable {
  /** @param {number[]} ranges */
  constructor(ranges) {
    this.starts = ranges.filter((_, i) => i % 2 === 0);
    this.values = ranges.filter((_, i) => i % 2 === 1);
    this.bmp = new Uint8Array(0x10000);
    for (let k = 0; k < this.starts.length && this.starts[k] < 0x10000; k++) {
      const end = Math.min(k + 1 < this.starts.length ? this.starts[k + 1] : 0x10000, 0x10000);
      this.bmp.fill(this.values[k], this.starts[k], end);
    }
  }

  /** @param {number} cp */
  get(cp) {
    if (cp < 0x10000) return this.bmp[cp];
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) { // the last start <= cp
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= cp) lo = mid; else hi = mid - 1;
    }
    return this.values[lo];
  }
}
