// The mlpd dashboard: reads the JSON endpoints of this port every two seconds and draws the
// selected session's learning curve with Chart.js. Read-only: it never changes the server.
'use strict';

const REFRESH_MS = 2000;
let selected = decodeURIComponent((location.hash.match(/session=([^&]*)/) || [])[1] || '');
let chart = null;

async function api(path) {
  const response = await fetch(path, {credentials: 'same-origin', cache: 'no-store'});
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(body.error || `${path}: HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

function cell(row, text, numeric) {
  const td = row.insertCell();
  td.textContent = text;
  if (numeric) td.className = 'number';
}

function when(ms) {
  return ms ? new Date(Number(ms)).toLocaleString() : '';
}

// choice shows an API enum value as its plain name: choice('LOSS_KIND_MSE', 'LOSS_KIND_') is 'mse'.
function choice(value, prefix) {
  return String(value || '').replace(prefix, '').toLowerCase();
}

function layers(spec) {
  const sizes = [spec.input_size].concat((spec.layers || []).map((l) => l.units));
  const activations = (spec.layers || []).map((l) => choice(l.activation, 'ACTIVATION_'));
  return `${sizes.join('-')} (${[...new Set(activations)].join(', ')})`;
}

function renderSessions(sessions) {
  const body = document.querySelector('#sessions tbody');
  body.replaceChildren();
  for (const s of sessions) {
    const row = body.insertRow();
    row.className = 'selectable' + (s.name === selected ? ' selected' : '');
    row.dataset.session = s.name;
    row.onclick = () => select(s.name);
    const spec = s.spec || {};
    cell(row, s.name);
    cell(row, layers(spec));
    cell(row, choice((spec.loss || {}).kind, 'LOSS_KIND_'));
    cell(row, choice((spec.optimizer || {}).kind, 'OPTIMIZER_KIND_'));
    cell(row, s.step_count, true);
    cell(row, s.samples_seen, true);
    cell(row, Number(s.step_count) > 0 ? Number(s.last_loss).toPrecision(5) : '', true);
    cell(row, when(s.update_time_unix_ms));
  }
}

function renderDatasets(datasets) {
  const body = document.querySelector('#datasets tbody');
  body.replaceChildren();
  for (const d of datasets) {
    const row = body.insertRow();
    cell(row, d.name);
    cell(row, d.rows, true);
    cell(row, d.input_size, true);
    cell(row, d.has_labels ? 'labels' : d.target_size, true);
    cell(row, (Number(d.bytes) / 1048576).toFixed(1), true);
    cell(row, when(d.create_time_unix_ms));
  }
}

function renderJobs(jobs) {
  const body = document.querySelector('#jobs tbody');
  body.replaceChildren();
  for (const j of jobs) {
    const row = body.insertRow();
    cell(row, j.id);
    cell(row, j.session);
    cell(row, j.dataset);
    cell(row, choice(j.state, 'JOB_STATE_'));
    cell(row, `${j.steps_done || 0} / ${j.steps_total || 0}`, true);
    cell(row, j.epoch || 0, true);
    // The error as the server wrote it; a stop reason's enum name made readable.
    const reason = j.summary ? String(j.summary.stop_reason || '').replace('STOP_REASON_', '') : '';
    cell(row, j.error ? j.error.message : reason.toLowerCase().replace(/_/g, ' '));
  }
}

// Points of a GetHistory answer (HistoryPoint) as a Chart.js {x, y} series: {x: step,
// y: value(point)} for the points where value(point) is defined (eval figures exist only where
// the run evaluated).
function series(points, value) {
  return points.filter((p) => value(p) !== undefined).map((p) => ({x: Number(p.step), y: Number(value(p))}));
}

function drawCurve(name, points) {
  const canvas = document.getElementById('curve');
  const data = {
    datasets: [
      {label: 'train loss', data: series(points, (p) => p.train_loss), borderColor: '#2f6fdf',
       backgroundColor: '#2f6fdf', yAxisID: 'loss'},
      {label: 'eval loss', data: series(points, (p) => p.eval && p.eval.loss), borderColor: '#e2711d',
       backgroundColor: '#e2711d', yAxisID: 'loss'},
      {label: 'eval error', data: series(points, (p) => p.eval && p.eval.error_rate), borderColor: '#3a9d5d',
       backgroundColor: '#3a9d5d', yAxisID: 'error', borderDash: [6, 3]},
    ],
  };
  if (chart === null) {
    chart = new Chart(canvas, {
      type: 'line',
      data,
      options: {
        animation: false,
        maintainAspectRatio: false,
        parsing: false,
        elements: {point: {radius: 0}, line: {borderWidth: 2}},
        interaction: {mode: 'nearest', axis: 'x', intersect: false},
        scales: {
          x: {type: 'linear', title: {display: true, text: 'step'}},
          loss: {type: 'linear', position: 'left', title: {display: true, text: 'loss'}},
          error: {type: 'linear', position: 'right', min: 0, max: 1,
                  title: {display: true, text: 'eval error rate'}, grid: {drawOnChartArea: false}},
        },
      },
    });
  } else {
    chart.data = data;
    chart.update('none');
  }
  // What a test (or a curious person) can read back: the points drawn and whose they are.
  canvas.dataset.points = String(data.datasets[0].data.length);
  canvas.dataset.session = name;
  document.getElementById('curve-session').textContent = name;
}

// HTTP 501: the server's API lacks the method (a build without training jobs); said plainly
// instead of as an error.
const UNAVAILABLE = 501;

async function refreshCurve() {
  if (!selected) return;
  const note = document.getElementById('curve-note');
  const canvas = document.getElementById('curve');
  document.getElementById('curve-session').textContent = selected;
  try {
    const history = await api(`/api/history?session=${encodeURIComponent(selected)}`);
    drawCurve(selected, history.points || []);
    note.textContent = `${(history.points || []).length} points`;
    note.className = 'muted';
    canvas.dataset.state = 'drawn';
    canvas.parentElement.hidden = false;
  } catch (error) {
    const unavailable = error.status === UNAVAILABLE;
    note.textContent = unavailable
        ? 'No learning curve: this server records no training history (GetHistory).'
        : error.message;
    note.className = unavailable ? 'muted' : 'error';
    canvas.dataset.state = unavailable ? 'unavailable' : 'error';
    // Nothing to draw: no empty chart area.
    canvas.parentElement.hidden = unavailable;
  }
}

function select(name) {
  selected = name;
  history.replaceState(null, '', `#session=${encodeURIComponent(name)}`);
  for (const row of document.querySelectorAll('#sessions tbody tr')) {
    row.classList.toggle('selected', row.dataset.session === name);
  }
  refreshCurve();
}

async function refresh() {
  const status = document.getElementById('status');
  try {
    const [sessions, datasets] = await Promise.all([api('/api/sessions'), api('/api/datasets')]);
    renderSessions(sessions.sessions || []);
    renderDatasets(datasets.datasets || []);
    const jobsNote = document.getElementById('jobs-note');
    try {
      renderJobs((await api('/api/jobs')).jobs || []);
      jobsNote.textContent = '';
    } catch (error) {
      jobsNote.textContent = error.status === UNAVAILABLE
          ? 'No jobs: this server has no training jobs (ListJobs).'
          : error.message;
    }
    await refreshCurve();
    status.textContent = `updated ${new Date().toLocaleTimeString()}`;
    status.className = 'muted';
  } catch (error) {
    status.textContent = error.message;
    status.className = 'error';
  }
}

refresh();
setInterval(refresh, REFRESH_MS);
