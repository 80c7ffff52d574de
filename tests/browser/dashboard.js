// Drives the dashboard in the system's Chromium (puppeteer-core from
// tools/browser/node_modules, installed by scripts/install-browser-driver.sh).
//
//   node dashboard.js SCENARIO URL SCREENSHOT [ARGS...]
//
// Prints one JSON line with what it saw and exits 0, or prints the reason
// and exits 1. The calling gtest (tests/serve_browser_test.cc) prepares the
// store and checks what the page did to it.
'use strict';

const path = require('path');
const fs = require('fs');
const { execFileSync } = require('child_process');

const root = path.resolve(__dirname, '..', '..');
const puppeteer = require(path.join(root, 'tools', 'browser', 'node_modules', 'puppeteer-core'));

const [scenario, url, screenshot, ...args] = process.argv.slice(2);
const browserPath = process.env.PIPELINE_CHROMIUM || '/usr/bin/chromium';

function fail(message) {
  console.error('dashboard.js ' + scenario + ': ' + message);
  process.exit(1);
}

// Waits until fn() (in the page) is truthy; fails with `what` after timeout.
async function until(page, what, fn, arg, timeout = 20000) {
  try {
    await page.waitForFunction(fn, { timeout, polling: 'mutation' }, ...(Array.isArray(arg) ? arg : [arg]));
  } catch (e) {
    const text = await page.evaluate(() => document.body.innerText.slice(0, 2000)).catch(() => '');
    fail('timed out waiting for ' + what + '\n--- page text ---\n' + text);
  }
}

const pageText = page => page.evaluate(() => document.body.innerText);

const scenarios = {
  // The board shows the needs-attention task and its question first.
  async board(page) {
    const [taskId, question] = args;
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    await until(page, 'the needs-attention card', (id, q) => {
      const card = document.querySelector('.attention .card.needs-help[data-task="' + id + '"]');
      return card && card.innerText.includes(q);
    }, [taskId, question]);
    const ok = await page.evaluate((id, q) => {
      const card = document.querySelector('.attention .card[data-task="' + id + '"]');
      return !!card && card.innerText.includes(q);
    }, taskId, question);
    if (!ok) fail('the card of ' + taskId + ' does not show the question ' + JSON.stringify(question));
    await page.screenshot({ path: screenshot, fullPage: true });
    return { card: true };
  },

  // Answers the question from the task page.
  async answer(page) {
    const [taskId, answer] = args;
    await page.goto(url + '#/task/' + encodeURIComponent(taskId), { waitUntil: 'domcontentloaded' });
    await until(page, 'the answer box', () => document.querySelector('#answer') && document.querySelector('#send-answer'));
    await page.type('#answer', answer);
    await page.click('#send-answer');
    await until(page, 'the answer in the timeline', a => {
      return [...document.querySelectorAll('.timeline li')].some(li => li.innerText.includes(a));
    }, answer);
    await page.screenshot({ path: screenshot, fullPage: true });
    return { answered: true };
  },

  // Clicks a line of the diff, comments on it, and requests changes.
  async linecomment(page) {
    const [taskId, lineText, comment, why] = args;
    await page.goto(url + '#/task/' + encodeURIComponent(taskId), { waitUntil: 'domcontentloaded' });
    await until(page, 'the diff line', t => [...document.querySelectorAll('.diff .ln')].some(l => l.innerText.includes(t)), lineText);
    const where = await page.evaluate(t => {
      const ln = [...document.querySelectorAll('.diff .ln[data-line]')].find(l => l.innerText.includes(t));
      ln.scrollIntoView();
      ln.click();
      return { file: ln.dataset.file, line: +ln.dataset.line };
    }, lineText);
    await until(page, 'the line comment box', () => document.querySelector('.lc-edit textarea'));
    await page.type('.lc-edit textarea', comment);
    await page.evaluate(() => document.querySelector('.lc-edit button.primary').click());
    await until(page, 'the pending line comment', c => [...document.querySelectorAll('.diff .lc')].some(e => e.innerText.includes(c)), comment);
    await until(page, 'the reason box', () => document.querySelector('#why'));
    await page.type('#why', why);
    await page.screenshot({ path: screenshot, fullPage: true });
    await page.click('#reject');
    await until(page, 'the task back in open', () => {
      const tag = document.querySelector('h1 + .tag');
      return tag && tag.innerText === 'open';
    });
    return where;
  },

  // The run page's log grows while the agent runs, without a reload.
  async runlog(page) {
    const [runId, gate] = args;
    let navigations = 0;
    page.on('framenavigated', f => { if (f === page.mainFrame()) navigations++; });
    await page.goto(url + '#/run/' + encodeURIComponent(runId), { waitUntil: 'domcontentloaded' });
    await until(page, 'the first log line', () => (document.querySelector('#log') || {}).textContent?.includes('step 1'));
    const before = navigations;
    const marker = await page.evaluate(() => { window.__sameDocument = Math.random(); return window.__sameDocument; });
    fs.writeFileSync(gate, 'go\n');  // the agent goes on and logs more
    await until(page, 'the log line written after the gate', () => (document.querySelector('#log') || {}).textContent?.includes('step 2 after the gate'));
    const same = await page.evaluate(m => window.__sameDocument === m, marker);
    if (!same || navigations !== before) fail('the page was reloaded');
    await page.screenshot({ path: screenshot, fullPage: true });
    return { grew: true, reloaded: false };
  },

  // Beyond loopback, a write without the token is refused.
  async notoken(page) {
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    const result = await page.evaluate(async () => {
      const r = await fetch('/api/tasks', {
        method: 'POST', headers: { 'X-Pipeline-Request': '1', 'Content-Type': 'application/json' },
        body: JSON.stringify({ title: 'from a page without the token' }),
      });
      return { status: r.status, body: await r.text() };
    });
    await until(page, 'the refusal on the page', () => document.body.innerText.includes('unauthorized'));
    await page.screenshot({ path: screenshot, fullPage: true });
    if (result.status !== 401) fail('expected 401, got ' + result.status + ' ' + result.body);
    return result;
  },

  // The board follows changes made with the CLI without a reload, each
  // patched in place: a new task, a question, review, done, round and round
  // over the given open tasks. Returns the latency of each (CLI call to the
  // page showing it) and the column counts at the end.
  async live(page) {
    const [pipelineBin, repoDir, rounds, openIds] = args;
    const ids = openIds.split(',');
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    await until(page, 'the board', () => document.body.dataset.rendered && document.querySelector('.col li'));
    const marker = await page.evaluate(() => { window.__sameDocument = Math.random(); return window.__sameDocument; });
    const cli = (...a) => execFileSync(pipelineBin, a, { cwd: repoDir });
    const latencies = [];
    for (let i = 0; i < Number(rounds); i++) {
      const id = ids[Math.floor(i / 4) % ids.length];
      const start = Date.now();
      switch (i % 4) {
        case 0: {
          const title = 'live change ' + i;
          cli('task', 'create', title, '--namespace', 'web');
          await until(page, 'the new task ' + title, t => [...document.querySelectorAll('.col[data-state="open"] li')].some(li => li.textContent.includes(t)), title);
          break;
        }
        case 1: {
          const question = 'Question ' + i + ' for ' + id + '?';
          cli('task', 'comment', id, question, '--author', 'agent:dev');
          cli('task', 'update', id, 'needs-help');
          await until(page, 'the question of ' + id, (id, q) => {
            const card = document.querySelector('.attention .card.needs-help[data-task="' + id + '"]');
            return card && card.textContent.includes(q);
          }, [id, question]);
          break;
        }
        case 2:
          cli('task', 'update', id, 'review');
          await until(page, id + ' in review', id => !!document.querySelector('.attention .card.review[data-task="' + id + '"]'), id);
          break;
        case 3:
          cli('task', 'update', id, 'done');
          await until(page, id + ' done', id => !document.querySelector('.attention [data-task="' + id + '"]') &&
            !!document.querySelector('.col[data-state="done"] li[data-task="' + id + '"]'), id);
          break;
      }
      latencies.push(Date.now() - start);
    }
    const same = await page.evaluate(m => window.__sameDocument === m, marker);
    if (!same) fail('the page was reloaded');
    const counts = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('.col')].map(c =>
      [c.dataset.state, Number(c.querySelector('.count').textContent)])));
    await page.screenshot({ path: screenshot, fullPage: true });
    return { latencies_ms: latencies, counts, reloaded: false };
  },

  // The budgets page: a domain's figures and bar, then a grant from the page.
  async budgets(page) {
    const [domain, grant] = args;
    await page.goto(url + '#/budgets', { waitUntil: 'domcontentloaded' });
    const sel = '[data-domain="' + domain + '"]';
    await until(page, 'the panel of ' + domain, s => document.querySelector(s + ' [data-fig="budget"]'), sel);
    const read = () => page.evaluate(s => {
      const p = document.querySelector(s);
      const fig = f => p.querySelector('[data-fig="' + f + '"]').textContent;
      const width = c => parseFloat(p.querySelector('.bar .' + c).style.width);
      return { budget: fig('budget'), held: fig('held'), spent: fig('spent'), remaining: fig('remaining'),
               spent_pct: width('spent'), held_pct: width('held') };
    }, sel);
    const before = await read();
    await page.type(sel + ' input', String(grant));
    await page.click(sel + ' [data-grant]');
    await until(page, 'the new budget', (s, b) => {
      const f = document.querySelector(s + ' [data-fig="budget"]');
      return f && f.textContent !== b;
    }, [sel, before.budget]);
    const after = await read();
    await page.screenshot({ path: screenshot, fullPage: true });
    return { before, after };
  },

  // Pauses or resumes a domain from the budgets page.
  async pause(page) {
    const [domain, action] = args;
    await page.goto(url + '#/budgets', { waitUntil: 'domcontentloaded' });
    const sel = '[data-domain="' + domain + '"]';
    await until(page, 'the ' + action + ' button', (s, a) => document.querySelector(s + ' [data-pause="' + a + '"]'), [sel, action]);
    await page.click(sel + ' [data-pause="' + action + '"]');
    await until(page, 'the domain ' + action + 'd', (s, a) => {
      const tag = document.querySelector(s + ' .tag.paused');
      return a === 'pause' ? !!tag : !tag && document.querySelector(s + ' [data-pause="pause"]');
    }, [sel, action]);
    await page.screenshot({ path: screenshot, fullPage: true });
    return { paused: action === 'pause' };
  },

  // The queue page: each queue's tasks in their order with why they wait.
  // The red base heads "needs attention" on the board, said once.
  async basered(page) {
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    await until(page, 'the red base', () => { const b = document.querySelector('#base-red'); return b && !b.hidden && b.textContent; },
      null, 30000);
    const result = await page.evaluate(() => ({
      banner: document.querySelector('#base-red').textContent,
      count: Number(document.querySelector('#attention-count').textContent),
      banners: document.querySelectorAll('#base-red').length,
    }));
    await page.screenshot({ path: screenshot, fullPage: true });
    return result;
  },

  async queue(page) {
    await page.goto(url + '#/queue', { waitUntil: 'domcontentloaded' });
    await until(page, 'the queues', () => document.querySelector('#dev-queue') && document.querySelector('#merge-queue'));
    const rows = sel => page.evaluate(s => [...document.querySelectorAll(s + ' tr[data-task]')].map(tr => ({
      id: tr.dataset.task, position: Number(tr.cells[0].textContent), why: tr.querySelector('.why').textContent,
    })), sel);
    const result = { dev: await rows('#dev-queue'), merge: await rows('#merge-queue') };
    await page.screenshot({ path: screenshot, fullPage: true });
    return result;
  },

  // Timings for bench/bench_serve.cc: the board's first render with the
  // store's tasks (navigation start to the frame after the board is drawn,
  // performance.now() in the page), then the latency from a CLI change to
  // the page showing it: odd rounds create a task (it shows at the top of
  // the open column), even rounds move an open task to review (its card
  // joins "needs attention").
  async bench(page) {
    const [pipelineBin, repoDir, rounds, openIds] = args;
    const toMove = (openIds || '').split(',').filter(Boolean);
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    await until(page, 'the board', () => document.body.dataset.rendered && document.querySelector('.columns li'), null, 60000);
    const firstRender = await page.evaluate(() => new Promise(r => requestAnimationFrame(() => setTimeout(() => r(performance.now()), 0))));
    // The changes start once the page has loaded, its status snapshot included.
    await until(page, 'the status snapshot', () => document.body.dataset.snapshot, null, 60000);
    const counts = await page.evaluate(() => ({
      rows: document.querySelectorAll('.col li').length,
      cards: document.querySelectorAll('.attention .card').length,
      total: [...document.querySelectorAll('.col .count')].reduce((n, e) => n + Number(e.textContent), 0),
    }));
    const latencies = [], order = [];
    for (let i = 0; i < Number(rounds || 20); i++) {
      const start = Date.now();
      if (i % 2 === 0 || !toMove.length) {
        const title = 'bench change ' + i + ' ' + Math.random().toString(36).slice(2);
        execFileSync(pipelineBin, ['task', 'create', title, '--namespace', 'bench'], { cwd: repoDir });
        await until(page, 'the new task', t => [...document.querySelectorAll('.col[data-state="open"] li')].some(li => li.textContent.includes(t)), title, 60000);
      } else {
        const id = toMove.shift();
        execFileSync(pipelineBin, ['task', 'update', id, 'review'], { cwd: repoDir });
        await until(page, 'the task in review', id => !!document.querySelector('.attention .card.review[data-task="' + id + '"]'), id, 60000);
      }
      latencies.push(Date.now() - start);
      order.push(latencies[latencies.length - 1]);
    }
    await page.screenshot({ path: screenshot });
    latencies.sort((a, b) => a - b);
    const q = p => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
    return { board_first_render_ms: Math.round(firstRender), ...counts,
             change_to_page_ms: { median: q(0.5), p99: q(0.99), max: latencies[latencies.length - 1], n: latencies.length, in_order: order } };
  },
};

(async () => {
  if (!scenarios[scenario]) fail('unknown scenario');
  const browser = await puppeteer.launch({
    executablePath: browserPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  });
  let result;
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 900 });
    page.on('dialog', d => d.accept());
    result = await scenarios[scenario](page);
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(result));
  process.exit(0);
})().catch(e => fail(e && e.stack || String(e)));
