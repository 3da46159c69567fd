// editor.test.mjs - the visual editor in a real browser (Debian's Chromium
// through playwright-core), against a running coordinator and worker pool.
// tests/process/test_editor.c starts those and runs this; it can also be
// run by hand against any coordinator:
//
//   node web/tests/editor.test.mjs BASE_URL SCREENSHOT_DIR [API_TOKEN]
//
// It builds a four-node workflow with real mouse drags (palette to canvas,
// handle to handle), saves it, reloads, and finds it intact; saves a broken
// flow and sees each problem on its node or edge; runs the saved workflow
// and watches it reach "completed"; opens a workflow written without the
// editor; asks before a new canvas replaces a workflow of its name; keeps
// the canvas of a document deleted elsewhere, and an edit made during a
// save unsaved; deletes one; adds and connects nodes by keyboard alone.
// Screenshots go to SCREENSHOT_DIR and their paths are
// printed, with the page's render timings. Exit 0 when every step passed.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const [base, shots, token] = process.argv.slice(2);
if (!base || !shots) {
  console.error('usage: node editor.test.mjs BASE_URL SCREENSHOT_DIR [API_TOKEN]');
  process.exit(2);
}
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const origin = new URL(base).origin;
const WORKFLOW = 'test-editor-welcome';
const BROKEN = 'test-editor-broken';

mkdirSync(shots, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), 'wf-editor-chromium-'));

let step = 'start';
const t0 = Date.now();
function log(message) {
  console.log(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${message}`);
}
function begin(name) {
  step = name;
  log(`step: ${name}`);
}

async function shot(page, name) {
  const path = join(shots, `${name}.png`);
  await page.screenshot({ path });
  console.log(`screenshot: ${path}`);
  return path;
}

/** The API as the page sees it, for checks behind the page's back. */
async function api(path, method = 'GET') {
  const res = await fetch(`${origin}${path}`, { method, headers: token ? { Authorization: `Bearer ${token}` } : {} });
  assert.equal(res.status, 200, `${method} ${path}: ${res.status}`);
  return res.json();
}

function center(box) {
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

/** A real mouse drag from one point to another, in steps, as a hand would. */
async function drag(page, from, to) {
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(from.x + 8, from.y + 8, { steps: 3 });
  await page.mouse.move(to.x, to.y, { steps: 12 });
  await page.mouse.up();
}

/** Drags the palette's button of type onto the canvas at (dx, dy) from its top left. */
async function dropNode(page, type, dx, dy) {
  const item = page.locator(`.palette__item[data-node-type="${type}"]`);
  const canvas = await page.locator('.canvas').boundingBox();
  const before = await page.locator('.react-flow__node').count();
  await drag(page, center(await item.boundingBox()), { x: canvas.x + dx, y: canvas.y + dy });
  await page.waitForFunction((n) => document.querySelectorAll('.react-flow__node').length === n + 1, before);
}

function handle(page, node, kind, id) {
  const selector = `.react-flow__node[data-id="${node}"] .react-flow__handle.${kind}${id ? `[data-handleid="${id}"]` : ''}`;
  return page.locator(selector);
}

/** Connects node from (through its handle id, if any) to node to, by dragging handle to handle. */
async function connect(page, from, to, id) {
  const before = await page.locator('.react-flow__edge').count();
  const a = center(await handle(page, from, 'source', id).boundingBox());
  const b = center(await handle(page, to, 'target').boundingBox());
  await drag(page, a, b);
  await page.waitForFunction((n) => document.querySelectorAll('.react-flow__edge').length === n + 1, before);
}

async function selectNode(page, id) {
  await page.locator(`.react-flow__node[data-id="${id}"] .wf-node__head`).click();
  await page.locator('#tab-node').click();
  await page.getByRole('heading', { level: 2, name: new RegExp(id) }).waitFor();
}

async function status(page, pattern) {
  await page.locator('[data-testid="status"]', { hasText: pattern }).waitFor();
}

async function waitReady(page) {
  await page.locator('.palette__item[data-node-type="condition"]').waitFor();
  await page.waitForFunction(() => performance.getEntriesByName('wf-editor-ready').length > 0);
}

// Debian's Chromium on a closed network: no background connections, no
// sandbox (CI runs as root), a fresh profile of its own.
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  viewport: { width: 1280, height: 800 },
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});

const foreign = [];
const errors = [];
let failed = false;
try {
  context.setDefaultTimeout(15000);
  // The page may ask for nothing but its own origin: no fonts, CDNs or trackers.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(`${origin}/`) || url.startsWith('data:')) return route.continue();
    foreign.push(url);
    return route.abort();
  });
  const page = context.pages()[0] || (await context.newPage());
  page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    // The browser logs every non-2xx answer; those the test provokes (401, 422) are expected.
    if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) errors.push(`console: ${msg.text()}`);
  });

  begin('open the editor (and give the API token when asked)');
  await page.goto(`${base}/`);
  if (token) {
    await page.locator('#api-token').fill(token);
    await page.getByRole('button', { name: 'Use token' }).click();
  }
  await waitReady(page);
  await shot(page, 'editor-empty');

  begin('build a four-node workflow by dragging from the palette');
  await dropNode(page, 'trigger', 260, 70);
  await dropNode(page, 'condition', 260, 220);
  await dropNode(page, 'delay', 140, 400);
  await dropNode(page, 'action', 400, 580);
  assert.equal(await page.locator('.react-flow__node').count(), 4);
  for (const id of ['trigger-1', 'condition-1', 'delay-1', 'action-1']) await page.locator(`.react-flow__node[data-id="${id}"]`).waitFor();

  begin('connect the handles');
  await connect(page, 'trigger-1', 'condition-1');
  await connect(page, 'condition-1', 'delay-1', 'true');
  await connect(page, 'condition-1', 'action-1', 'false');
  await connect(page, 'delay-1', 'action-1');
  assert.equal(await page.locator('.react-flow__edge').count(), 4);

  begin('edit the fields: rule (checked as typed), duration, template');
  await selectNode(page, 'condition-1');
  const rule = page.locator('#field-rule');
  await rule.fill('{"==": [{"var": "user.name"}, ');
  await page.locator('#field-rule-status', { hasText: 'Not valid JSON' }).waitFor();
  assert.equal(await rule.getAttribute('aria-invalid'), 'true');
  await rule.fill('{"tpyo": [1]}');
  await page.locator('#field-rule-status', { hasText: 'unknown operator' }).waitFor();
  await rule.fill('{"==": [{"var": "user.name"}, "Ada"]}');
  await page.locator('#field-rule-status', { hasText: 'a valid JSON Logic rule' }).waitFor();
  await selectNode(page, 'delay-1');
  await page.locator('#field-seconds-value').fill('2');
  await page.locator('#field-seconds-unit').selectOption('minutes');
  await page.locator('#field-seconds-help', { hasText: '120 seconds' }).waitFor();
  await selectNode(page, 'action-1');
  await page.locator('#field-action').selectOption('send_email');
  await page.locator('#field-template').selectOption('united_welcome');
  await page.locator('#field-label').fill('Welcome email');
  await page.locator('.react-flow__node[data-id="action-1"]', { hasText: 'united_welcome' }).waitFor();

  begin('save');
  await page.locator('#workflow-name').fill(WORKFLOW);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await status(page, `Saved “${WORKFLOW}”, version `);
  await page.locator('[data-testid="workflow-list"] li', { hasText: WORKFLOW }).waitFor();
  await shot(page, 'editor-built');

  begin('reload: the workflow is intact (nodes, edges, fields)');
  await page.reload();
  await waitReady(page);
  const timing = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    const ready = performance.getEntriesByName('wf-editor-ready')[0];
    return {
      fcp: fcp ? fcp.startTime : null,
      ready: ready ? ready.startTime : null,
      domContentLoaded: nav ? nav.domContentLoadedEventEnd : null,
      transferred: performance.getEntriesByType('resource').reduce((n, r) => n + (r.transferSize || 0), nav ? nav.transferSize : 0),
    };
  });
  console.log(
    `timing: first contentful paint ${timing.fcp?.toFixed(0)} ms, DOMContentLoaded ${timing.domContentLoaded?.toFixed(0)} ms, ` +
      `editor ready (node types loaded, palette drawn) ${timing.ready?.toFixed(0)} ms after navigation start, ` +
      `${(timing.transferred / 1024).toFixed(1)} KiB transferred`,
  );
  // The page's weight: each script and style sheet it loaded, as sent and gzipped.
  const assets = await page.evaluate(() => performance.getEntriesByType('resource').map((r) => r.name).filter((u) => /\.(js|css)(\?|$)/.test(u)));
  for (const kind of ['js', 'css']) {
    let raw = 0;
    let gz = 0;
    for (const url of assets.filter((u) => new URL(u).pathname.endsWith(`.${kind}`))) {
      const res = await fetch(url, { headers: { 'accept-encoding': 'gzip' } });
      // The build leaves FILE.gz beside it, and the coordinator sends that.
      assert.equal(res.headers.get('content-encoding'), 'gzip', `${url} is not sent gzipped`);
      const body = Buffer.from(await res.arrayBuffer());
      raw += body.length;
      gz += gzipSync(body, { level: 9 }).length;
    }
    console.log(`size: ${kind.toUpperCase()} ${(raw / 1024).toFixed(1)} KiB, ${(gz / 1024).toFixed(1)} KiB gzipped`);
  }
  await page.locator('.react-flow__node[data-id="action-1"]').waitFor();
  assert.equal(await page.locator('.react-flow__node').count(), 4);
  assert.equal(await page.locator('.react-flow__edge').count(), 4);
  assert.equal(await page.locator('#workflow-name').inputValue(), WORKFLOW);
  await selectNode(page, 'action-1');
  assert.equal(await page.locator('#field-template').inputValue(), 'united_welcome');
  assert.equal(await page.locator('#field-label').inputValue(), 'Welcome email');
  await selectNode(page, 'delay-1');
  assert.equal(await page.locator('#field-seconds-value').inputValue(), '2');
  assert.equal(await page.locator('#field-seconds-unit').inputValue(), 'minutes');
  await selectNode(page, 'condition-1');
  assert.deepEqual(JSON.parse(await page.locator('#field-rule').inputValue()), { '==': [{ var: 'user.name' }, 'Ada'] });
  // And as stored: React Flow's document, with the condition's handles on its edges.
  const list = await api('/workflow/visual-workflows');
  const saved = list.visual_workflows.find((w) => w.name === WORKFLOW);
  const stored = await api(`/workflow/visual-workflows/${saved.id}`);
  const handles = stored.flow.edges.filter((e) => e.source === 'condition-1').map((e) => `${e.sourceHandle}->${e.target}`).sort();
  assert.deepEqual(handles, ['false->action-1', 'true->delay-1']);
  assert.equal(stored.definition.nodes['delay-1'].seconds, 120);
  assert.equal(stored.definition.nodes['condition-1'].true, 'delay-1');
  assert.equal(stored.definition.start, 'condition-1');

  begin('run it and watch it move to "completed"');
  await page.locator('#tab-run').click();
  await page.locator('#run-context').fill(JSON.stringify({ user: { email: 'test-ada@example.com', name: 'Ada' } }));
  await page.getByRole('button', { name: `Run “${WORKFLOW}”` }).click();
  // The delay (2 minutes, DELAY_SCALE=60 in the test's pool: 2 s) is highlighted while it waits.
  await page.locator('.react-flow__node[data-id="delay-1"] .wf-node.is-current').waitFor();
  await page.locator('[data-testid="run-status"]', { hasText: 'delayed' }).waitFor();
  await shot(page, 'execution-running');
  await page.locator('[data-testid="run-status"]', { hasText: 'completed' }).waitFor({ timeout: 30000 });
  const history = await page.locator('[data-testid="run-history"] li').allInnerTexts();
  assert.ok(history.length >= 4, `a history of ${history.length} rows`);
  for (const node of ['condition-1', 'delay-1', 'action-1']) assert.ok(history.some((r) => r.includes(node)), `history names ${node}`);
  assert.ok(history.some((r) => /completed/.test(r)), 'history ends completed');
  await page.locator('.react-flow__node[data-id="action-1"] .wf-node.is-done').waitFor();
  await shot(page, 'execution-completed');
  await page.locator('#tab-executions').click();
  await page.locator('#exec-status').selectOption('completed');
  await page.locator('[data-testid="executions"] tbody tr', { hasText: WORKFLOW }).first().waitFor();

  begin('a broken flow: its problems shown on the nodes and edges they name');
  await page.getByRole('button', { name: 'New', exact: true }).click();
  await page.getByRole('button', { name: 'Document…' }).click();
  const broken = {
    nodes: [
      { id: 'start', type: 'trigger', position: { x: 120, y: 20 }, data: { source: 'manual' } },
      { id: 'check', type: 'condition', position: { x: 120, y: 170 }, data: { rule: { tpyo: [1] } } },
      { id: 'after', type: 'delay', position: { x: 120, y: 400 }, data: { seconds: 5 } },
    ],
    edges: [
      { id: 'e-start', source: 'start', target: 'check' },
      { id: 'e-dangling', source: 'check', sourceHandle: 'true', target: 'ghost' },
      { id: 'e-nohandle', source: 'check', target: 'after' },
    ],
    viewport: { x: 0, y: 0, zoom: 1 },
  };
  await page.locator('#document-json').fill(JSON.stringify(broken, null, 2));
  await page.getByRole('button', { name: 'Import onto the canvas' }).click();
  await page.locator('.react-flow__node[data-id="check"]').waitFor();
  await page.locator('#workflow-name').fill(BROKEN);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await status(page, 'Not saved');
  const check = page.locator('.react-flow__node[data-id="check"] .wf-node__problems');
  await check.waitFor();
  const checkText = await check.innerText();
  assert.match(checkText, /tpyo/, 'the invalid rule is shown on its condition');
  assert.match(checkText, /e-dangling/, 'the dangling edge is shown on the node it leaves');
  assert.ok(await page.locator('.react-flow__node[data-id="check"] .wf-node.has-problem').count());
  const label = page.locator('[data-testid="edge-label-e-nohandle"]');
  assert.match(await label.innerText(), /sourceHandle/);
  assert.match((await label.getAttribute('class')) || '', /has-problem/);
  const problems = await page.locator('[data-testid="problems"]').innerText();
  assert.match(problems, /edge e-dangling/);
  assert.match(problems, /ghost/);
  assert.equal((await api('/workflow/visual-workflows')).visual_workflows.some((w) => w.name === BROKEN), false, 'nothing was written');
  await shot(page, 'editor-problems');

  begin('a new canvas under a taken name asks before replacing it; a label that is not text is shown as JSON');
  await page.getByRole('button', { name: 'New', exact: true }).click();
  await page.getByRole('button', { name: 'Discard and start anew' }).click();
  await page.getByRole('button', { name: 'Document…' }).click();
  const labelled = {
    nodes: [
      { id: 'start', type: 'trigger', position: { x: 120, y: 20 }, data: { source: 'manual' } },
      { id: 'wait', type: 'delay', position: { x: 120, y: 170 }, data: { seconds: 5, label: { en: 'Wait' } } },
    ],
    edges: [{ id: 'e-start-wait', source: 'start', target: 'wait' }],
    viewport: { x: 0, y: 0, zoom: 1 },
  };
  await page.locator('#document-json').fill(JSON.stringify(labelled));
  await page.getByRole('button', { name: 'Import onto the canvas' }).click();
  await page.locator('.react-flow__node[data-id="wait"] .wf-node__label', { hasText: '{"en":"Wait"}' }).waitFor();
  const before = (await api('/workflow/visual-workflows')).visual_workflows.find((w) => w.name === WORKFLOW);
  await page.locator('#workflow-name').fill(WORKFLOW);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('dialog').getByRole('heading', { name: `Replace “${WORKFLOW}”?` }).waitFor();
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
  await status(page, `Not saved: “${WORKFLOW}” exists already`);
  const after = (await api('/workflow/visual-workflows')).visual_workflows.find((w) => w.name === WORKFLOW);
  assert.equal(after.version, before.version, 'cancel leaves the workflow of that name alone');

  begin('open a workflow written without the editor (by name)');
  await page.getByRole('button', { name: 'New', exact: true }).click();
  await page.getByRole('button', { name: 'Discard and start anew' }).click();
  await page.locator('.workflows button.link', { hasText: /^united_welcome$/ }).click();
  await status(page, 'laid out from its definition');
  assert.ok((await page.locator('.react-flow__node').count()) >= 3);
  await page.locator('.react-flow__node[data-id="trigger"]').waitFor();

  begin('a document deleted elsewhere: Save keeps the canvas and creates it anew');
  await page.locator('.workflows button.link', { hasText: new RegExp(`^${WORKFLOW}$`) }).click();
  await status(page, `Opened “${WORKFLOW}”`);
  const gone = (await api('/workflow/visual-workflows')).visual_workflows.find((w) => w.name === WORKFLOW);
  await api(`/workflow/visual-workflows/${gone.id}`, 'DELETE');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await status(page, 'deleted elsewhere');
  assert.equal(await page.locator('.react-flow__node').count(), 4, 'the canvas is kept');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await status(page, `Saved “${WORKFLOW}”`);
  const anew = (await api('/workflow/visual-workflows')).visual_workflows.find((w) => w.name === WORKFLOW);
  assert.notEqual(anew.id, gone.id, 'saved as a new document');

  begin('an edit made while a save is out stays unsaved');
  // The coordinator's answer is held back a moment, and the label edited meanwhile.
  await page.route('**/workflow/visual-workflows/*', async (route) => {
    if (route.request().method() !== 'PUT') return route.fallback();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    return route.continue();
  });
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await selectNode(page, 'action-1');
  await page.locator('#field-label').fill('Edited during the save');
  await status(page, 'the changes made since are not saved yet');
  await page.locator('.toolbar__name', { hasText: 'unsaved' }).waitFor();
  await page.unroute('**/workflow/visual-workflows/*');
  assert.equal((await api(`/workflow/visual-workflows/${anew.id}`)).flow.nodes.find((n) => n.id === 'action-1').data.label, 'Welcome email');

  begin('delete a workflow, after confirming');
  await page.getByRole('button', { name: `delete ${WORKFLOW}` }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
  assert.ok((await api('/workflow/visual-workflows')).visual_workflows.some((w) => w.name === WORKFLOW), 'cancel keeps it');
  await page.getByRole('button', { name: `delete ${WORKFLOW}` }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete', exact: true }).click();
  await status(page, `Deleted “${WORKFLOW}”`);
  assert.equal((await api('/workflow/visual-workflows')).visual_workflows.some((w) => w.name === WORKFLOW), false);

  begin('by keyboard: add nodes from the palette, select one, connect it in the panel');
  await page.getByRole('button', { name: 'New', exact: true }).click();
  await page.locator('.palette__item[data-node-type="trigger"]').focus();
  await page.keyboard.press('Enter');
  await page.locator('.palette__item[data-node-type="webhook"]').focus();
  await page.keyboard.press('Enter');
  await page.locator('.react-flow__node[data-id="webhook-1"]').waitFor();
  await page.locator('.react-flow__node[data-id="trigger-1"]').focus();
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 2, name: /trigger-1/ }).waitFor();
  await page.locator('#field-next-default').selectOption('webhook-1');
  await page.locator('.react-flow__edge').first().waitFor();
  assert.equal(await page.locator('.react-flow__edge').count(), 1);

  begin('no page errors and no request beyond the coordinator');
  assert.deepEqual(foreign, [], 'requests outside the page origin');
  assert.deepEqual(errors, [], 'errors in the page');
} catch (err) {
  failed = true;
  console.error(`FAILED at step "${step}": ${err.stack || err}`);
  if (foreign.length) console.error(`requests outside the page origin: ${foreign.join(', ')}`);
  if (errors.length) console.error(errors.join('\n'));
  try {
    const pages = context.pages();
    if (pages.length) await shot(pages[0], 'failure');
  } catch {
    /* the browser is gone */
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
log(failed ? 'editor test failed' : 'editor test passed');
process.exit(failed ? 1 : 0);
