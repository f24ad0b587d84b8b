// The studio's page: plain JavaScript, no framework. Each tab keeps its own runs (their ids) and
// follows each run through the server's event stream (/api/runs/ID/events).
'use strict';

const $ = (id) => document.getElementById(id);
const runs = {};  // id -> {card, losses: [{epoch, content, style, ...}], finished}
const methods = {};  // id -> the server's description: available, checkpoints, painting, settings
const SETTINGS = ['max_long_edge', 'max_num_epochs', 'content_weight', 'style_weight', 'tv_weight', 'strength', 'alpha',
                  'levels'];

async function api(path, options) {
  const response = await fetch(path, options);
  const body = await response.json().catch(() => ({error: 'the server answered ' + response.status}));
  if (!response.ok) throw new Error(body.error || ('the server answered ' + response.status));
  return body;
}

function fillImageSelect(select, images, chosen) {
  select.innerHTML = '';
  for (const image of images) {
    const option = document.createElement('option');
    option.value = image.id;
    option.textContent = (image.sample ? 'sample: ' : 'upload: ') + image.name;
    select.appendChild(option);
  }
  if (chosen) select.value = chosen;
}

function showPreview(role) {
  const id = $(role + '-select').value;
  $(role + '-preview').src = id ? '/api/images/' + encodeURIComponent(id) + '/preview' : '';
}

async function refreshImages(chosen) {
  const info = await api('/api/info');
  for (const role of ['content', 'style']) {
    const keep = (chosen && chosen.role === role) ? chosen.id : $(role + '-select').value;
    fillImageSelect($(role + '-select'), info.images, keep);
    showPreview(role);
  }
  return info;
}

async function upload(role) {
  const input = $(role + '-file');
  if (!input.files.length) return;
  $('picture-error').textContent = '';
  const form = new FormData();
  form.append('role', role);
  form.append('file', input.files[0]);
  try {
    const image = await api('/api/images', {method: 'POST', body: form});
    await refreshImages({role, id: image.id});
  } catch (error) {
    $('picture-error').textContent = error.message;
  }
  input.value = '';
}

function showMethods(list) {
  const box = $('methods');
  box.innerHTML = '';
  let first = true;
  for (const method of list) {
    methods[method.id] = method;
    const label = document.createElement('label');
    label.className = 'method' + (method.available ? '' : ' unavailable');
    const radio = document.createElement('input');
    radio.type = 'radio';
    radio.name = 'method';
    radio.value = method.id;
    radio.id = 'method-' + method.id;
    radio.disabled = !method.available;
    radio.addEventListener('change', showMethodChoices);
    if (method.available && first) { radio.checked = true; first = false; }
    label.appendChild(radio);
    label.appendChild(document.createTextNode(' ' + method.label));
    if (!method.available) {
      const why = document.createElement('span');
      why.className = 'why';
      why.textContent = ' (' + method.why_not + ')';
      label.appendChild(why);
    }
    box.appendChild(label);
  }
}

function chosenMethod() {
  const chosen = document.querySelector('input[name=method]:checked');
  return chosen ? methods[chosen.value] : null;
}

function showMethodChoices() {
  // what the chosen method takes: a painting or one of the 26 styles, and its own settings
  const method = chosenMethod();
  if (!method) return;
  $('painting-picker').hidden = !method.painting;
  $('pretrained').hidden = method.id !== 'stylize';
  for (const label of document.querySelectorAll('.settings label')) {
    label.hidden = !method.settings.includes(label.dataset.setting);
  }
}

function showStyleTiles(count) {
  // the 26 styles: a thumbnail (the style on the sample photo, made by the server), a tick, a weight
  const box = $('style-tiles');
  box.innerHTML = '';
  for (let number = 0; number < count; number++) {
    const tile = document.createElement('label');
    tile.className = 'style-tile';
    tile.innerHTML = `<img alt="style ${number} on the sample photo">
      <span><input type="checkbox" class="style-pick" id="style-${number}" value="${number}"> style ${number}</span>
      <input type="number" class="style-weight" id="style-weight-${number}" value="1" min="0" step="any"
             title="its weight in a blend">`;
    box.appendChild(tile);
  }
  $('style-0').checked = true;
}

async function showThumbnails() {
  // the server makes the thumbnails once, at its start: ask every two seconds until they are there
  const styles = await api('/api/styles');
  if (styles.thumbnails === 'making') { setTimeout(showThumbnails, 2000); return; }
  if (styles.thumbnails !== 'ready') return;  // the numbers alone
  document.querySelectorAll('.style-tile img').forEach((img, number) => {
    img.src = '/api/styles/' + number + '/thumbnail.png';
  });
}

function styleSpec() {
  // stylize.py's --style: 7, or a blend 3:0.5,12:0.5
  const picked = [...document.querySelectorAll('.style-pick:checked')];
  if (picked.length === 1) return picked[0].value;
  return picked.map((box) => box.value + ':' + $('style-weight-' + box.value).value).join(',');
}

function settings() {
  const values = {};
  for (const name of SETTINGS) values[name] = $(name).value;
  if (chosenMethod().id === 'stylize') values.pretrained_style = styleSpec();
  return values;
}

async function start() {
  $('start-error').textContent = '';
  const chosen = document.querySelector('input[name=method]:checked');
  if (!chosen) { $('start-error').textContent = 'choose a method'; return; }
  if (chosen.value === 'stylize' && !styleSpec()) { $('start-error').textContent = 'tick at least one style'; return; }
  try {
    const run = await api('/api/runs', {
      method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({method: chosen.value, content: $('content-select').value,
                            style: $('style-select').value, settings: settings()}),
    });
    follow(run);
  } catch (error) {
    $('start-error').textContent = error.message;
  }
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return '';
  seconds = Math.round(seconds);
  return seconds >= 60 ? Math.floor(seconds / 60) + 'm' + String(seconds % 60).padStart(2, '0') + 's' : seconds + 's';
}

function makeCard(run) {
  const card = document.createElement('article');
  card.className = 'run';
  card.dataset.runId = run.id;
  card.dataset.shownEpochs = '';
  card.innerHTML = `
    <h3>run ${run.id}: <span class="description"></span></h3>
    <p><span class="state"></span> <span class="progress"></span></p>
    <div class="views">
      <img class="live" alt="the run's current image">
      <canvas class="curve" width="360" height="220" aria-label="loss curve"></canvas>
    </div>
    <p class="error" role="alert"></p>
    <p class="actions">
      <button class="stop">Stop</button>
      <a class="download-result" hidden>Download the result (PNG)</a>
      <a class="download-gif" hidden>Download the checkpoints (GIF)</a>
    </p>`;
  card.querySelector('.description').textContent = run.description;
  card.querySelector('.stop').addEventListener('click', () => api('/api/runs/' + run.id + '/stop', {method: 'POST'})
    .catch((error) => { card.querySelector('.error').textContent = error.message; }));
  const live = card.querySelector('.live');
  live.addEventListener('load', () => {  // which images the page has shown: the browser test reads this
    const shown = live.dataset.epoch;
    if (shown !== undefined) card.dataset.shownEpochs += (card.dataset.shownEpochs ? ',' : '') + shown;
  });
  $('runs').prepend(card);
  return card;
}

function drawCurve(canvas, losses) {
  // each loss as a share of its largest value so far, on a log scale: content and style losses differ
  // by orders of magnitude, and what one watches is how far each has come down
  const context = canvas.getContext('2d');
  const {width, height} = canvas;
  context.clearRect(0, 0, width, height);
  const names = losses.length ? Object.keys(losses[0]).filter((name) => name !== 'epoch') : [];
  const largest = names.map((name) => Math.max(...losses.map((row) => row[name])));
  const shares = names.map((name, k) => losses.map((row) => row[name] / largest[k]));
  const values = shares.flat().filter((v) => v > 0 && isFinite(v));
  if (!values.length) return;
  const lo = Math.log10(Math.min(...values)), span = -lo || 1;
  const lastEpoch = losses[losses.length - 1].epoch, firstEpoch = losses[0].epoch;
  const left = 46, right = width - 10, top = 14 + 14 * names.length, bottom = height - 22;
  const x = (epoch) => left + (right - left) * (lastEpoch > firstEpoch ? (epoch - firstEpoch) / (lastEpoch - firstEpoch) : 1);
  const y = (value) => top + (bottom - top) * -Math.log10(value) / span;
  const colours = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
  context.font = '11px sans-serif';
  context.strokeStyle = '#ccc';
  context.strokeRect(left, top, right - left, bottom - top);
  names.forEach((name, k) => {
    context.strokeStyle = context.fillStyle = colours[k % colours.length];
    context.beginPath();
    shares[k].forEach((value, i) => {
      if (value > 0) (i ? context.lineTo : context.moveTo).call(context, x(losses[i].epoch), y(value));
    });
    context.stroke();
    context.fillText(name + ' loss: ' + losses[losses.length - 1][name].toPrecision(4), left, 12 + 14 * k);
  });
  context.fillStyle = '#555';
  context.fillText('epoch ' + firstEpoch, left, height - 6);
  context.fillText(String(lastEpoch), right - 20, height - 6);
  context.fillText('max', 2, top + 4);
  context.fillText((100 * 10 ** lo).toPrecision(2) + '%', 2, bottom);
}

function update(state) {
  const entry = runs[state.id];
  const card = entry.card;
  card.dataset.state = state.state;
  const badge = card.querySelector('.state');
  badge.textContent = state.state === 'queued' ? 'queued (#' + state.position + ' in line)' : state.state;
  badge.className = 'state ' + state.state;
  entry.losses.push(...(state.new_losses || []));
  let progress = '';
  if (state.epoch) {
    progress = 'epoch ' + state.epoch + (state.epochs_total ? ' of at most ' + state.epochs_total : '') +
               ', ' + duration(state.seconds) + ' elapsed';
    if (state.eta_seconds !== null && state.state === 'running') progress += ', at most ' + duration(state.eta_seconds) + ' left';
  }
  card.querySelector('.progress').textContent = progress;
  const live = card.querySelector('.live');
  if (state.has_result) {
    live.dataset.epoch = 'result';
    live.src = '/api/runs/' + state.id + '/result.png';
  } else if (state.epoch && live.dataset.epoch !== String(state.epoch)) {
    live.dataset.epoch = String(state.epoch);
    live.src = '/api/runs/' + state.id + '/checkpoint/' + state.epoch;
  }
  card.querySelector('.views').hidden = !state.epoch && !state.has_result;  // nothing to show yet
  const curve = card.querySelector('.curve');
  curve.hidden = !methods[state.method].checkpoints;  // one pass: no epochs, no losses to draw
  drawCurve(curve, entry.losses);
  card.querySelector('.error').textContent = state.error || '';
  const finished = ['done', 'stopped', 'failed'].includes(state.state);
  card.querySelector('.stop').disabled = finished || state.state === 'stopping';
  if (state.has_result) {
    for (const [selector, path] of [['.download-result', 'result.png'], ['.download-gif', 'checkpoints.gif']]) {
      const link = card.querySelector(selector);
      link.href = '/api/runs/' + state.id + '/' + path;
      link.hidden = path.endsWith('.gif') && !methods[state.method].checkpoints;  // one pass: no checkpoints
    }
  }
  if (finished && !entry.finished) {
    entry.finished = true;
    entry.state = state;
    refreshCompareChoices();
  }
}

function follow(run) {
  runs[run.id] = {card: makeCard(run), losses: [], finished: false};
  const events = new EventSource('/api/runs/' + run.id + '/events');
  events.onmessage = (message) => {
    const state = JSON.parse(message.data);
    update(state);
    if (['done', 'stopped', 'failed'].includes(state.state)) events.close();
  };
}

function refreshCompareChoices() {
  const finished = Object.values(runs).filter((entry) => entry.finished && entry.state.has_result);
  for (const [select, index] of [[$('compare-a'), 0], [$('compare-b'), 1]]) {
    const keep = select.value;
    select.innerHTML = '';
    for (const entry of finished) {
      const option = document.createElement('option');
      option.value = entry.state.id;
      option.textContent = 'run ' + entry.state.id + ': ' + entry.state.description;
      select.appendChild(option);
    }
    if (keep) select.value = keep;
    else if (finished.length > index) select.value = finished[finished.length - 1 - index].state.id;
  }
}

function number(value) {
  return value === null ? 'identical' : (Math.abs(value) >= 1e4 || Math.abs(value) < 1e-2 ? value.toExponential(3) : value.toFixed(4));
}

async function compare() {
  $('compare-error').textContent = '';
  const a = $('compare-a').value, b = $('compare-b').value;
  const box = $('compare-result');
  box.innerHTML = '<p>comparing…</p>';
  try {
    const report = await api('/api/compare', {method: 'POST', headers: {'Content-Type': 'application/json'},
                                              body: JSON.stringify({a, b})});
    const style = report.style_distance, content = report.content_distance;
    box.innerHTML = `
      <div class="side-by-side">
        <figure><img src="/api/runs/${a}/result.png" alt="run ${a}"><figcaption>run ${a}</figcaption></figure>
        <figure><img src="/api/runs/${b}/result.png" alt="run ${b}"><figcaption>run ${b}</figcaption></figure>
      </div>
      <table>
        <tr><th></th><th>run ${a}</th><th>run ${b}</th></tr>
        <tr><td>style distance (Gram matrices, sum of layers)</td><td>${number(style.result.total)}</td><td>${number(style.reference.total)}</td></tr>
        <tr><td>content distance (relu4_2)</td><td>${number(content.result)}</td><td>${number(content.reference)}</td></tr>
        <tr><td>SSIM of run ${a} against run ${b}</td><td colspan="2">${number(report.ssim)}</td></tr>
        <tr><td>PSNR of run ${a} against run ${b} (dB)</td><td colspan="2">${number(report.psnr)}</td></tr>
      </table>
      <p class="hint">compare.py's scores at ${report.size[1]}x${report.size[0]}; weights: ${report.weights}.
      Lower distances: closer to the style image's Gram matrices, to the content image's features.</p>`;
  } catch (error) {
    box.innerHTML = '';
    $('compare-error').textContent = error.message;
  }
}

async function main() {
  const info = await refreshImages();
  const samples = info.images.filter((image) => image.sample).map((image) => image.id);
  if (samples.includes('sample-IMG_4343.jpg')) $('content-select').value = 'sample-IMG_4343.jpg';
  if (samples.includes('sample-starry_night.jpg')) $('style-select').value = 'sample-starry_night.jpg';
  showPreview('content');
  showPreview('style');
  showMethods(info.methods);
  showStyleTiles(info.styles);
  showMethodChoices();
  if (methods.stylize && methods.stylize.available) showThumbnails();
  $('max-running').textContent = info.max_running;
  $('weights').textContent = info.weights.text;
  $('weights').className = /random/.test(info.weights.text) ? 'warning' : '';
  for (const role of ['content', 'style']) {
    $(role + '-select').addEventListener('change', () => showPreview(role));
    $(role + '-file').addEventListener('change', () => upload(role));
  }
  $('start').addEventListener('click', start);
  $('compare-button').addEventListener('click', compare);
  document.body.dataset.ready = 'yes';
}

main().catch((error) => { $('start-error').textContent = 'cannot reach the studio: ' + error.message; });
