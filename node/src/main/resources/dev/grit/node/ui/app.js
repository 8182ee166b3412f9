// The grit web UI: runs, a run (its step graph, tasks, logs and outputs), lineage and the cluster.
// A hash router renders one page at a time into <main>; every datum comes from this node's API.

import { ApiError, download, follow, getJson, getLogPart, getText, post, setToken, status, token } from './api.js';
import { stepGraph } from './graph.js';

const RUN_STATES = ['running', 'succeeded', 'failed', 'cancelled', 'superseded'];
const TASK_STATES = ['pending', 'assigned', 'succeeded', 'failed', 'cancelled'];
const PAGE = 50;

const view = document.getElementById('view');
let role = null; // the token's role: read, submit or admin
let leaving = []; // what the current page stops when another is shown

// ---- small DOM helpers -------------------------------------------------------------------------

/** An element: props are attributes (class, href, ...) or on* handlers; children nodes or text. */
function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** Replaces node's children, as h() takes them (null, false and arrays allowed). */
function put(node, ...children) {
  node.replaceChildren(...h('div', {}, ...children).childNodes);
}

function stateBadge(state) {
  return h('span', { class: `state ${state}` }, state.toLowerCase());
}

function counts(tasks) {
  return h('span', { class: 'counts' },
    TASK_STATES.filter((s) => tasks[s]).map((s) => h('span', { class: `c-${s}`, title: s }, `${tasks[s]} ${s === 'assigned' ? 'running' : s}`)));
}

/** The time of day, the full date in its tooltip. */
function clock(iso) {
  return iso ? h('span', { title: time(iso) }, time(iso).slice(11)) : '';
}

function time(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function duration(fromIso, toIso) {
  if (!fromIso) return '';
  const ms = (toIso ? new Date(toIso) : new Date()) - new Date(fromIso);
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = -1;
  do { v /= 1024; u++; } while (v >= 1024 && u < units.length - 1);
  return `${v.toFixed(1)} ${units[u]}`;
}

function short(hash) {
  return h('span', { class: 'hash', title: hash }, hash.slice(0, 12));
}

function select(options, value, onchange, label) {
  return h('label', {}, label, ' ',
    h('select', { onchange: (e) => onchange(e.target.value) },
      options.map(([v, text]) => h('option', { value: v, selected: v === value }, text))));
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== null && v !== undefined && v !== '' && !(k === 'offset' && Number(v) === 0)) q.set(k, v);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

function showError(where, e) {
  if (e instanceof ApiError && e.status === 401) {
    tokenForm(e.message);
    return;
  }
  where.replaceChildren(h('p', { class: 'error' }, e.message || String(e)));
}

/** Calls fn every ms while the page is shown. */
function every(ms, fn) {
  const id = setInterval(fn, ms);
  leaving.push(() => clearInterval(id));
}

function lineageLink(ref, pipeline, text) {
  return h('a', { href: `#/lineage${query({ ref, pipeline })}`, title: 'lineage' }, text || ref);
}

function downloadButton(hash, name) {
  return h('button', {
    type: 'button',
    onclick: async (e) => {
      e.target.disabled = true;
      try { await download(hash, name); } catch (err) { alert(err.message); } finally { e.target.disabled = false; }
    },
  }, 'download');
}

// ---- the token ---------------------------------------------------------------------------------

function tokenForm(message) {
  stopPage();
  setToken(null);
  document.getElementById('signout').hidden = true;
  document.getElementById('who').textContent = '';
  const input = h('input', { type: 'password', id: 'token', autocomplete: 'off', placeholder: 'grit_…' });
  put(view, h('form', {
    class: 'token-form',
    onsubmit: async (e) => {
      e.preventDefault();
      setToken(input.value);
      await start();
    },
  },
  h('h1', {}, 'Sign in'),
  h('p', {}, 'This node wants a bearer token: a read token shows runs, logs and the cluster; a submit token can also cancel and retry runs. It is kept for this browser tab only.'),
  message ? h('p', { class: 'error' }, message) : null,
  input,
  h('button', { type: 'submit' }, 'Continue')));
  input.focus();
}

async function start() {
  try {
    const me = await getJson('/v1/whoami');
    role = me.role;
    document.getElementById('who').textContent = `${me.name ? `${me.name} · ` : ''}${role} token`;
    document.getElementById('signout').hidden = !token();
    route();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      tokenForm(token() ? e.message : null);
    } else {
      put(view, h('p', { class: 'error' }, `This node does not answer: ${e.message}`));
    }
  }
}

const canSubmit = () => role === 'submit' || role === 'admin';

// ---- router ------------------------------------------------------------------------------------

function stopPage() {
  for (const stop of leaving) stop();
  leaving = [];
}

function route() {
  stopPage();
  const hash = location.hash.replace(/^#/, '') || '/runs';
  const [path, q] = hash.split('?');
  const params = new URLSearchParams(q || '');
  const parts = path.split('/').filter(Boolean);
  for (const a of document.querySelectorAll('header nav a')) {
    a.classList.toggle('active', a.dataset.nav === parts[0]);
  }
  if (parts[0] === 'runs' && parts[1]) runPage(Number(parts[1]), params);
  else if (parts[0] === 'lineage') lineagePage(params);
  else if (parts[0] === 'cluster') clusterPage();
  else runsPage(params);
}

/** Records a page's own state in the address without showing the page again. */
function replaceHash(hash) {
  history.replaceState(null, '', `#${hash}`);
}

// ---- runs --------------------------------------------------------------------------------------

function runsPage(params) {
  const filter = {
    pipeline: params.get('pipeline') || '',
    state: params.get('state') || '',
    offset: Number(params.get('offset') || 0),
  };
  const go = (change) => { location.hash = `/runs${query({ ...filter, offset: 0, ...change })}`; };
  const pipelineInput = h('input', { name: 'pipeline', value: filter.pipeline, placeholder: 'any pipeline', size: 18 });
  const body = h('tbody');
  const pager = h('div', { class: 'pager' });
  put(view, 
    h('h1', {}, 'Runs'),
    h('form', { class: 'toolbar', onsubmit: (e) => { e.preventDefault(); go({ pipeline: pipelineInput.value.trim() }); } },
      h('label', {}, 'Pipeline ', pipelineInput),
      select([['', 'any state'], ...RUN_STATES.map((s) => [s, s])], filter.state, (v) => go({ state: v }), 'State'),
      h('button', { type: 'submit' }, 'Filter')),
    h('table', { id: 'runs' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Run'), h('th', {}, 'Pipeline'), h('th', {}, 'State'),
        h('th', {}, 'Submitted'), h('th', {}, 'Finished'), h('th', {}, 'Took'), h('th', {}, 'Tasks'))),
      body),
    pager);

  async function load() {
    try {
      const runs = await getJson(`/v1/runs${query({ pipeline: filter.pipeline, state: filter.state, offset: filter.offset, limit: PAGE + 1 })}`);
      const shown = runs.slice(0, PAGE);
      put(body, ...shown.map((r) => h('tr', { 'data-run': r.id },
        h('td', {}, h('a', { href: `#/runs/${r.id}` }, `#${r.id}`)),
        h('td', {}, h('a', { href: `#/runs${query({ pipeline: r.pipeline })}` }, r.pipeline)),
        h('td', {}, stateBadge(r.state)),
        h('td', {}, time(r.submitted_at)),
        h('td', {}, time(r.finished_at)),
        h('td', {}, duration(r.submitted_at, r.finished_at)),
        h('td', {}, counts(r.tasks)))));
      if (!shown.length) put(body, h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No runs.')));
      put(pager, 
        h('button', { type: 'button', disabled: filter.offset === 0, onclick: () => go({ ...filter, offset: Math.max(0, filter.offset - PAGE) }) }, '← Newer'),
        h('span', { class: 'muted' }, shown.length ? `${filter.offset + 1}–${filter.offset + shown.length}` : ''),
        h('button', { type: 'button', disabled: runs.length <= PAGE, onclick: () => go({ ...filter, offset: filter.offset + PAGE }) }, 'Older →'));
    } catch (e) {
      showError(body, e);
    }
  }
  load();
  every(5000, load);
}

// ---- a run -------------------------------------------------------------------------------------

function runPage(id, params) {
  const ui = {
    state: params.get('state') || '',
    step: params.get('step') || '',
    offset: Number(params.get('offset') || 0),
    task: params.get('task') ? Number(params.get('task')) : null,
  };
  let run = null;
  let steps = null;
  const head = h('div', { id: 'run-head' }, h('p', { class: 'muted' }, 'Loading…'));
  const graph = h('div', { class: 'graph', id: 'graph' });
  const tasksBox = h('div', { id: 'tasks' });
  const taskBox = h('div', { id: 'task', class: 'panel' }, h('p', { class: 'muted' }, 'Pick a task to see its attempts, log and outputs.'));
  put(view, head, h('h2', {}, 'Steps'), graph,
    h('div', { class: 'split' }, h('div', {}, h('h2', {}, 'Tasks'), tasksBox), h('div', {}, h('h2', {}, 'Task'), taskBox)));

  const remember = () => replaceHash(`/runs/${id}${query({ state: ui.state, step: ui.step, offset: ui.offset, task: ui.task })}`);

  let retryKnown = null; // whether this node has POST /v1/runs/{id}/retry
  async function retryExists() {
    if (retryKnown === null) {
      // A GET of a POST-only route answers 405; a node without the route answers 404.
      retryKnown = (await status(`/v1/runs/${id}/retry`)) !== 404;
    }
    return retryKnown;
  }

  async function loadRun() {
    run = await getJson(`/v1/runs/${id}?summary=true`);
    const buttons = [];
    if (canSubmit() && run.state === 'RUNNING') {
      buttons.push(h('button', {
        type: 'button', class: 'danger', id: 'cancel',
        onclick: async () => {
          if (!confirm(`Cancel run ${id}?`)) return;
          try { await post(`/v1/runs/${id}/cancel`); } catch (e) { alert(e.message); }
          refresh();
        },
      }, 'Cancel run'));
    }
    if (canSubmit() && run.state !== 'RUNNING' && (run.tasks.failed || run.tasks.cancelled) && await retryExists()) {
      buttons.push(h('button', {
        type: 'button', id: 'retry',
        onclick: async () => {
          try {
            const answer = await post(`/v1/runs/${id}/retry`);
            const next = answer.run || id;
            location.hash = `/runs/${next}`;
            if (next === id) refresh();
          } catch (e) { alert(e.message); }
        },
      }, 'Retry failed tasks'));
    }
    put(head, 
      h('h1', {}, `Run #${run.id} `, h('a', { href: `#/runs${query({ pipeline: run.pipeline })}` }, run.pipeline), ' ', stateBadge(run.state),
        live ? h('span', { class: 'live', title: 'following the run\'s events' }, ' live') : null),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Submitted'), h('dd', {}, time(run.submitted_at)),
        h('dt', {}, 'Finished'), h('dd', {}, run.finished_at ? `${time(run.finished_at)} (took ${duration(run.submitted_at, run.finished_at)})` : `running for ${duration(run.submitted_at)}`),
        h('dt', {}, 'Source'), h('dd', {}, run.source),
        h('dt', {}, 'Tasks'), h('dd', { id: 'run-counts' }, counts(run.tasks)),
        run.reason ? [h('dt', {}, 'Why'), h('dd', { class: 'error' }, run.reason)] : null),
      buttons.length ? h('div', { class: 'toolbar' }, buttons) : null);
  }

  async function loadSteps() {
    steps = await getJson(`/v1/runs/${id}/steps`);
    graph.replaceChildren(stepGraph(steps.steps, steps.edges, ui.step, (name) => {
      ui.step = ui.step === name ? '' : name;
      ui.offset = 0;
      remember();
      loadSteps().catch((e) => showError(graph, e));
      loadTasks().catch((e) => showError(tasksBox, e));
    }));
  }

  const fetchTasks = () => getJson(`/v1/runs/${id}/tasks${query({ state: ui.state, step: ui.step, offset: ui.offset, limit: PAGE })}`);
  const loadTasks = async () => renderTasks(await fetchTasks());

  function renderTasks(page) {
    const change = (c) => {
      Object.assign(ui, c);
      remember();
      loadTasks().catch((e) => showError(tasksBox, e));
      if ('step' in c) loadSteps().catch((e) => showError(graph, e));
    };
    const stepNames = steps ? steps.steps.map((s) => s.name) : [];
    const rows = page.tasks.map((t) => h('tr', {
      'data-task': t.id, class: t.id === ui.task ? 'selected' : null,
      onclick: () => { ui.task = t.id; remember(); tasksBox.querySelectorAll('tr.selected').forEach((r) => r.classList.remove('selected')); rowFor(t.id)?.classList.add('selected'); showTask(); },
    },
    h('td', {}, h('a', { href: `#/runs/${id}${query({ ...ui, task: t.id })}`, onclick: (e) => e.preventDefault() }, t.id)),
    h('td', {}, t.step),
    h('td', {}, t.input_name || ''),
    h('td', {}, stateBadge(t.state)),
    h('td', { class: 'num' }, t.attempt || ''),
    h('td', {}, t.node || ''),
    h('td', {}, time(t.started_at)),
    h('td', {}, t.started_at ? duration(t.started_at, t.finished_at) : ''),
    h('td', { class: 'num' }, t.exit_code ?? '')));
    const last = Math.min(page.total, ui.offset + page.tasks.length);
    put(tasksBox, 
      h('div', { class: 'toolbar' },
        select([['', 'any state'], ...TASK_STATES.map((s) => [s, s])], ui.state, (v) => change({ state: v, offset: 0 }), 'State'),
        select([['', 'any step'], ...stepNames.map((s) => [s, s])], ui.step, (v) => change({ step: v, offset: 0 }), 'Step')),
      h('table', { id: 'task-table' },
        h('thead', {}, h('tr', {}, ['Task', 'Step', 'Input', 'State', 'Attempt', 'Node', 'Started', 'Took', 'Exit'].map((c) => h('th', {}, c)))),
        h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 9, class: 'muted' }, 'No tasks.')))),
      h('div', { class: 'pager' },
        h('button', { type: 'button', disabled: ui.offset === 0, onclick: () => change({ offset: Math.max(0, ui.offset - PAGE) }) }, '← Previous'),
        h('span', { class: 'muted', id: 'task-range' }, page.total ? `${ui.offset + 1}–${last} of ${page.total}` : ''),
        h('button', { type: 'button', disabled: last >= page.total, onclick: () => change({ offset: ui.offset + PAGE }) }, 'Next →')));
  }

  const rowFor = (taskId) => tasksBox.querySelector(`tr[data-task="${taskId}"]`);

  // The selected task: followed while it is pending or running. Its running attempt's output is
  // read about 4 times a second from the byte the last read ended at and appended to the log.
  let taskTimer = null;
  let liveLog = null; // { task, attempt, offset, text, base, decoder, timer }
  const stopFollow = () => { if (liveLog) clearTimeout(liveLog.timer); liveLog = null; };
  leaving.push(() => clearTimeout(taskTimer));
  leaving.push(stopFollow);
  async function showTask() {
    clearTimeout(taskTimer);
    if (!ui.task) { stopFollow(); return; }
    const taskId = ui.task;
    try {
      const [task, log] = await Promise.all([getJson(`/v1/tasks/${taskId}`), getText(`/v1/tasks/${taskId}/log`)]);
      if (taskId !== ui.task) return;
      const runningAttempt = task.attempts.find((a) => a.outcome === 'RUNNING');
      if (!runningAttempt) {
        stopFollow(); // the stored logs hold everything now
      } else if (!liveLog || liveLog.task !== taskId || liveLog.attempt !== runningAttempt.n) {
        stopFollow();
        liveLog = { task: taskId, attempt: runningAttempt.n, offset: 0, text: '', base: log, decoder: new TextDecoder() };
        liveLog.timer = setTimeout(readLive, 0);
      } else {
        liveLog.base = log;
      }
      renderTask(task, liveLog ? log + liveLog.text : log);
      if (task.state === 'PENDING' || task.state === 'ASSIGNED') {
        taskTimer = setTimeout(showTask, 2000);
      }
    } catch (e) {
      showError(taskBox, e);
    }
  }

  async function readLive() {
    const f = liveLog;
    if (!f) return;
    try {
      const part = await getLogPart(`/v1/tasks/${f.task}/log?attempt=${f.attempt}&from=${f.offset}`);
      if (f !== liveLog) return;
      if (part.skipped) f.text += '\n[… output skipped: it came faster than it was read …]\n';
      f.text += f.decoder.decode(part.bytes, { stream: part.running });
      f.offset = part.offset;
      const pre = taskBox.querySelector('#log');
      if (pre) pre.textContent = f.base + f.text;
      if (part.running) {
        f.timer = setTimeout(readLive, 250);
      } else {
        showTask(); // ended: its stored log and outcome
      }
    } catch (e) {
      if (f === liveLog) f.timer = setTimeout(readLive, 1000);
    }
  }

  function renderTask(t, log) {
    const running = t.state === 'PENDING' || t.state === 'ASSIGNED';
    const inputs = t.inputs || [];
    put(taskBox, 
      h('h3', {}, `Task ${t.id} · ${t.step} `, stateBadge(t.state)),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Step'), h('dd', {}, `${t.step} (version ${t.version})${t.gather ? ', gather' : ''}`),
        t.node ? [h('dt', {}, 'Node'), h('dd', {}, t.node)] : null,
        t.error ? [h('dt', {}, 'Error'), h('dd', { class: 'error' }, t.error)] : null,
        h('dt', {}, inputs.length === 1 ? 'Input' : 'Inputs'),
        h('dd', {}, inputs.length === 0 ? h('span', { class: 'muted' }, 'none (a start step)') :
          h('div', {}, inputs.slice(0, 20).map((i) => h('div', {}, lineageLink(i.hash, t.pipeline, i.name), ' ', h('span', { class: 'muted' }, size(i.size)))),
            inputs.length > 20 ? h('div', { class: 'muted' }, `and ${inputs.length - 20} more`) : null))),
      h('h4', {}, 'Attempts'),
      t.attempts.length ? h('table', { id: 'attempts' },
        h('thead', {}, h('tr', {}, ['#', 'Node', 'Outcome', 'Exit', 'Assigned', 'Started', 'Finished', 'Error'].map((c) => h('th', {}, c)))),
        h('tbody', {}, t.attempts.map((a) => h('tr', {},
          h('td', {}, a.n), h('td', {}, a.node), h('td', {}, stateBadge(a.outcome)), h('td', { class: 'num' }, a.exit_code ?? ''),
          h('td', {}, clock(a.assigned_at)), h('td', {}, clock(a.started_at)), h('td', {}, clock(a.finished_at)),
          h('td', { class: 'error' }, a.error || ''))))) : h('p', { class: 'muted' }, 'Not attempted yet.'),
      h('h4', {}, 'Outputs'),
      (t.outputs || []).length ? h('table', { id: 'outputs' }, h('tbody', {}, t.outputs.map((o) => h('tr', {},
        h('td', {}, lineageLink(o.hash, t.pipeline, o.name)), h('td', {}, short(o.hash)), h('td', { class: 'num' }, size(o.size)),
        h('td', {}, downloadButton(o.hash, o.name)))))) : h('p', { class: 'muted' }, running ? 'None yet.' : 'None.'),
      h('h4', {}, 'Log ', running ? h('span', { class: 'live' }, 'following') : null),
      h('pre', { class: 'log', id: 'log' }, log || (running ? 'No output yet.' : '(empty)')),
      running && t.state === 'ASSIGNED' ? h('p', { class: 'muted' }, `Attempt ${t.attempt} runs on ${t.node}; its output appears here as it comes.`) : null);
  }

  // Live: the run's events say something changed; the views are read again, at most once a second.
  let live = false;
  let pending = null;
  let lastRefresh = 0;
  function refresh() {
    if (pending) return;
    const wait = Math.max(0, 1000 - (Date.now() - lastRefresh));
    pending = setTimeout(async () => {
      pending = null;
      lastRefresh = Date.now();
      try {
        const [, , page] = await Promise.all([loadRun(), loadSteps(), fetchTasks()]);
        renderTasks(page);
        if (ui.task) await showTask();
      } catch (e) {
        showError(tasksBox, e);
      }
    }, wait);
  }
  leaving.push(() => clearTimeout(pending));

  const abort = new AbortController();
  leaving.push(() => abort.abort());
  async function followEvents() {
    while (!abort.signal.aborted && run && run.state === 'RUNNING') {
      live = true;
      try {
        await follow(`/v1/runs/${id}/events`, (type) => {
          if (type !== 'Heartbeat') refresh();
        }, abort.signal);
      } catch (e) {
        if (abort.signal.aborted) return;
      }
      live = false;
      refresh();
      // The stream ended: the run did, or the node let a slow reader go. Look, then reconnect.
      await new Promise((r) => setTimeout(r, 2000));
      if (!abort.signal.aborted) await loadRun().catch(() => {});
    }
    live = false;
  }

  (async () => {
    try {
      // The three reads at once: the run, its steps counted by the node, one page of tasks.
      const [, , page] = await Promise.all([loadRun(), loadSteps(), fetchTasks()]);
      renderTasks(page);
      showTask();
      if (run.state === 'RUNNING') {
        followEvents();
        await loadRun();
      }
    } catch (e) {
      showError(head, e);
    }
  })();
}

// ---- lineage -----------------------------------------------------------------------------------

function lineagePage(params) {
  const form = {
    ref: params.get('ref') || '',
    direction: params.get('direction') || 'up',
    depth: params.get('depth') || '',
    pipeline: params.get('pipeline') || '',
  };
  const ref = h('input', { name: 'ref', value: form.ref, placeholder: 'resource name or sha256', size: 40 });
  const depth = h('input', { name: 'depth', value: form.depth, placeholder: 'all', size: 4 });
  const pipeline = h('input', { name: 'pipeline', value: form.pipeline, placeholder: 'any', size: 14 });
  let direction = form.direction;
  const out = h('div', { class: 'tree', id: 'lineage' });
  put(view, 
    h('h1', {}, 'Lineage'),
    h('form', {
      class: 'toolbar',
      onsubmit: (e) => {
        e.preventDefault();
        location.hash = `/lineage${query({ ref: ref.value.trim(), direction, depth: depth.value.trim(), pipeline: pipeline.value.trim() })}`;
      },
    },
    h('label', {}, 'Resource ', ref),
    select([['up', 'where it came from'], ['down', 'what came of it']], direction, (v) => { direction = v; }, 'Show'),
    h('label', {}, 'Depth ', depth),
    h('label', {}, 'Pipeline ', pipeline),
    h('button', { type: 'submit' }, 'Show')),
    out);
  if (!form.ref) {
    out.append(h('p', { class: 'muted' }, 'Name a resource (as its name or sha256) to see the tasks that produced it and their inputs, or what was made from it.'));
    return;
  }
  getJson(`/v1/resources/${encodeURIComponent(form.ref)}/lineage${query({ direction: form.direction, depth: form.depth, pipeline: form.pipeline })}`)
    .then((g) => out.replaceChildren(lineageTree(g)))
    .catch((e) => showError(out, e));
}

function lineageTree(g) {
  const up = g.direction === 'up' || g.direction === 'UP';
  const resources = new Map(g.resources.map((r) => [r.id, r]));
  const tasks = new Map(g.tasks.map((t) => [t.id, t]));
  const shown = new Set();
  const resourceItem = (id) => {
    const r = resources.get(id);
    if (!r) return null;
    const line = h('div', {}, h('strong', {}, r.name), ' ', short(r.hash), ' ', h('span', { class: 'muted' }, `${size(r.size)} · ${r.pipeline}`), ' ',
      downloadButton(r.hash, r.name), ' ', lineageLink(r.hash, r.pipeline, 'lineage'));
    const key = `r${id}`;
    if (shown.has(key)) return h('li', {}, line, h('span', { class: 'muted' }, ' (shown above)'));
    shown.add(key);
    const next = (up ? r.produced_by : r.consumed_by) || [];
    return h('li', {}, line, next.length ? h('ul', {}, next.map(taskItem)) : null);
  };
  const taskItem = (id) => {
    const t = tasks.get(id);
    if (!t) return null;
    const line = h('div', { class: 'task' }, up ? 'made by ' : 'used by ',
      h('a', { href: `#/runs/${t.run}${query({ task: t.id })}` }, `task ${t.id}`),
      ` · step ${t.step} v${t.version}${t.gather ? ' (gather)' : ''} · run ${t.run} `, stateBadge(t.state));
    const key = `t${id}`;
    if (shown.has(key)) return h('li', {}, line, h('span', { class: 'muted' }, ' (shown above)'));
    shown.add(key);
    const next = (up ? t.inputs : t.outputs) || [];
    return h('li', {}, line, next.length ? h('ul', {}, next.map(resourceItem)) : null);
  };
  return h('ul', {}, g.roots.map(resourceItem));
}

// ---- cluster -----------------------------------------------------------------------------------

function clusterPage() {
  const box = h('div', { id: 'cluster' }, h('p', { class: 'muted' }, 'Loading…'));
  put(view, h('h1', {}, 'Cluster'), box);
  async function load() {
    try {
      const c = await getJson('/v1/cluster');
      const inUse = c.members.reduce((n, m) => n + m.slots_in_use, 0);
      const slots = c.members.reduce((n, m) => n + m.slots, 0);
      const leaderApi = (c.members.find((m) => m.id === c.leader) || {}).http_address;
      put(box, 
        h('dl', { class: 'facts' },
          h('dt', {}, 'This node'), h('dd', {}, c.self),
          h('dt', {}, 'Leader'), h('dd', {}, c.leader || h('span', { class: 'error' }, 'none known')),
          h('dt', {}, 'Term'), h('dd', {}, c.term),
          h('dt', {}, 'Slots in use'), h('dd', {}, `${inUse} of ${slots}`)),
        h('table', { id: 'members' },
          h('thead', {}, h('tr', {}, ['Member', 'Role', 'Live', 'Last contact', 'Raft address', 'API', 'Commit index', 'Applied index', 'Slots in use'].map((t) => h('th', {}, t)))),
          h('tbody', {}, c.members.map((m) => h('tr', { 'data-member': m.id },
            h('td', {}, m.id, m.id === c.self ? h('span', { class: 'muted' }, ' (this node)') : null),
            h('td', {}, m.leader ? 'leader' : 'follower'),
            h('td', {}, m.live ? h('span', { class: 'c-succeeded' }, 'live')
              : m.last_contact_millis < 0 && c.leader !== c.self ? h('span', { class: 'muted', title: 'the leader knows' }, 'unknown here')
                : h('span', { class: 'c-failed' }, 'silent')),
            h('td', {}, m.last_contact_millis >= 0 ? `${(m.last_contact_millis / 1000).toFixed(1)}s ago` : ''),
            h('td', {}, m.raft_address),
            h('td', {}, m.http_address ? h('a', { href: `${location.protocol}//${m.http_address}/` }, m.http_address) : ''),
            h('td', { class: 'num' }, m.commit_index >= 0 ? m.commit_index : ''),
            h('td', { class: 'num' }, m.applied_index >= 0 ? m.applied_index : ''),
            h('td', { class: 'num' }, m.slots ? `${m.slots_in_use} / ${m.slots}` : m.slots_in_use))))),
        h('p', { class: 'muted' }, 'Commit and applied indexes are this node\'s own; liveness and last contact are as the leader last heard',
          leaderApi && c.leader !== c.self ? [' (exact on ', h('a', { href: `${location.protocol}//${leaderApi}/#/cluster` }, `the leader's page`), ')'] : '', '.'));
    } catch (e) {
      showError(box, e);
    }
  }
  load();
  every(3000, load);
}

// ---- start -------------------------------------------------------------------------------------

document.getElementById('signout').addEventListener('click', () => tokenForm(null));
window.addEventListener('hashchange', () => { if (role) route(); });
start();
