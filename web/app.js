// The pipeline dashboard: plain JavaScript, no build step, no network beyond
// this server. Pages are drawn from the JSON API and redrawn when the server's
// event stream (/api/events) says the store changed.
'use strict';

const STATES = ['needs-help', 'review', 'in-progress', 'open', 'verified', 'done'];

// --- the API -----------------------------------------------------------------

// A token in the URL (?token=...) is kept for this tab; beyond loopback the
// server wants it on every request.
const token = (() => {
  const fromUrl = new URLSearchParams(location.search).get('token');
  if (fromUrl) sessionStorage.setItem('pipeline-token', fromUrl);
  return fromUrl || sessionStorage.getItem('pipeline-token') || '';
})();

async function api(path, options = {}) {
  const headers = { 'X-Pipeline-Request': '1' };
  if (token) headers.Authorization = 'Bearer ' + token;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method: options.method || 'GET',
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (!res.ok) throw new Error((data && data.error) || res.status + ' ' + res.statusText);
  return data;
}

const post = (path, body) => api(path, { method: 'POST', body: body || {} });

// --- small helpers -----------------------------------------------------------

function esc(s) {
  return String(s == null ? '' : s).replace(/[&<>"']/g,
    c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}
const enc = encodeURIComponent;
const $ = sel => document.querySelector(sel);
const main = () => $('#main');
const cents = c => (c / 100).toLocaleString(undefined, { style: 'currency', currency: 'USD' });
const secs = s => s < 90 ? Math.round(s) + 's' : Math.round(s / 60) + 'm';

function flash(message, ok) {
  const f = $('#flash');
  f.textContent = message;
  f.className = ok ? 'ok' : '';
  f.hidden = false;
  clearTimeout(flash.timer);
  flash.timer = setTimeout(() => { f.hidden = true; }, ok ? 2500 : 8000);
}

// Runs an action, reports its outcome, then redraws the page.
async function act(what, fn) {
  try {
    await fn();
    flash(what + ': done', true);
  } catch (e) {
    flash(what + ' failed: ' + e.message, false);
  }
  // The board is patched by the change event the action causes.
  if (route().page !== 'board' || !$('#board-counts')) refresh();
}

// The reasons the status snapshot gives for tasks that wait, whatever the
// field: any array of objects naming a task_id with a reason, waiting or
// seconds_left field contributes a line.
// The same reason in two lists (e.g. waiting and skipped) is said once.
// Each remembers the status the snapshot saw: a task that moved since is
// not shown a reason that no longer applies.
function waitingReasons(snapshot) {
  const out = new Map();
  const status = new Map();
  for (const v of Object.values(snapshot || {}))
    if (Array.isArray(v)) for (const item of v) if (item && item.task_id && item.status) status.set(item.task_id, item.status);
  const add = (id, text) => {
    if (!id || !text) return;
    const had = out.get(id) || { texts: [], text: '', status: status.get(id) };
    if (had.texts.includes(text)) return;
    had.texts.push(text);
    had.text = had.texts.join('; ');
    out.set(id, had);
  };
  for (const [key, value] of Object.entries(snapshot || {})) {
    if (!Array.isArray(value)) continue;
    for (const item of value) {
      if (!item || typeof item !== 'object') continue;
      const id = item.task_id || item.taskId;
      if (!id) continue;
      for (const field of ['waiting', 'reason']) {
        const v = item[field];
        if (typeof v === 'string' && v) add(id, v);
        else if (v && typeof v === 'object') add(id, Object.entries(v).map(([k, x]) => k + ': ' + x).join(', '));
      }
      if (key === 'backoff' && item.seconds_left != null) add(id, 'back-off, ' + secs(item.seconds_left) + ' left');
    }
  }
  return out;
}

// The merge queue's red base, as the snapshot says it on the changes it
// holds back (detail.base_red), or '' when the base is green.
function baseRed(snapshot) {
  for (const v of Object.values(snapshot || {})) {
    if (!Array.isArray(v)) continue;
    for (const item of v)
      if (item && item.detail && item.detail.base_red) {
        const why = String(item.detail.why || '').trim().split('\n').slice(-1)[0];
        return String(item.reason || 'base red').replace(/ \(since .*$/, '') + ': nothing lands until it passes' +
          (why ? ' — ' + why : '');
      }
  }
  return '';
}

// The snapshot's reason for a task, if it still holds for the task as shown.
function reasonFor(t) {
  const r = board.reasons.get(t.id);
  return r && (!r.status || r.status === t.status) ? r.text : '';
}

// --- pages -------------------------------------------------------------------

// --- the board ---------------------------------------------------------------
//
// Drawn once from every task (GET /api/tasks), then patched: an event names
// the tasks that changed, the page fetches only those (?ids=) and redraws
// only the entries whose text changed. Columns show their count and their
// most recently changed tasks first, the first kColumnCards of them with
// "show more"; what needs a person (needs-help, then review) is always shown
// in full.

const kColumnCards = 100;
const kAttentionChunk = 120;  // cards per frame while a long attention list is drawn
const kMaxIdsPerFetch = 1000;  // the server's limit for ?ids=
const board = {
  tasks: new Map(),        // id -> task as /api/tasks gives it
  snapshot: null,          // the last /api/status
  reasons: new Map(),      // task id -> waiting reason from the snapshot
  shown: {},               // state -> how many cards the column shows
  cols: {},                // state -> its tasks, newest first
  statusTimer: null, statusBusy: false, snapshotAgain: false, snapshotAt: 0,
};

// Most recently changed first; creation order (the numeric id) breaks ties.
function newestFirst(a, b) {
  if (a.updated_at !== b.updated_at) return a.updated_at < b.updated_at ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

// A card says what the task row says (the question, the failure), not the
// snapshot's reason, which repeats it: so a new snapshot redraws no card.
function attentionCard(t) {
  let html = '<div class="card ' + esc(t.status) + '" data-task="' + esc(t.id) + '"><div class="row">' +
    '<a href="#/task/' + enc(t.id) + '"><b>' + esc(t.id) + '</b></a> <span class="tag ' + esc(t.status) + '">' +
    esc(t.status) + '</span></div><div>' + esc(t.title) + '</div>';
  if (t.question) html += '<div class="q"><b>Question:</b> ' + esc(t.question) + '</div>';
  if (t.status === 'review') html += '<div class="why">Waiting for review</div>';
  if (t.reason) html += '<div class="why">' + esc(t.reason) + '</div>';
  return html + '</div>';
}

function columnItem(t) {
  let wait = reasonFor(t);
  if (!wait && t.backoff_s) wait = 'back-off, ' + secs(t.backoff_s) + ' left';
  return '<li data-task="' + esc(t.id) + '" title="' + esc(t.title) + '"><a href="#/task/' + enc(t.id) + '">' +
    esc(t.id) + '</a> ' + esc(t.title) + (wait ? '<span class="wait">' + esc(wait) + '</span>' : '') + '</li>';
}

// Makes container's children the rendered items, in order, touching only
// the elements whose HTML changed (each remembers its own in _html). When
// most are new, the first `chunk` are drawn at once and the rest appended a
// chunk per frame, so the page shows before a long list is complete.
const scratch = document.createElement('template');
function syncList(container, items, render, chunk = Infinity) {
  if (container._rest) {  // an unfinished progressive draw: this one replaces it
    cancelAnimationFrame(container._rest);
    container._rest = 0;
  }
  const htmls = items.map(render);
  const old = new Map();
  for (const el of container.children) old.set(el.dataset.task, el);
  let changed = 0;
  items.forEach((t, i) => { const el = old.get(t.id); if (!el || el._html !== htmls[i]) changed++; });
  if (!old.size || changed * 4 > items.length + 16) {
    let done = 0;
    const draw = first => {
      const upto = Math.min(htmls.length, done + chunk);
      const part = htmls.slice(done, upto).join('');
      if (first) container.innerHTML = part;
      else container.insertAdjacentHTML('beforeend', part);
      let el = first ? container.firstElementChild : container.children[done];
      for (let i = done; i < upto; i++, el = el.nextElementSibling) el._html = htmls[i];
      done = upto;
      container._rest = done < htmls.length ? requestAnimationFrame(() => draw(false)) : 0;
      if (!container._rest) container.dataset.complete = String(performance.now());
    };
    delete container.dataset.complete;
    draw(true);
    return;
  }
  const wanted = new Set(items.map(t => t.id));
  for (const [id, el] of old) if (!wanted.has(id)) el.remove();
  let next = container.firstElementChild;
  items.forEach((t, i) => {
    let el = old.get(t.id);
    if (!el || el._html !== htmls[i]) {
      scratch.innerHTML = htmls[i];
      const fresh = scratch.content.firstElementChild;
      fresh._html = htmls[i];
      if (el) {
        if (el === next) next = fresh;
        el.replaceWith(fresh);
      }
      el = fresh;
    }
    if (el === next) next = el.nextElementSibling;
    else container.insertBefore(el, next);
  });
  container.dataset.complete = String(performance.now());
}

function boardSkeleton() {
  let html = '<div class="row"><h1>Board</h1><span class="muted" id="board-counts"></span></div>' +
    '<h2>Needs attention (<span id="attention-count">0</span>)</h2>' +
    '<div class="panel bad" id="base-red" hidden></div>' +
    '<p class="muted" id="attention-none">Nothing waits for a person.</p><div class="attention" id="attention"></div>' +
    '<h2>All tasks</h2><div class="columns">';
  for (const s of STATES)
    html += '<div class="col" data-state="' + s + '"><h3><span>' + s + '</span><span class="muted count"></span></h3>' +
      '<ul></ul><button class="more" hidden></button></div>';
  html += '</div><h2>New task</h2><div class="panel"><form id="new-task">' +
    '<input type="text" name="title" placeholder="Title" required> ' +
    '<div class="row" style="margin-top:6px"><input type="text" name="namespace" placeholder="Namespace (domain)" style="flex:1">' +
    '<input type="text" name="priority" placeholder="Priority P0..P4" style="width:160px"></div>' +
    '<textarea name="description" placeholder="Description" style="margin-top:6px"></textarea>' +
    '<div class="actions"><button class="primary">Create</button></div></form></div>';
  main().innerHTML = html;
  $('#new-task').addEventListener('submit', ev => {
    ev.preventDefault();
    const f = ev.target;
    const body = { title: f.title.value, description: f.description.value };
    if (f.namespace.value.trim()) body.namespace = f.namespace.value.trim();
    if (f.priority.value.trim()) body.priority = f.priority.value.trim();
    act('Create task', async () => { await post('/api/tasks', body); f.reset(); });
  });
  for (const col of document.querySelectorAll('.col')) {
    col.querySelector('.more').addEventListener('click', () => {
      board.shown[col.dataset.state] = (board.shown[col.dataset.state] || kColumnCards) + 5 * kColumnCards;
      drawBoard(new Set([col.dataset.state]));
    });
  }
}

// Each column's tasks, newest first, kept sorted: a patch moves only the
// tasks it names, and only the lists it touched are synced with the page.
function sortedColumns() {
  const cols = {};
  for (const s of STATES) cols[s] = [];
  for (const t of board.tasks.values()) (cols[t.status] || (cols[t.status] = [])).push(t);
  for (const s of Object.keys(cols)) cols[s].sort(newestFirst);
  return cols;
}

function insertSorted(list, t) {
  let lo = 0, hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (newestFirst(list[mid], t) <= 0) lo = mid + 1; else hi = mid;
  }
  list.splice(lo, 0, t);
}

// Applies fresh task rows to the model; returns the states whose lists changed.
function patchTasks(fresh) {
  const dirty = new Set();
  for (const t of fresh) {
    const before = board.tasks.get(t.id);
    if (before) {
      const list = board.cols[before.status];
      const at = list ? list.indexOf(before) : -1;
      if (at >= 0) list.splice(at, 1);
      dirty.add(before.status);
    }
    board.tasks.set(t.id, t);
    insertSorted(board.cols[t.status] || (board.cols[t.status] = []), t);
    dirty.add(t.status);
  }
  return dirty;
}

const byId = (a, b) => a.id.length - b.id.length || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

// Draws the model into the page (the skeleton is made when missing): every
// list, or only the states in `dirty`.
function drawBoard(dirty) {
  if (!$('#board-counts')) { boardSkeleton(); dirty = null; }
  const cols = board.cols;
  const touches = s => !dirty || dirty.has(s);
  if (touches('needs-help') || touches('review')) {
    // Who waits longest first: needs-help, then review, each by creation.
    const attention = cols['needs-help'].slice().sort(byId).concat(cols.review.slice().sort(byId));
    syncList($('#attention'), attention, attentionCard, kAttentionChunk);
  }
  // A red base stops the whole queue: it heads the list, said once.
  const red = baseRed(board.snapshot);
  const banner = $('#base-red');
  banner.hidden = !red;
  if (red && banner.textContent !== red) banner.textContent = red;
  const waiting = cols['needs-help'].length + cols.review.length + (red ? 1 : 0);
  $('#attention-count').textContent = waiting;
  $('#attention-none').hidden = waiting > 0;
  for (const s of STATES) {
    if (!touches(s)) continue;
    const col = document.querySelector('.col[data-state="' + s + '"]');
    const list = cols[s];
    const shown = Math.min(list.length, board.shown[s] || kColumnCards);
    col.querySelector('.count').textContent = list.length;
    syncList(col.querySelector('ul'), list.slice(0, shown), columnItem);
    const more = col.querySelector('.more');
    more.hidden = shown >= list.length;
    more.textContent = 'Show more (' + (list.length - shown) + ' not shown)';
  }
  const counts = STATES.map(s => s + ' ' + cols[s].length).join(' · ');
  $('#board-counts').textContent = board.tasks.size + ' tasks: ' + counts +
    (board.snapshot ? ' · ' + board.snapshot.count + ' active runs' : '');
}

// The status snapshot (waiting reasons, active runs) is large with a big
// backlog (1 MB at 10,000 tasks, and the server's most expensive answer):
// it is fetched after the first draw, then once changes have been quiet for
// kSnapshotQuietMs, or at once when the last is older than
// kSnapshotMaxAgeMs; one at a time, and never in the way of a patch.
const kSnapshotQuietMs = 1500, kSnapshotMaxAgeMs = 30000;
function snapshotWanted(delayMs) {
  clearTimeout(board.statusTimer);
  const old = performance.now() - (board.snapshotAt || 0) > kSnapshotMaxAgeMs;
  board.statusTimer = setTimeout(fetchSnapshot, delayMs != null ? delayMs : old ? 0 : kSnapshotQuietMs);
}
async function fetchSnapshot() {
  board.statusTimer = null;
  if (board.statusBusy) { board.snapshotAgain = true; return; }
  board.statusBusy = true;
  try {
    board.snapshot = await api('/api/status');
    board.snapshotAt = performance.now();
    board.reasons = waitingReasons(board.snapshot);
    if (route().page === 'board' && $('#board-counts')) drawBoard();
    document.body.dataset.snapshot = String(Date.now());
  } catch (e) { /* the next change asks again */ } finally {
    board.statusBusy = false;
    if (board.snapshotAgain) { board.snapshotAgain = false; snapshotWanted(); }
  }
}

async function boardPage(change) {
  const patchable = change && !change.resync && $('#board-counts') && board.tasks.size;
  if (!patchable) {
    const tasks = await api('/api/tasks');
    board.tasks = new Map(tasks.map(t => [t.id, t]));
    board.cols = sortedColumns();
    drawBoard();
    // After the first frames: the snapshot would compete with them.
    snapshotWanted(1000);
    return;
  }
  const ids = change.tasks || [];
  const dirty = new Set();
  for (let i = 0; i < ids.length; i += kMaxIdsPerFetch) {
    const fresh = await api('/api/tasks?ids=' + ids.slice(i, i + kMaxIdsPerFetch).map(enc).join(','));
    for (const s of patchTasks(fresh)) dirty.add(s);
  }
  if (dirty.size) drawBoard(dirty);
  if (change.store) snapshotWanted();
}

// Unified diff -> rows; each line knows its file and its line number in the
// new version (the old one for a removed line).
function parseDiff(text) {
  const rows = [];
  let file = '', oldLine = 0, newLine = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('diff --git ')) {
      const m = / b\/(.*)$/.exec(line);
      file = m ? m[1] : line;
      rows.push({ kind: 'file', text: file });
    } else if (line.startsWith('+++ ') || line.startsWith('--- ') || line.startsWith('index ') ||
               line.startsWith('new file') || line.startsWith('deleted file') || line.startsWith('similarity') ||
               line.startsWith('rename ')) {
      continue;
    } else if (line.startsWith('@@')) {
      const m = /@@ -(\d+)(?:,\d+)? \+(\d+)/.exec(line);
      if (m) { oldLine = +m[1]; newLine = +m[2]; }
      rows.push({ kind: 'hunk', text: line, file });
    } else if (line.startsWith('+')) {
      rows.push({ kind: 'add', text: line, file, line: newLine++ });
    } else if (line.startsWith('-')) {
      rows.push({ kind: 'del', text: line, file, line: oldLine++ });
    } else if (line.startsWith(' ')) {
      rows.push({ kind: 'ctx', text: line, file, line: newLine++ });
      oldLine++;
    }
  }
  return rows;
}

// Line comments being written on the task page, kept across redraws.
const pendingLineComments = new Map();  // task id -> [{file, line, text}]

async function taskPage(id) {
  const d = await api('/api/tasks/' + enc(id));
  const t = d.task;
  const status = d.status;
  const pending = pendingLineComments.get(id) || [];
  let html = '<div class="row"><h1>' + esc(t.taskId) + ' · ' + esc(t.taskTitle) + '</h1><span class="tag ' +
    esc(status) + '">' + esc(status) + '</span></div>';
  html += '<div class="row muted"><span>patchset ' + d.patchset + '</span><span>retries ' + d.retries +
    '</span><span>cost ' + cents(d.cost_cents) + '</span><span>namespace ' + esc(t.taskNamespace || '-') + '</span>' +
    (d.backoff_s ? '<span>back-off ' + secs(d.backoff_s) + ' left</span>' : '') + '</div>';
  if (t.taskDescription) html += '<div class="panel" style="white-space:pre-wrap">' + esc(t.taskDescription) + '</div>';

  if (d.question) {
    html += '<div class="panel"><h2 style="margin-top:0">Question from the agent</h2><div class="card needs-help"><div class="q">' +
      esc(d.question) + '</div></div>';
  } else {
    html += '<div class="panel"><h2 style="margin-top:0">Comment</h2>';
  }
  html += '<textarea id="answer" placeholder="' + (d.question ? 'Your answer' : 'A comment for the next attempt') +
    '"></textarea><div class="actions"><button class="primary" id="send-answer">' +
    (d.question ? 'Answer' : 'Comment') + '</button></div></div>';

  html += '<div class="panel"><h2 style="margin-top:0">Actions</h2>';
  if (status === 'review') {
    html += '<textarea id="why" placeholder="What must change (sent with the line comments as feedback)"></textarea>';
  }
  html += '<div class="actions">';
  if (status === 'review') {
    html += '<button class="primary" id="approve">Approve</button><button class="danger" id="reject">Request changes' +
      (pending.length ? ' (' + pending.length + ' line comments)' : '') + '</button>';
  } else if (pending.length) {
    html += '<button id="send-lines">Send ' + pending.length + ' line comments as a comment</button>';
  }
  if (status === 'needs-help' || status === 'open') html += '<button id="retry">Retry now</button>';
  if (status !== 'done' && status !== 'needs-help') html += '<button class="danger" id="cancel">Cancel</button>';
  html += '</div></div>';

  html += '<h2>Diff' + (d.diff && d.diff.base ? ' <span class="muted">' + esc(d.diff.base) + '...' +
    esc(d.diff.branch || '') + '</span>' : '') + '</h2>';
  if (d.diff && d.diff.text) {
    const rows = parseDiff(d.diff.text);
    let diffHtml = '<div class="diff" id="diff">';
    rows.forEach((r, i) => {
      if (r.kind === 'file') { diffHtml += '<div class="file">' + esc(r.text) + '</div>'; return; }
      const cls = r.kind === 'add' ? 'add' : r.kind === 'del' ? 'del' : r.kind === 'hunk' ? 'hunk' : '';
      diffHtml += '<div class="ln ' + cls + '" data-row="' + i + '"' + (r.line != null ? ' data-file="' + esc(r.file) +
        '" data-line="' + r.line + '"' : '') + '><span class="num">' + (r.line != null ? r.line : '') + '</span>' +
        esc(r.text) + '</div>';
      for (const c of pending)
        if (r.line != null && c.file === r.file && c.line === r.line && c.kind === r.kind)
          diffHtml += '<div class="lc">' + esc(c.text) + '</div>';
    });
    diffHtml += '</div>';
    if (d.diff.truncated) diffHtml += '<p class="muted">The diff is cut at the server\'s size limit.</p>';
    html += diffHtml + '<p class="muted">Click a line to comment on it.</p>';
  } else {
    html += '<p class="muted">' + esc((d.diff && d.diff.error) || 'No changes.') + '</p>';
  }

  html += '<h2>Runs</h2>';
  if (!d.runs.length) html += '<p class="muted">No runs yet.</p>';
  else {
    html += '<table><tr><th>run</th><th>phase</th><th>patchset</th><th>state</th><th>cost</th><th>turns</th><th>started</th></tr>';
    for (const r of d.runs)
      html += '<tr><td><a href="#/run/' + enc(r.run_id) + '">' + esc(r.run_id) + '</a></td><td>' + esc(r.phase) +
        '</td><td>' + r.patchset + '</td><td>' + esc(r.state) + '</td><td>' + cents(r.cost_cents) + '</td><td>' +
        r.turns + '</td><td>' + esc(r.created_at) + '</td></tr>';
    html += '</table>';
  }

  html += '<h2>Timeline</h2><ul class="timeline">';
  for (const e of d.timeline) {
    if (e.kind === 'comment') html += '<li><span class="muted">' + esc(e.at) + '</span> <span class="who">' +
      esc(e.author) + '</span>: ' + esc(e.text) + '</li>';
    else html += '<li class="event"><span>' + esc(e.at) + '</span> [' + esc(e.event) + '] ' + esc(e.text) + '</li>';
  }
  html += '</ul>';
  main().innerHTML = html;

  const on = (sel, fn) => { const el = $(sel); if (el) el.addEventListener('click', fn); };
  on('#send-answer', () => {
    const text = $('#answer').value;
    act(d.question ? 'Answer' : 'Comment', () => post('/api/tasks/' + enc(id) + '/comment', { text }));
  });
  on('#approve', () => act('Approve', () => post('/api/tasks/' + enc(id) + '/approve', {})));
  on('#reject', () => act('Request changes', async () => {
    await post('/api/tasks/' + enc(id) + '/reject', {
      why: $('#why').value, line_comments: pending.map(c => ({ file: c.file, line: c.line, text: c.text })),
    });
    pendingLineComments.delete(id);
  }));
  on('#send-lines', () => act('Line comments', async () => {
    const text = 'Comments on lines of the diff:\n' + pending.map(c => '- ' + c.file + ':' + c.line + ': ' + c.text).join('\n');
    await post('/api/tasks/' + enc(id) + '/comment', { text });
    pendingLineComments.delete(id);
  }));
  on('#retry', () => act('Retry', () => post('/api/tasks/' + enc(id) + '/retry')));
  on('#cancel', () => {
    if (confirm('Cancel ' + id + '? Its running agent is stopped and the task parked in needs-help.'))
      act('Cancel', () => post('/api/tasks/' + enc(id) + '/cancel'));
  });
  const diff = $('#diff');
  if (diff) diff.addEventListener('click', ev => {
    const ln = ev.target.closest('.ln[data-line]');
    if (!ln || ln.nextElementSibling && ln.nextElementSibling.classList.contains('lc-edit')) return;
    const box = document.createElement('div');
    box.className = 'lc lc-edit';
    box.innerHTML = '<textarea placeholder="Comment on ' + esc(ln.dataset.file) + ':' + esc(ln.dataset.line) +
      '"></textarea><div class="actions"><button class="primary">Add line comment</button><button>Discard</button></div>';
    ln.after(box);
    box.querySelector('textarea').focus();
    const [add, discard] = box.querySelectorAll('button');
    discard.addEventListener('click', () => box.remove());
    add.addEventListener('click', () => {
      const text = box.querySelector('textarea').value.trim();
      if (!text) return;
      const row = parseDiff(d.diff.text)[+ln.dataset.row];
      const list = pendingLineComments.get(id) || [];
      list.push({ file: row.file, line: row.line, kind: row.kind, text });
      pendingLineComments.set(id, list);
      refresh();
    });
  });
}

// The run page keeps its log and reads only what was appended since.
const runLog = { id: null, offset: 0, text: '' };

async function appendLog(id) {
  for (let i = 0; i < 64; i++) {  // at most 16 MiB per wake-up
    const chunk = await api('/api/runs/' + enc(id) + '/log?offset=' + runLog.offset);
    if (runLog.id !== id) return;
    if (chunk.reset) runLog.text = '';
    runLog.text += chunk.text;
    runLog.offset = chunk.next_offset;
    if (chunk.next_offset >= chunk.size || !chunk.text) break;
  }
  const pre = $('#log');
  if (!pre) return;
  const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 20;
  pre.textContent = runLog.text;
  pre.dataset.offset = runLog.offset;
  if (atBottom) pre.scrollTop = pre.scrollHeight;
}

async function runPage(id, fromEvent) {
  if (runLog.id !== id) Object.assign(runLog, { id, offset: 0, text: '' });
  const r = await api('/api/runs/' + enc(id));
  const info = '<div class="row"><h1>Run ' + esc(r.run_id) + '</h1><span class="tag">' + esc(r.state) + '</span></div>' +
    '<div class="row muted"><span>task <a href="#/task/' + enc(r.task_id || '') + '">' + esc(r.task_id || '-') +
    '</a></span><span>phase ' + esc(r.phase) + '</span><span>profile ' + esc(r.profile) + '</span><span id="run-cost">cost ' +
    cents(r.cost_cents) + (r.max_cost_cents ? ' of ' + cents(r.max_cost_cents) : '') + '</span><span id="run-turns">turns ' +
    r.turns + (r.max_iter ? ' of ' + r.max_iter : '') + '</span><span>started ' + esc(r.started_at || r.created_at) +
    '</span>' + (r.ended_at ? '<span>ended ' + esc(r.ended_at) + '</span>' : '') + '</div>' +
    (r.error ? '<div class="panel" style="color:var(--bad)">' + esc(r.error) + '</div>' : '');
  if (!fromEvent || !$('#log')) {
    main().innerHTML = '<div id="run-info">' + info + '</div><h2>Log (stdout)</h2><pre class="log" id="log"></pre>';
    const pre = $('#log');
    pre.textContent = runLog.text;
  } else {
    $('#run-info').innerHTML = info;
  }
  await appendLog(id);
}

async function budgetsPage() {
  const budgets = await api('/api/budgets');
  let html = '<h1>Budgets</h1><div class="legend"><span><i style="background:var(--accent)"></i>spent</span>' +
    '<span><i style="background:var(--hold)"></i>held</span><span><i style="background:#e8ecf1"></i>remaining</span></div>';
  if (!budgets.length) html += '<p class="muted">No domain has a budget yet.</p>';
  for (const b of budgets) {
    const total = Math.max(b.budget_cents, b.spent_cents + b.held_cents, 1);
    html += '<div class="panel" data-domain="' + esc(b.domain) + '"><div class="row"><b>' + esc(b.domain) + '</b>' +
      (b.paused ? '<span class="tag review paused">paused</span>' : '') +
      (b.overrun_blocked ? '<span class="tag needs-help">blocked by an overrun</span>' : '') +
      '<span class="muted">budget <span data-fig="budget">' + cents(b.budget_cents) + '</span> · held <span data-fig="held">' +
      cents(b.held_cents) + '</span> · spent <span data-fig="spent">' + cents(b.spent_cents) +
      '</span> · remaining <span data-fig="remaining">' + cents(b.remaining_cents) + '</span></span></div>' +
      '<div class="bar"><div class="spent" style="width:' + (100 * b.spent_cents / total) + '%"></div>' +
      '<div class="held" style="width:' + (100 * b.held_cents / total) + '%"></div></div>' +
      '<div class="actions"><input type="number" min="1" placeholder="cents" style="width:140px">' +
      '<button data-grant>Grant</button><button data-pause="' + (b.paused ? 'resume' : 'pause') + '">' +
      (b.paused ? 'Resume' : 'Pause') + '</button></div></div>';
  }
  main().innerHTML = html;
  for (const panel of document.querySelectorAll('[data-domain]')) {
    const domain = panel.dataset.domain;
    panel.querySelector('[data-grant]').addEventListener('click', () => {
      const cents = parseInt(panel.querySelector('input').value, 10);
      act('Grant', () => post('/api/budgets/' + enc(domain) + '/grant', { cents }));
    });
    const pause = panel.querySelector('[data-pause]');
    pause.addEventListener('click', () =>
      act(pause.dataset.pause === 'pause' ? 'Pause' : 'Resume', () => post('/api/domains/' + enc(domain) + '/' + pause.dataset.pause)));
  }
}

async function queuePage() {
  const q = await api('/api/queue');
  const list = (items, empty) => items.length ? '<table><tr><th>#</th><th>task</th><th>title</th><th>priority</th>' +
    '<th>domain</th><th>why it waits</th></tr>' + items.map((t, i) => '<tr data-task="' + esc(t.id) + '"><td>' + (i + 1) +
    '</td><td><a href="#/task/' + enc(t.id) + '">' + esc(t.id) + '</a></td><td>' + esc(t.title) + '</td><td>' +
    (t.priority != null ? 'P' + t.priority : '') + '</td><td>' + esc(t.namespace || '') + '</td><td class="why">' +
    esc(t.why || (t.backoff_s ? 'back-off, ' + secs(t.backoff_s) + ' left' : '')) + '</td></tr>').join('') +
    '</table>' : '<p class="muted">' + empty + '</p>';
  let html = '<h1>Queue</h1><h2>Merge queue (' + q.merge.length + ')</h2>';
  if (q.integrating.length) html += '<p>Integrating: ' + q.integrating.map(r => '<a href="#/run/' + enc(r.run_id) + '">' +
    esc(r.task_id) + '</a>').join(', ') + '</p>';
  html += '<div id="merge-queue">' + list(q.merge, 'Nothing verified waits to be integrated.') + '</div>';
  html += '<h2>Ready for development (' + q.dev_total + '), in the order the scheduler takes them</h2>' +
    '<div id="dev-queue">' + list(q.dev, 'No task is ready.') + '</div>';
  main().innerHTML = html;
}

// --- routing and live updates --------------------------------------------------

function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const page = parts[0] || 'board';
  for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('active', a.dataset.nav === page);
  return { page, id: parts[1] };
}

// One draw at a time; changes that arrive meanwhile are merged and drawn
// next (the board patches the tasks they name).
let drawing = null, queued = false, queuedChange = null;
function mergeChanges(a, b) {
  if (!a || !b) return null;  // a full redraw absorbs everything
  return {
    store: a.store || b.store, resync: a.resync || b.resync,
    tasks: [...new Set([...(a.tasks || []), ...(b.tasks || [])])],
    runs: [...new Set([...(a.runs || []), ...(b.runs || [])])],
    logs: [...new Set([...(a.logs || []), ...(b.logs || [])])],
  };
}
async function refresh(change) {
  if (drawing) {
    // null stands for a full redraw, which absorbs any change.
    queuedChange = queued ? mergeChanges(queuedChange, change) : (change || null);
    queued = true;
    return drawing;
  }
  const { page, id } = route();
  drawing = (async () => {
    try {
      if (page === 'task') await taskPage(id);
      else if (page === 'run') {
        // A change that touches neither the run nor its log leaves the page be.
        if (change && !change.resync && !(change.logs || []).includes(id) && !(change.runs || []).includes(id)) return;
        await runPage(id, !!change);
      } else if (page === 'budgets') await budgetsPage();
      else if (page === 'queue') await queuePage();
      else await boardPage(change);
      document.body.dataset.rendered = String(Date.now());
    } catch (e) {
      main().innerHTML = '<p class="muted">' + esc(e.message) + '</p>';
    }
  })();
  await drawing;
  drawing = null;
  if (queued) {
    const next = queuedChange;
    queued = false;
    queuedChange = null;
    return refresh(next || undefined);
  }
}

// A typing person is not interrupted: a change while a text box has focus
// waits until it loses it. The board is patched in place and keeps its form,
// so it takes changes at once.
let deferred = false, deferredChange = null;
function onChange(change) {
  window.lastChange = change;
  const typing = document.activeElement && ['TEXTAREA', 'INPUT'].includes(document.activeElement.tagName) &&
    document.activeElement.value;
  const page = route().page;
  const inPlace = page === 'run' || (page === 'board' && $('#board-counts'));
  if (typing && !inPlace) {
    deferredChange = deferred ? mergeChanges(deferredChange, change) : change;
    deferred = true;
    return;
  }
  refresh(change);
}
document.addEventListener('focusout', () => {
  if (!deferred) return;
  const c = deferredChange;
  deferred = false;
  deferredChange = null;
  setTimeout(() => refresh(c || undefined), 0);
});

function connect() {
  const live = $('#live');
  const es = new EventSource('/api/events' + (token ? '?token=' + enc(token) : ''));
  es.addEventListener('hello', () => { live.textContent = 'live'; live.className = 'live on'; });
  es.addEventListener('change', ev => onChange(JSON.parse(ev.data)));
  es.onerror = () => { live.textContent = 'reconnecting'; live.className = 'live off'; };
}

window.addEventListener('hashchange', () => refresh());
refresh();
connect();
