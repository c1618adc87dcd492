// Drives Debian's chromium (headless, through playwright-core) against mlpd's dashboard: opens
// the page on a session a job trained, checks the sessions, datasets and jobs tables, and that
// the learning curve's three series (train loss, eval loss, eval error) hold exactly the steps
// of the session's history; then follows a second job live (the curve grows while it runs) and
// checks the curve against the whole history again once it is cancelled. Saves a screenshot.
// Run by dashboard_browser.sh, which passes everything in the environment and starts and
// cancels the second job when this script asks (by creating files).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const env = process.env;
const url = env.DASHBOARD_URL;
const session = env.DASHBOARD_SESSION;
const TIMEOUT_MS = 30000;

// cellText: the text of column `column` (0-based) of the row of `table` whose first cell is
// `name`, or null.
async function cellText(page, table, name, column) {
  return page.evaluate(([table, name, column]) => {
    for (const row of document.querySelectorAll(`#${table} tbody tr`)) {
      if (row.cells[0].textContent === name) return row.cells[column].textContent;
    }
    return null;
  }, [table, name, column]);
}

async function waitForCell(page, table, name, column, expected, what) {
  await page.waitForFunction(([table, name, column, expected]) => {
    for (const row of document.querySelectorAll(`#${table} tbody tr`)) {
      if (row.cells[0].textContent === name) return row.cells[column].textContent === expected;
    }
    return false;
  }, [table, name, column, expected], { timeout: TIMEOUT_MS }).catch(async () => {
    throw new Error(`${what}: ${table} row ${name} column ${column} shows ` +
                    `${await cellText(page, table, name, column)}, expected ${expected}`);
  });
}

// history: the session's curve as the API answers it (GetHistory through /api/history).
async function history(page) {
  const answer = await page.request.get(`${url}api/history?session=${encodeURIComponent(session)}`);
  if (!answer.ok()) throw new Error(`/api/history answers ${answer.status()}: ${await answer.text()}`);
  return (await answer.json()).points || [];
}

// expectedSeries: the steps each series of the chart must have for `points`.
function expectedSeries(points) {
  return {
    'train loss': points.map((p) => Number(p.step)),
    'eval loss': points.filter((p) => p.eval !== undefined).map((p) => Number(p.step)),
    'eval error': points.filter((p) => p.eval !== undefined && p.eval.error_rate !== undefined)
                      .map((p) => Number(p.step)),
  };
}

// drawnSeries: the steps of each series Chart.js holds, by label (null before the first chart).
async function drawnSeries(page) {
  return page.evaluate(() => {
    const chart = Chart.getChart('curve');
    if (!chart) return null;
    const series = {};
    for (const dataset of chart.data.datasets) series[dataset.label] = dataset.data.map((p) => p.x);
    return series;
  });
}

async function drawnPoints(page) {
  const drawn = await drawnSeries(page);
  return drawn ? drawn['train loss'].length : -1;
}

// waitForCurveOfHistory: waits until every series of the chart holds exactly the steps of the
// session's history (which no training changes meanwhile); returns the history.
async function waitForCurveOfHistory(page, what) {
  const deadline = Date.now() + TIMEOUT_MS;
  let points = [], drawn = null;
  while (Date.now() < deadline) {
    points = await history(page);
    drawn = await drawnSeries(page);
    if (JSON.stringify(drawn) === JSON.stringify(expectedSeries(points))) return points;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const counts = (series) => series ? Object.entries(series).map(([k, v]) => `${k} ${v.length}`).join(', ') : 'no chart';
  throw new Error(`${what}: the chart holds ${counts(drawn)}; the history ${counts(expectedSeries(points))}`);
}

async function waitForFile(file, what) {
  for (let i = 0; i < TIMEOUT_MS / 50 && !fs.existsSync(file); ++i) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (!fs.existsSync(file)) throw new Error(`${what}: ${file} did not appear`);
}

// jobState: the job's state as ListJobs answers it now (JOB_STATE_...).
async function jobState(page, id) {
  const answer = await page.request.get(`${url}api/jobs?session=${encodeURIComponent(session)}`);
  if (!answer.ok()) throw new Error(`/api/jobs answers ${answer.status()}`);
  const job = ((await answer.json()).jobs || []).find((j) => j.id === id);
  return job ? job.state : 'missing';
}

(async () => {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlpd-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  const errors = [];
  try {
    const page = context.pages()[0] || await context.newPage();
    page.on('pageerror', (error) => errors.push(String(error)));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await page.goto(`${url}#session=${encodeURIComponent(session)}`);

    // Columns: sessions name, layers, loss, optimizer, steps (4), ...; datasets name, rows (1),
    // inputs (2), targets (3); jobs id, session (1), dataset (2), state (3), progress (4).
    const steps = env.DASHBOARD_EXPECTED_STEPS;
    await waitForCell(page, 'sessions', session, 4, steps, 'steps of the trained session');
    await waitForCell(page, 'sessions', session, 1, '8-16-3 (tanh, identity)', 'its layers');
    await waitForCell(page, 'sessions', session, 2, 'cross_entropy', 'its loss');
    await waitForCell(page, 'sessions', session, 3, 'adam', 'its optimizer');
    await waitForCell(page, 'sessions', env.DASHBOARD_OTHER_SESSION, 4, '0', 'the other session');
    await waitForCell(page, 'datasets', env.DASHBOARD_DATASET, 1, env.DASHBOARD_DATASET_ROWS,
                      'dataset rows');
    await waitForCell(page, 'datasets', env.DASHBOARD_DATASET, 2, '8', 'dataset inputs');
    await waitForCell(page, 'datasets', env.DASHBOARD_DATASET, 3, 'labels', 'dataset targets');
    await waitForCell(page, 'jobs', env.DASHBOARD_FIRST_JOB, 3, 'succeeded', 'the first job');
    await waitForCell(page, 'jobs', env.DASHBOARD_FIRST_JOB, 4, `${steps} / ${steps}`,
                      'the first job\'s progress');
    const row = page.locator(`#sessions tr[data-session="${session}"]`);
    if (!(await row.getAttribute('class')).includes('selected')) throw new Error('row not selected');

    // The curve of the first job: one point per report, each with its evaluation.
    const first = await waitForCurveOfHistory(page, 'first drawing');
    const expected = Number(env.DASHBOARD_EXPECTED_POINTS);
    const firstSeries = expectedSeries(first);
    if (first.length !== expected || firstSeries['eval loss'].length !== expected ||
        firstSeries['eval error'].length !== expected) {
      throw new Error(`GetHistory has ${first.length} points (${firstSeries['eval loss'].length} ` +
                      `with eval loss, ${firstSeries['eval error'].length} with eval error); the ` +
                      `job reported ${expected}, each with an evaluation`);
    }
    const box = await page.locator('#curve').boundingBox();
    if (!box || box.width < 300 || box.height < 200) throw new Error(`chart box ${JSON.stringify(box)}`);

    // Live: a second job runs; the open page must follow it without a reload.
    fs.writeFileSync(env.DASHBOARD_START_JOB, '');
    await waitForFile(env.DASHBOARD_JOB_ID, 'the second job was not started');
    const id = fs.readFileSync(env.DASHBOARD_JOB_ID, 'utf8').trim();
    await waitForCell(page, 'jobs', id, 3, 'running', 'the second job');
    // Two refreshes of the page, each with more points than the one before.
    let seen = first.length;
    for (let refresh = 1; refresh <= 2; ++refresh) {
      await page.waitForFunction((n) => {
        const chart = Chart.getChart('curve');
        return chart && chart.data.datasets[0].data.length > n;
      }, seen, { timeout: TIMEOUT_MS }).catch(async () => {
        throw new Error(`live curve: still ${await drawnPoints(page)} points after ${seen}`);
      });
      seen = await drawnPoints(page);
    }
    const state = await jobState(page, id);
    if (state !== 'JOB_STATE_RUNNING') {
      throw new Error(`the curve grew to ${seen} points, but the job is ${state}, not running`);
    }
    const live = `curve followed job ${id} live: ${first.length} -> ${seen} points while it ran`;

    fs.writeFileSync(env.DASHBOARD_CANCEL_JOB, '');
    await waitForFile(env.DASHBOARD_CANCELLED, 'the second job was not cancelled');
    await waitForCell(page, 'jobs', id, 3, 'cancelled', 'the cancelled job');
    const all = await waitForCurveOfHistory(page, 'after the second job');
    if (all.length <= seen) throw new Error(`the history has ${all.length} points, the page showed ${seen}`);

    await page.screenshot({ path: env.DASHBOARD_SCREENSHOT, fullPage: true });
    if (errors.length > 0) throw new Error(`page errors: ${errors.join('; ')}`);
    const allSeries = expectedSeries(all);
    console.log(`dashboard_browser: sessions, datasets and jobs listed; first curve ${first.length} ` +
                `points as GetHistory; ${live}; final curve ${all.length} points (train loss), ` +
                `${allSeries['eval loss'].length} (eval loss), ${allSeries['eval error'].length} ` +
                `(eval error) as GetHistory; screenshot ${env.DASHBOARD_SCREENSHOT}`);
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
})().catch((error) => {
  console.error(`FAIL: ${error.message}`);
  process.exit(1);
});
