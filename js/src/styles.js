/**
 * Display styles: a canonical reading (`zhong4`) rendered as pypinyin renders it, from the bundle's
 * styles.json (no rules here). `tone3` is the canonical reading itself.
 */
export class Styles {
  /** @param {{readings: string[], styles: Object<string, string[]>}} data */
  constructor(data) {
    this.names = ['tone3', ...Object.keys(data.styles)];
    this.tables = new Map();
    for (const [style, renderings] of Object.entries(data.styles)) {
      this.tables.set(style, new Map(data.readings.map((r, i) => [r, renderings[i]])));
    }
  }

  /** The function canonical reading -> its rendering in `style` (a style name, any case). */
  styler(style = 'tone3') {
    const name = typeof style === 'string' ? style.toLowerCase() : style;
    if (name === 'tone3') return (reading) => reading;
    const table = this.tables.get(name);
    if (!table) throw new RangeError(`unknown style ${JSON.stringify(style)}; choose one of: ${this.names.join(', ')}`);
    return (reading) => {
      const got = table.get(reading);
      if (got === undefined) throw new Error(`reading ${reading} has no ${name} rendering in the bundle`);
      return got;
    };
  }
}
