// The demo: type Chinese, see pinyin; the polyphones the model decided are highlighted, with their
// candidate readings' probabilities on hover. Served from js/ (the bundle is js/bundle).
import * as ort from '../node_modules/onnxruntime-web/dist/ort.wasm.min.mjs';
import { load } from '../src/web.js';

ort.env.wasm.numThreads = 1; // threads need a cross-origin isolated page

const input = document.getElementById('input');
const style = document.getElementById('style');
const output = document.getElementById('output');
const status = document.getElementById('status');
const tip = document.getElementById('tip');

function percent(p) {
  return `${(100 * p).toFixed(p > 0.999 || p < 0.001 ? 2 : 1)}%`;
}

function render(items) {
  output.replaceChildren(...items.map((item) => {
    if (item.source === 'none') return document.createTextNode(item.char);
    const ruby = document.createElement('ruby');
    ruby.append(item.char);
    const rt = document.createElement('rt');
    rt.textContent = item.reading;
    ruby.append(rt);
    if (item.source === 'model') {
      ruby.className = 'model';
      ruby.dataset.tip = item.candidates.map(([r, p]) => `${r}  ${percent(p)}`).join('\n');
    }
    return ruby;
  }));
}

output.addEventListener('mouseover', (event) => {
  const ruby = event.target.closest('ruby.model');
  if (!ruby) { tip.style.display = 'none'; return; }
  tip.textContent = ruby.dataset.tip;
  const box = ruby.getBoundingClientRect();
  tip.style.left = `${box.left}px`;
  tip.style.top = `${box.bottom + 4}px`;
  tip.style.display = 'block';
});
output.addEventListener('mouseleave', () => { tip.style.display = 'none'; });

try {
  const started = performance.now();
  const g2p = await load('../bundle/', ort);
  status.textContent = `model loaded in ${Math.round(performance.now() - started)} ms`;
  window.pinyinEdge = g2p; // for the browser console (and the page's test)
  let pending = null;
  let latest = 0;
  const update = async () => {
    const ticket = ++latest;
    const t0 = performance.now();
    const items = await g2p.annotate(input.value, { style: style.value });
    if (ticket !== latest) return; // a newer input is being read
    render(items);
    const decided = items.filter((i) => i.source === 'model').length;
    status.textContent = `${items.length} characters, ${decided} decided by the model, in ${(performance.now() - t0).toFixed(1)} ms`;
    document.body.dataset.ready = String(ticket);
  };
  input.addEventListener('input', () => { clearTimeout(pending); pending = setTimeout(update, 60); });
  style.addEventListener('change', update);
  if (!input.value) input.value = '银行行长在长江边上行走，他还了钱，还是很开心。';
  await update();
} catch (error) {
  status.textContent = `error: ${error.message}`;
  document.body.dataset.error = error.message;
}
