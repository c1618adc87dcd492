// Drives Debian's chromium (headless, through playwright-core) against mlpd's dashboard: opens
// the page on a session, checks the sessions and datasets tables, that the session's step count
// follows new steps live, and the learning curve: as many points as the session's history when
// the server has GetHistory, or the page saying there is none when it answers 501. Saves a
// screenshot. Run by dashboard_browser.sh, which passes everything in the environment.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const env = process.env;
const url = env.DASHBOARD_URL;
const session = env.DASHBOARD_SESSION;
const steps = Number(env.DASHBOARD_EXPECTED_STEPS);
const more = Number(env.DASHBOARD_MORE_STEPS);

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
  }, [table, name, column, expected], { timeout: 30000 }).catch(async () => {
    throw new Error(`${what}: ${table} row ${name} column ${column} shows ` +
                    `${await cellText(page, table, name, column)}, expected ${expected}`);
  });
}

async function points(page) {
  return page.evaluate(() => {
    const chart = Chart.getChart('curve');
    return chart ? chart.data.datasets[0].data.length : -1;
  });
}

async function waitForPoints(page, expected, what) {
  await page.waitForFunction(
      (n) => Number(document.getElementById('curve').dataset.points) === n, expected,
      { timeout: 30000 }).catch(async () => {
    throw new Error(`${what}: the curve shows ${await points(page)} points, expected ${expected}`);
  });
  const drawn = await points(page);
  if (drawn !== expected) throw new Error(`${what}: Chart.js holds ${drawn} points, expected ${expected}`);
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
    // What the API holds decides what the page must show.
    const historyAnswer = await page.request.get(
        `${url}api/history?session=${encodeURIComponent(session)}`);
    const hasHistory = historyAnswer.status() !== 501;
    await page.goto(`${url}#session=${encodeURIComponent(session)}`);

    // Columns: sessions name, layers, loss, optimizer, steps (4), samples (5), ...;
    // datasets name, rows (1), inputs (2), targets (3).
    await waitForCell(page, 'sessions', session, 4, String(steps), 'steps of the trained session');
    await waitForCell(page, 'sessions', session, 1, '2-8-1 (tanh, identity)', 'its layers');
    await waitForCell(page, 'sessions', session, 2, 'mse', 'its loss');
    await waitForCell(page, 'sessions', session, 3, 'adam', 'its optimizer');
    await waitForCell(page, 'sessions', env.DASHBOARD_OTHER_SESSION, 4, '0', 'the other session');
    await waitForCell(page, 'datasets', env.DASHBOARD_DATASET, 1, env.DASHBOARD_DATASET_ROWS,
                      'dataset rows');
    await waitForCell(page, 'datasets', env.DASHBOARD_DATASET, 2, '2', 'dataset inputs');
    const row = page.locator(`#sessions tr[data-session="${session}"]`);
    if (!(await row.getAttribute('class')).includes('selected')) throw new Error('row not selected');

    let curve;
    if (hasHistory) {
      if (!historyAnswer.ok()) throw new Error(`/api/history answers ${historyAnswer.status()}`);
      const history = await historyAnswer.json();
      if (history.points.length !== steps) {
        throw new Error(`GetHistory has ${history.points.length} points, the test made ${steps}`);
      }
      await waitForPoints(page, steps, 'first drawing');
      const box = await page.locator('#curve').boundingBox();
      if (!box || box.width < 300 || box.height < 200) throw new Error(`chart box ${JSON.stringify(box)}`);
      curve = `learning curve ${steps} then ${steps + more} points`;
    } else {
      // No GetHistory: the page says so, draws no points, and is not in an error state.
      await page.waitForFunction(() => document.getElementById('curve').dataset.state === 'unavailable',
                                 null, { timeout: 30000 }).catch(() => {
        throw new Error('the curve section does not say the server has no history');
      });
      const note = await page.locator('#curve-note').textContent();
      if (!note.includes('GetHistory')) throw new Error(`curve note: ${note}`);
      curve = 'learning curve NOT checked: the server answers 501 for GetHistory, the page says so';
    }

    // Live: the shell trains more steps; the open page must follow without a reload.
    fs.writeFileSync(env.DASHBOARD_MORE_TRIGGER, '');
    for (let i = 0; i < 600 && !fs.existsSync(env.DASHBOARD_MORE_DONE); ++i) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (!fs.existsSync(env.DASHBOARD_MORE_DONE)) throw new Error('the shell did not train the extra steps');
    await waitForCell(page, 'sessions', session, 4, String(steps + more), 'live step count');
    if (hasHistory) await waitForPoints(page, steps + more, 'live curve');

    await page.screenshot({ path: env.DASHBOARD_SCREENSHOT, fullPage: true });
    // A 501 answer is logged by chromium as a failed resource load; it is the expected answer
    // of a server without history or jobs, anything else is an error.
    const unexpected = errors.filter((e) => hasHistory || !/status of 501/.test(e));
    if (unexpected.length > 0) throw new Error(`page errors: ${unexpected.join('; ')}`);
    console.log(`dashboard_browser: sessions and datasets listed, steps followed live ` +
                `${steps} -> ${steps + more}; ${curve}; screenshot ${env.DASHBOARD_SCREENSHOT}`);
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
})().catch((error) => {
  console.error(`FAIL: ${error.message}`);
  process.exit(1);
});
