// The steps of a run as a graph: a layered layout, left to right. A step's layer is one more than
// the deepest step it takes inputs from, start steps first; within a layer, manifest order.

const SVG = 'http://www.w3.org/2000/svg';
const BOX_W = 190;
const BOX_H = 74;
const GAP_X = 90;
const GAP_Y = 26;
const PAD = 16;
const STATES = ['succeeded', 'assigned', 'pending', 'failed', 'cancelled'];

function el(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) {
    node.setAttribute(k, v);
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

/** Each step's layer; edges that would close a cycle are left out of the ranking. */
function layers(steps, edges) {
  const layer = new Map(steps.map((s) => [s.name, 0]));
  const order = new Map(steps.map((s, i) => [s.name, i]));
  // Longest path by relaxation, at most one pass per step: a cycle cannot push a step further.
  for (let pass = 0; pass < steps.length; pass++) {
    let changed = false;
    for (const e of edges) {
      if (!layer.has(e.from) || !layer.has(e.to) || e.from === e.to) continue;
      const want = layer.get(e.from) + 1;
      if (want > layer.get(e.to) && want < steps.length) {
        layer.set(e.to, want);
        changed = true;
      }
    }
    if (!changed) break;
  }
  // A step with inputs that no edge reaches yet (no tasks so far) goes after the start steps.
  for (const s of steps) {
    if (s.inputs.length && layer.get(s.name) === 0) layer.set(s.name, 1);
  }
  const columns = [];
  for (const s of steps) {
    const l = layer.get(s.name);
    (columns[l] = columns[l] || []).push(s);
  }
  return columns.filter(Boolean).map((c) => c.sort((a, b) => order.get(a.name) - order.get(b.name)));
}

/**
 * An SVG of the steps (each with a bar of its tasks by state and their counts) and the edges
 * between them, labelled with the input pattern; onSelect(name) is called when a step is clicked.
 */
export function stepGraph(steps, edges, selected, onSelect) {
  const columns = layers(steps, edges);
  const pos = new Map();
  columns.forEach((column, x) => {
    column.forEach((s, y) => {
      pos.set(s.name, { x: PAD + x * (BOX_W + GAP_X), y: PAD + y * (BOX_H + GAP_Y) });
    });
  });
  const width = PAD * 2 + columns.length * BOX_W + Math.max(0, columns.length - 1) * GAP_X;
  const height = PAD * 2 + Math.max(1, ...columns.map((c) => c.length)) * (BOX_H + GAP_Y) - GAP_Y;
  const svg = el('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img' });
  svg.append(el('title', {}, 'steps of the run'));

  for (const e of edges) {
    const a = pos.get(e.from);
    const b = pos.get(e.to);
    if (!a || !b) continue;
    const x1 = a.x + BOX_W;
    const y1 = a.y + BOX_H / 2;
    const x2 = b.x;
    const y2 = b.y + BOX_H / 2;
    const mid = (x1 + x2) / 2;
    svg.append(el('path', { class: 'edge', d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2 - 6},${y2}`, 'marker-end': 'url(#arrow)' }));
    const label = el('g', { class: 'edge-label' });
    label.append(el('title', {}, `${e.from} → ${e.to}: inputs like ${e.input}`));
    label.append(el('text', { class: 'pattern', x: mid, y: (y1 + y2) / 2 - 5, 'text-anchor': 'middle' }, e.pattern || e.input));
    svg.append(label);
  }
  const defs = el('defs');
  const marker = el('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 4, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
  marker.append(el('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#94a3b8' }));
  defs.append(marker);
  svg.prepend(defs);

  for (const s of steps) {
    const p = pos.get(s.name);
    const g = el('g', { class: `step${s.name === selected ? ' selected' : ''}`, transform: `translate(${p.x},${p.y})`, 'data-step': s.name });
    g.append(el('rect', { class: 'box', width: BOX_W, height: BOX_H, rx: 6 }));
    g.append(el('text', { class: 'name', x: 10, y: 19 }, s.gather ? `${s.name}  (gather)` : s.name));
    const t = s.tasks;
    let x = 10;
    const barW = BOX_W - 20;
    for (const state of STATES) {
      if (!t.total || !t[state]) continue;
      const w = (t[state] / t.total) * barW;
      g.append(el('rect', { x, y: 27, width: w, height: 7, class: `bar bar-${state}` }));
      x += w;
    }
    if (!t.total) {
      g.append(el('rect', { x: 10, y: 27, width: barW, height: 7, class: 'bar bar-none' }));
    }
    const done = `${t.succeeded}/${t.total} done`;
    const rest = ['assigned', 'pending', 'failed', 'cancelled'].filter((k) => t[k])
      .map((k) => `${t[k]} ${k === 'assigned' ? 'running' : k}`).join(', ');
    g.append(el('text', { class: 'counts', x: 10, y: 50 }, done));
    if (rest) g.append(el('text', { class: 'counts', x: 10, y: 65 }, rest));
    const summary = rest ? `${done}, ${rest}` : done;
    g.append(el('title', {}, `${s.name}: ${summary}` + (s.inputs.length ? `\ninputs: ${s.inputs.join(', ')}` : '\nstart step')));
    g.addEventListener('click', () => onSelect(s.name));
    svg.append(g);
  }
  return svg;
}
