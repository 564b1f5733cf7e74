// aurum operator dashboard. Vanilla ES2020, no dependencies, no build step.
// Every piece of data goes into the DOM through textContent / setAttribute, never innerHTML.
'use strict';

(() => {
  const DASH = '—';
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const TOKEN_KEY = 'aurum.apiToken';
  const MAX_TRADES = 50;
  const FETCH_TIMEOUT_MS = 10000;

  const REFRESH_MS = (() => {
    const raw = new URLSearchParams(window.location.search).get('refresh');
    const n = raw === null ? NaN : Number(raw);
    return Number.isFinite(n) && n >= 250 ? Math.round(n) : 2000;
  })();

  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- helpers

  const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

  /** Display a scalar as is; missing or null values become an em dash. */
  function show(v) {
    if (v === undefined || v === null || v === '') return DASH;
    if (typeof v === 'boolean') return v ? 'yes' : 'no';
    if (typeof v === 'number') return Number.isFinite(v) ? fmtNum(v) : DASH;
    if (typeof v === 'string') return v;
    return DASH;
  }

  /** Plain numbers (not decimal strings): integers as is, fractions to at most 4 places. */
  function fmtNum(n) {
    if (Number.isInteger(n)) return String(n);
    return String(Math.round(n * 10000) / 10000);
  }

  const num = (v) => {
    if (v === undefined || v === null || v === '') return NaN;
    const n = Number(v);
    return Number.isFinite(n) ? n : NaN;
  };

  function fmtPct(v, digits = 2) {
    const n = num(v);
    return Number.isFinite(n) ? `${n.toFixed(digits)}%` : DASH;
  }

  function fmtSignedPct(v, digits = 2) {
    const n = num(v);
    if (!Number.isFinite(n)) return DASH;
    return `${n > 0 ? '+' : n < 0 ? '−' : ''}${Math.abs(n).toFixed(digits)}%`;
  }

  const pad2 = (n) => String(n).padStart(2, '0');

  function isTs(ms) {
    return typeof ms === 'number' && Number.isFinite(ms) && ms > 0;
  }

  /** Local time: YYYY-MM-DD HH:MM:SS. */
  function fmtTime(ms) {
    if (!isTs(ms)) return DASH;
    const d = new Date(ms);
    return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${fmtClock(ms)}`;
  }

  /** Local time, compact: MM-DD HH:MM:SS. */
  function fmtShortTime(ms) {
    if (!isTs(ms)) return DASH;
    const d = new Date(ms);
    return `${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${fmtClock(ms)}`;
  }

  function fmtClock(ms) {
    const d = new Date(ms);
    return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  }

  function fmtDuration(ms) {
    if (typeof ms !== 'number' || !Number.isFinite(ms)) return DASH;
    const neg = ms < 0;
    let s = Math.floor(Math.abs(ms) / 1000);
    const d = Math.floor(s / 86400); s -= d * 86400;
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    let out;
    if (d > 0) out = `${d}d ${h}h ${m}m`;
    else if (h > 0) out = `${h}h ${m}m`;
    else if (m > 0) out = `${m}m ${s}s`;
    else out = `${s}s`;
    return neg ? `−${out}` : out;
  }

  function fmtAge(ms) {
    if (typeof ms !== 'number' || !Number.isFinite(ms)) return DASH;
    if (Math.abs(ms) < 1000) return `${Math.round(ms)} ms`;
    return fmtDuration(ms);
  }

  function setText(id, value) {
    const node = typeof id === 'string' ? $(id) : id;
    if (node) node.textContent = value;
  }

  /** Set a badge's text and its tone class (ok / warn / bad / info / neutral). */
  function setBadge(id, text, tone) {
    const node = $(id);
    if (!node) return;
    node.textContent = text;
    node.className = `badge${tone ? ` badge-${tone}` : ''}`;
  }

  function signClass(v) {
    const n = num(v);
    if (!Number.isFinite(n) || n === 0) return '';
    return n > 0 ? 'pos' : 'neg';
  }

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === 'className') node.className = v;
        else node.setAttribute(k, String(v));
      }
    }
    for (const c of children) {
      if (c === undefined || c === null) continue;
      node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return node;
  }

  function svgEl(tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    if (attrs) for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** Flatten an object into [key, value] rows: nested objects become a.b, arrays are skipped. */
  function flatten(obj, prefix = '', out = []) {
    if (!isObj(obj)) return out;
    for (const [k, v] of Object.entries(obj)) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (Array.isArray(v)) continue;
      if (isObj(v)) flatten(v, key, out);
      else out.push([key, v]);
    }
    return out;
  }

  function renderKv(table, rows) {
    const tbody = table.tBodies[0] || table.appendChild(document.createElement('tbody'));
    const frag = document.createDocumentFragment();
    if (rows.length === 0) {
      frag.appendChild(el('tr', null, el('td', { className: 'empty', colspan: 2 }, DASH)));
    }
    for (const [k, v] of rows) {
      const epoch = /_ms$/.test(k) && typeof v === 'number' && v > 1e12;
      const cell = el('td', { className: 'mono', title: epoch ? String(v) : null }, epoch ? fmtTime(v) : show(v));
      frag.appendChild(el('tr', null, el('th', null, k), cell));
    }
    tbody.replaceChildren(frag);
  }

  /** Fill a data table: one <tr> per item in tbody; the empty message lives in tfoot. */
  function renderRows(table, items, rowFn) {
    const tbody = table.tBodies[0];
    const frag = document.createDocumentFragment();
    for (const item of items) frag.appendChild(rowFn(isObj(item) ? item : {}));
    tbody.replaceChildren(frag);
    if (table.tFoot) table.tFoot.hidden = items.length > 0;
  }

  const td = (text, cls) => el('td', cls ? { className: cls } : null, text);

  // ---------------------------------------------------------------- errors

  const errors = new Map(); // source -> message

  function setError(source, message) {
    if (message) errors.set(source, message);
    else errors.delete(source);
    const box = $('errors');
    const frag = document.createDocumentFragment();
    for (const [src, msg] of errors) {
      frag.appendChild(el('div', { className: 'error-line' }, `${src}: ${msg}`));
    }
    box.replaceChildren(frag);
  }

  // ---------------------------------------------------------------- HTTP

  class HttpError extends Error {
    constructor(status, message, serverMessage = '') {
      super(message);
      this.status = status;
      this.serverMessage = serverMessage;
    }
  }

  async function readError(res) {
    let msg = '';
    try {
      const body = await res.json();
      if (isObj(body) && typeof body.error === 'string') msg = body.error;
    } catch (_) { /* not JSON */ }
    return msg;
  }

  async function request(method, path, { body, token } = {}) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), FETCH_TIMEOUT_MS);
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    let res;
    try {
      res = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'same-origin',
        signal: ctl.signal,
      });
    } catch (e) {
      throw new HttpError(0, e && e.name === 'AbortError' ? 'request timed out' : 'network error');
    } finally {
      clearTimeout(timer);
    }
    if (!res.ok) {
      const msg = await readError(res);
      throw new HttpError(res.status, `HTTP ${res.status}${msg ? ` — ${msg}` : ''}`, msg);
    }
    let data;
    try {
      data = await res.json();
    } catch (_) {
      throw new HttpError(res.status, 'invalid JSON in response');
    }
    if (!isObj(data)) throw new HttpError(res.status, 'unexpected response shape');
    return data;
  }

  const getJSON = (path) => request('GET', path);

  // ---------------------------------------------------------------- charts

  const charts = new Map(); // svg id -> { points, opts, hoverX }

  function niceStep(range, target) {
    const raw = range / Math.max(1, target);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const norm = raw / mag;
    const mult = norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10;
    return mult * mag;
  }

  /** Decimals needed to print every multiple of step exactly (2.5 -> 1, 0.05 -> 2). */
  function decimalsFor(step) {
    for (let d = 0; d < 8; d++) {
      const scaled = step * Math.pow(10, d);
      if (Math.abs(scaled - Math.round(scaled)) < 1e-6 * Math.max(1, scaled)) return d;
    }
    return 8;
  }

  const TIME_STEPS = [
    1e3, 2e3, 5e3, 10e3, 15e3, 30e3,
    60e3, 2 * 60e3, 5 * 60e3, 10 * 60e3, 15 * 60e3, 30 * 60e3,
    3600e3, 2 * 3600e3, 3 * 3600e3, 6 * 3600e3, 12 * 3600e3,
    86400e3, 2 * 86400e3, 7 * 86400e3, 14 * 86400e3, 30 * 86400e3, 90 * 86400e3, 365 * 86400e3,
  ];

  function timeTicks(t0, t1, maxTicks) {
    const span = Math.max(1, t1 - t0);
    const step = TIME_STEPS.find((s) => span / s <= maxTicks) || TIME_STEPS[TIME_STEPS.length - 1];
    // Align ticks to the local clock (e.g. whole hours in local time).
    const off = -new Date(t0).getTimezoneOffset() * 60e3;
    const ticks = [];
    for (let t = Math.ceil((t0 + off) / step) * step - off; t <= t1; t += step) ticks.push(t);
    const withSeconds = step < 60e3;
    const withDate = step >= 86400e3 || new Date(t0).toDateString() !== new Date(t1).toDateString();
    const label = (t) => {
      const d = new Date(t);
      const clock = withSeconds ? fmtClock(t) : `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
      if (step >= 86400e3) return `${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
      return withDate ? `${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${clock}` : clock;
    };
    return { ticks, label };
  }

  /**
   * Draw a time-series chart into an <svg>.
   * points: [{ t: ms, v: number (NaN = gap), raw: display string }]
   * opts: { kind: 'line' | 'area', yTitle, yFmt(v, decimals), invert: bool, empty: string }
   */
  function drawChart(svg, points, opts) {
    charts.set(svg.id, { points, opts, hoverX: charts.get(svg.id)?.hoverX ?? null });
    svg.setAttribute('data-points', String(points.length));
    const rect = svg.getBoundingClientRect();
    const W = Math.max(320, Math.round(rect.width) || 800);
    const H = Math.max(100, Math.round(rect.height) || 200);
    svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    svg.setAttribute('width', String(W));
    svg.setAttribute('height', String(H));

    const M = { l: 68, r: 14, t: 10, b: 36 };
    const pw = W - M.l - M.r;
    const ph = H - M.t - M.b;
    const nodes = [];

    const finite = points.filter((p) => isTs(p.t) && Number.isFinite(p.v));
    if (finite.length === 0) {
      nodes.push(svgEl('rect', { x: M.l, y: M.t, width: pw, height: ph, class: 'plot-bg' }));
      nodes.push(svgEl('text', { x: M.l + pw / 2, y: M.t + ph / 2, class: 'chart-empty', 'text-anchor': 'middle' },
        points.length ? 'no drawable values' : (opts.empty || 'no data yet')));
      svg.replaceChildren(...nodes);
      return;
    }

    let t0 = Infinity, t1 = -Infinity, v0 = Infinity, v1 = -Infinity;
    for (const p of finite) {
      if (p.t < t0) t0 = p.t;
      if (p.t > t1) t1 = p.t;
      if (p.v < v0) v0 = p.v;
      if (p.v > v1) v1 = p.v;
    }
    if (t1 - t0 < 1000) { t0 -= 30e3; t1 += 30e3; }
    if (opts.zeroBased) { v0 = Math.min(0, v0); v1 = Math.max(v1, opts.minTop || 1); }
    if (v1 - v0 < 1e-9) {
      const pad = Math.abs(v0) * 0.01 || 1;
      v0 -= pad; v1 += pad;
    } else if (!opts.zeroBased) {
      const pad = (v1 - v0) * 0.06;
      v0 -= pad; v1 += pad;
    } else {
      v1 += (v1 - v0) * 0.08;
    }
    const yTarget = Math.max(2, Math.min(6, Math.floor(ph / 36)));
    const ystep = niceStep(v1 - v0, yTarget);
    if (!opts.zeroBased) v0 = Math.floor(v0 / ystep) * ystep;
    v1 = Math.ceil(v1 / ystep) * ystep;
    const dec = decimalsFor(ystep);

    const x = (t) => M.l + ((t - t0) / (t1 - t0)) * pw;
    const y = opts.invert
      ? (v) => M.t + ((v - v0) / (v1 - v0)) * ph
      : (v) => M.t + ph - ((v - v0) / (v1 - v0)) * ph;

    nodes.push(svgEl('rect', { x: M.l, y: M.t, width: pw, height: ph, class: 'plot-bg' }));

    // Y grid and labels.
    const grid = svgEl('g', { class: 'grid' });
    const ylabels = svgEl('g', { class: 'tick-label', 'text-anchor': 'end' });
    for (let v = v0, i = 0; v <= v1 + ystep * 1e-6 && i < 50; v += ystep, i++) {
      const yy = Math.round(y(v)) + 0.5;
      grid.appendChild(svgEl('line', { x1: M.l, x2: M.l + pw, y1: yy, y2: yy }));
      ylabels.appendChild(svgEl('text', { x: M.l - 8, y: yy + 4 }, opts.yFmt(v, dec)));
    }
    // X grid and labels.
    const xlabels = svgEl('g', { class: 'tick-label', 'text-anchor': 'middle' });
    const { ticks, label } = timeTicks(t0, t1, Math.max(2, Math.floor(pw / 110)));
    for (const t of ticks) {
      const xx = Math.round(x(t)) + 0.5;
      grid.appendChild(svgEl('line', { x1: xx, x2: xx, y1: M.t, y2: M.t + ph }));
      xlabels.appendChild(svgEl('text', { x: xx, y: M.t + ph + 16 }, label(t)));
    }
    nodes.push(grid, ylabels, xlabels);

    // Axes and titles.
    nodes.push(svgEl('line', { class: 'axis', x1: M.l + 0.5, x2: M.l + 0.5, y1: M.t, y2: M.t + ph }));
    nodes.push(svgEl('line', { class: 'axis', x1: M.l, x2: M.l + pw, y1: M.t + ph + 0.5, y2: M.t + ph + 0.5 }));
    nodes.push(svgEl('text', {
      class: 'axis-title', 'text-anchor': 'middle',
      transform: `translate(14 ${M.t + ph / 2}) rotate(-90)`,
    }, opts.yTitle));
    nodes.push(svgEl('text', { class: 'axis-title', 'text-anchor': 'end', x: M.l + pw, y: H - 3 }, 'local time'));

    // Series: one path segment per run of finite values.
    let d = '';
    const segments = [];
    let seg = [];
    for (const p of points) {
      if (isTs(p.t) && Number.isFinite(p.v)) seg.push(p);
      else if (seg.length) { segments.push(seg); seg = []; }
    }
    if (seg.length) segments.push(seg);
    const base = opts.invert ? M.t : M.t + ph;
    let area = '';
    for (const s of segments) {
      d += s.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)} ${y(p.v).toFixed(1)}`).join('');
      if (opts.kind === 'area') {
        const y0 = opts.zeroBased ? y(0) : base;
        area += `M${x(s[0].t).toFixed(1)} ${y0.toFixed(1)}`
          + s.map((p) => `L${x(p.t).toFixed(1)} ${y(p.v).toFixed(1)}`).join('')
          + `L${x(s[s.length - 1].t).toFixed(1)} ${y0.toFixed(1)}Z`;
      }
    }
    if (area) nodes.push(svgEl('path', { class: 'series-area', d: area }));
    nodes.push(svgEl('path', { class: `series-line ${opts.lineClass || ''}`, d }));
    for (const s of segments) {
      if (s.length === 1) nodes.push(svgEl('circle', { class: 'series-dot', cx: x(s[0].t), cy: y(s[0].v), r: 3 }));
    }
    const lastP = finite[finite.length - 1];
    nodes.push(svgEl('circle', { class: 'series-last', cx: x(lastP.t), cy: y(lastP.v), r: 3.5 }));

    // Hover layer.
    const hover = svgEl('g', { class: 'hover', visibility: 'hidden' });
    const hLine = svgEl('line', { y1: M.t, y2: M.t + ph });
    const hDot = svgEl('circle', { r: 4 });
    const hBox = svgEl('rect', { rx: 3, height: 34 });
    const hT1 = svgEl('text', { class: 'hover-value' });
    const hT2 = svgEl('text', { class: 'hover-time' });
    hover.append(hLine, hDot, hBox, hT1, hT2);
    nodes.push(hover);
    const capture = svgEl('rect', { x: M.l, y: M.t, width: pw, height: ph, fill: 'transparent', class: 'capture' });
    nodes.push(capture);
    svg.replaceChildren(...nodes);

    const showAt = (px) => {
      const tt = t0 + ((px - M.l) / pw) * (t1 - t0);
      let lo = 0, hi = finite.length - 1;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (finite[mid].t < tt) lo = mid; else hi = mid;
      }
      const p = Math.abs(finite[lo].t - tt) <= Math.abs(finite[hi].t - tt) ? finite[lo] : finite[hi];
      const px2 = x(p.t), py2 = y(p.v);
      hLine.setAttribute('x1', px2); hLine.setAttribute('x2', px2);
      hDot.setAttribute('cx', px2); hDot.setAttribute('cy', py2);
      hT1.textContent = p.raw;
      hT2.textContent = fmtTime(p.t);
      const bw = Math.max(hT1.getComputedTextLength?.() || 80, hT2.getComputedTextLength?.() || 120) + 16;
      const bx = px2 + 10 + bw > M.l + pw ? px2 - 10 - bw : px2 + 10;
      const by = M.t + 4;
      hBox.setAttribute('x', bx); hBox.setAttribute('y', by); hBox.setAttribute('width', bw);
      hT1.setAttribute('x', bx + 8); hT1.setAttribute('y', by + 14);
      hT2.setAttribute('x', bx + 8); hT2.setAttribute('y', by + 28);
      hover.setAttribute('visibility', 'visible');
    };
    const toLocal = (ev) => {
      const r = svg.getBoundingClientRect();
      return ((ev.clientX - r.left) / r.width) * W;
    };
    capture.addEventListener('mousemove', (ev) => {
      const px = toLocal(ev);
      charts.get(svg.id).hoverX = px;
      showAt(px);
    });
    capture.addEventListener('mouseleave', () => {
      charts.get(svg.id).hoverX = null;
      hover.setAttribute('visibility', 'hidden');
    });
    const prev = charts.get(svg.id).hoverX;
    if (prev !== null && prev >= M.l && prev <= M.l + pw) showAt(prev);
  }

  function redrawCharts() {
    for (const [id, c] of charts) {
      const svg = $(id);
      if (svg) drawChart(svg, c.points, c.opts);
    }
  }

  const EQUITY_OPTS = {
    kind: 'line', yTitle: 'equity (USDT)', lineClass: 'line-equity',
    yFmt: (v, dec) => v.toFixed(Math.min(dec, 6)),
  };
  const DRAWDOWN_OPTS = {
    kind: 'area', yTitle: 'drawdown (%)', invert: true, zeroBased: true, minTop: 1, lineClass: 'line-drawdown',
    yFmt: (v, dec) => `${v.toFixed(Math.min(dec, 3))}%`,
  };

  // ---------------------------------------------------------------- renderers

  function renderStatus(s) {
    setText('bot-id', show(s.bot_id));
    const mode = s.mode;
    setBadge('mode', show(mode), mode === 'live' ? 'warn' : mode === 'paper' ? 'info' : 'neutral');
    const state = s.state;
    setBadge('state', show(state), state === 'trading' ? 'ok' : state === 'stopped' ? 'warn' : state === 'not_running' ? 'bad' : 'neutral');

    const ks = isObj(s.kill_switch) ? s.kill_switch : null;
    const engaged = ks ? ks.engaged === true : null;
    if (engaged === null || typeof ks.engaged !== 'boolean') setBadge('kill-switch-state', DASH, 'neutral');
    else setBadge('kill-switch-state', engaged ? 'ENGAGED' : 'off', engaged ? 'bad' : 'ok');
    const ksButton = $('kill-switch-button');
    ksButton.disabled = !ks || typeof ks.engaged !== 'boolean';
    ksButton.textContent = engaged ? 'Reset kill switch' : 'Engage kill switch';
    ksButton.dataset.action = engaged ? 'reset' : 'engage';
    ksButton.className = engaged ? 'btn' : 'btn btn-danger';

    const banner = $('kill-switch-banner');
    if (engaged) {
      const parts = [`Kill switch ENGAGED`];
      parts.push(`by ${show(ks.source)}`);
      if (isTs(ks.changed_at_ms)) parts.push(`at ${fmtTime(ks.changed_at_ms)}`);
      parts.push(`— reason: ${show(ks.reason)}`);
      if (ks.close_positions === true) parts.push('· closing positions');
      banner.textContent = parts.join(' ');
      banner.hidden = false;
    } else {
      banner.hidden = true;
      banner.textContent = '';
    }

    const paused = typeof s.entries_paused === 'boolean' ? s.entries_paused : null;
    if (paused === null) setBadge('entries-state', DASH, 'neutral');
    else setBadge('entries-state', paused ? 'PAUSED' : 'open', paused ? 'warn' : 'ok');
    const enButton = $('entries-button');
    enButton.disabled = paused === null;
    enButton.textContent = paused ? 'Start entries' : 'Stop entries';
    enButton.dataset.action = paused ? 'start' : 'stop';

    const now = Date.now();
    const hbEl = $('heartbeat');
    if (isTs(s.heartbeat_ms)) {
      const age = now - s.heartbeat_ms;
      hbEl.textContent = `${fmtAge(Math.max(0, age))} ago`;
      hbEl.title = fmtTime(s.heartbeat_ms);
      hbEl.className = `mono ${age > 30000 ? 'neg' : age > 10000 ? 'warn-text' : ''}`;
    } else {
      hbEl.textContent = DASH;
      hbEl.title = '';
      hbEl.className = 'mono';
    }

    // KPIs
    setText('kpi-equity', show(s.equity));
    setText('kpi-cash', show(s.cash));
    setText('kpi-orders', show(s.working_orders));
    setText('kpi-uptime', isTs(s.started_at_ms) ? fmtDuration(now - s.started_at_ms) : DASH);
    const risk = isObj(s.risk) ? s.risk : {};
    const daily = $('kpi-daily');
    daily.textContent = fmtSignedPct(risk.daily_pnl_pct);
    daily.className = `kpi-value mono ${signClass(risk.daily_pnl_pct)}`;
    const dd = $('kpi-drawdown');
    dd.textContent = fmtPct(risk.drawdown_pct);
    dd.className = `kpi-value mono ${num(risk.drawdown_pct) > 0 ? 'neg' : ''}`;

    renderStrategy(isObj(s.strategy) ? s.strategy : {});
    renderRisk(risk, isObj(s.strategy) ? s.strategy : {}, now);
    renderPairs(isObj(s.pairs) ? s.pairs : {});

    const engine = [];
    engine.push(['running', s.running]);
    engine.push(['started_at_ms', s.started_at_ms]);
    engine.push(['heartbeat_ms', s.heartbeat_ms]);
    for (const [k, v] of flatten(isObj(s.stats) ? s.stats : {}, 'stats')) engine.push([k, v]);
    for (const [k, v] of flatten(isObj(s.latency) ? s.latency : {}, 'latency')) engine.push([k, v]);
    if (isObj(s.reconciliation)) {
      for (const [k, v] of flatten(s.reconciliation, 'reconciliation')) engine.push([k, v]);
    } else {
      engine.push(['reconciliation', s.reconciliation]);
    }
    renderKv($('engine'), engine);
  }

  function renderStrategy(st) {
    setText('strategy-name', st.strategy === undefined ? '' : show(st.strategy));
    setText('phase-number', st.phase === undefined || st.phase === null ? DASH : `Phase ${show(st.phase)}`);
    setText('phase-name', show(st.phase_name));
    const pct = num(st.progress_pct);
    const fill = $('progress-fill');
    const clamped = Number.isFinite(pct) ? Math.max(0, Math.min(100, pct)) : 0;
    fill.style.width = `${clamped}%`;
    fill.classList.toggle('done', st.target_reached === true);
    const bar = fill.parentElement;
    bar.setAttribute('aria-valuenow', String(clamped));
    setText('progress-equity', show(st.equity));
    setText('progress-target', show(st.target));
    setText('progress-pct', Number.isFinite(pct) ? `${pct.toFixed(2)}%${st.target_reached === true ? ' · target reached' : ''}` : DASH);
    const rows = [];
    const known = ['start_equity', 'risk_per_trade', 'max_trades_per_day', 'max_open_positions', 'min_confidence'];
    const skip = new Set(['strategy', 'phase', 'phase_name', 'equity', 'target', 'progress_pct', 'target_reached']);
    for (const k of known) if (k in st) rows.push([k, st[k]]);
    for (const [k, v] of flatten(st)) if (!skip.has(k) && !known.includes(k)) rows.push([k, v]);
    const tbl = $('strategy-params');
    if (Object.keys(st).length === 0) {
      tbl.tBodies[0].replaceChildren(el('tr', null, el('td', { className: 'empty', colspan: 2 }, 'no strategy status')));
    } else {
      renderKv(tbl, rows);
    }
  }

  function meter(fillId, used, limit) {
    const fill = $(fillId);
    const u = num(used), l = num(limit);
    if (!Number.isFinite(u) || !Number.isFinite(l) || l <= 0) {
      fill.style.width = '0%';
      fill.className = 'meter-fill';
      return;
    }
    const frac = Math.max(0, Math.min(1, u / l));
    fill.style.width = `${(frac * 100).toFixed(1)}%`;
    fill.className = `meter-fill ${frac >= 0.8 ? 'bad' : frac >= 0.5 ? 'warn' : 'ok'}`;
  }

  function fmtUntil(ms, now) {
    if (ms === undefined) return DASH;
    if (ms === null) return 'none';
    if (!isTs(ms)) return DASH;
    const left = ms - now;
    const when = new Date(ms).toDateString() === new Date(now).toDateString() ? fmtClock(ms) : fmtTime(ms);
    return left > 0 ? `${when} (in ${fmtDuration(left)})` : `${when} (passed)`;
  }

  function setUntil(id, ms, now) {
    const node = $(id);
    node.textContent = fmtUntil(ms, now);
    node.title = isTs(ms) ? fmtTime(ms) : '';
    node.className = `mono ${isTs(ms) && ms > now ? 'warn-text' : ''}`;
  }

  function renderRisk(r, st, now) {
    const daily = $('risk-daily');
    daily.textContent = fmtSignedPct(r.daily_pnl_pct);
    daily.className = signClass(r.daily_pnl_pct);
    setText('risk-daily-limit', Number.isFinite(num(r.daily_loss_limit_pct)) ? `−${fmtPct(r.daily_loss_limit_pct)}` : DASH);
    meter('risk-daily-fill', -num(r.daily_pnl_pct), r.daily_loss_limit_pct);
    setText('risk-drawdown', fmtPct(r.drawdown_pct));
    setText('risk-drawdown-limit', fmtPct(r.drawdown_limit_pct));
    meter('risk-drawdown-fill', r.drawdown_pct, r.drawdown_limit_pct);
    $('risk-blocked').hidden = r.daily_loss_blocked !== true;
    if (r.daily_loss_blocked === true) $('risk-blocked').className = 'badge badge-bad';

    setUntil('risk-dd-cooldown', r.drawdown_cooldown_until_ms, now);
    setUntil('risk-loss-pause', r.loss_pause_until_ms, now);
    setText('risk-streak', show(r.consecutive_losses));
    const maxDay = st.max_trades_per_day;
    setText('risk-entries', `${show(r.entries_today)}${typeof maxDay === 'number' ? ` / ${maxDay}` : ''}`);
    setText('risk-peak', show(r.peak_equity));
    setText('risk-day-start', show(r.day_start_equity));
  }

  function renderPairs(pairs) {
    const items = Object.entries(pairs).map(([pair, p]) => ({ pair, ...(isObj(p) ? p : {}) }));
    renderRows($('pairs-table'), items, (p) => el('tr', null,
      td(show(p.pair)),
      td(show(p.last_price), 'num mono'),
      td(fmtAge(p.data_age_ms), `num mono ${typeof p.data_age_ms === 'number' && p.data_age_ms > 120000 ? 'warn-text' : ''}`),
      td(show(p.position), 'num mono'),
      td(fmtShortTime(p.last_closed_ms), 'mono'),
    ));
    setText('pairs-count', items.length ? `${items.length}` : '');
  }

  function renderEquity(data) {
    const pts = Array.isArray(data.points) ? data.points : [];
    const eq = [], dd = [];
    for (const raw of pts) {
      const p = isObj(raw) ? raw : {};
      eq.push({ t: p.ts_ms, v: num(p.equity), raw: `${show(p.equity)} USDT` });
      dd.push({ t: p.ts_ms, v: num(p.drawdown_pct), raw: `drawdown ${fmtPct(p.drawdown_pct, 3)}` });
    }
    drawChart($('equity-chart'), eq, EQUITY_OPTS);
    drawChart($('drawdown-chart'), dd, DRAWDOWN_OPTS);
    const lastP = isObj(pts[pts.length - 1]) ? pts[pts.length - 1] : null;
    const firstP = isObj(pts[0]) ? pts[0] : null;
    if (lastP) {
      setText('equity-summary', `${pts.length} point${pts.length === 1 ? '' : 's'} · last ${show(lastP.equity)} USDT${firstP && isTs(firstP.ts_ms) ? ` · since ${fmtTime(firstP.ts_ms)}` : ''}`);
      let maxDd = NaN;
      for (const p of dd) if (Number.isFinite(p.v) && !(p.v <= maxDd)) maxDd = p.v;
      setText('drawdown-summary', `now ${fmtPct(lastP.drawdown_pct)} · max ${fmtPct(maxDd)}`);
    } else {
      setText('equity-summary', 'no points');
      setText('drawdown-summary', '');
    }
  }

  function renderPositions(data) {
    const items = Array.isArray(data.items) ? data.items : [];
    renderRows($('positions-table'), items, (p) => el('tr', null,
      td(show(p.pair)),
      td(show(p.quantity), 'num mono'),
      td(show(p.avg_entry_price), 'num mono'),
      td(show(p.last_price), 'num mono'),
      td(show(p.unrealized_pnl), `num mono ${signClass(p.unrealized_pnl)}`),
      td(fmtShortTime(p.opened_at_ms), 'mono'),
    ));
    setText('positions-count', items.length ? `${items.length} open` : '');
  }

  function renderTrades(data) {
    const all = Array.isArray(data.items) ? data.items : [];
    const items = all.slice(0, MAX_TRADES);
    renderRows($('trades-table'), items, (t) => el('tr', null,
      td(show(t.pair)),
      td(fmtShortTime(t.entry_time_ms), 'mono'),
      td(show(t.entry_price), 'num mono'),
      td(fmtShortTime(t.exit_time_ms), 'mono'),
      td(show(t.exit_price), 'num mono'),
      td(show(t.qty), 'num mono'),
      td(show(t.pnl), `num mono ${signClass(t.pnl)}`),
      td(show(t.fees), 'num mono'),
      td(show(t.exit_reason)),
    ));
    const total = typeof data.total === 'number' ? data.total : null;
    setText('trades-count', total !== null ? `newest ${items.length} of ${total}` : `${items.length} shown`);
  }

  function renderOrders(data) {
    const items = Array.isArray(data.items) ? data.items : [];
    renderRows($('orders-table'), items, (o) => el('tr', null,
      td(show(o.client_order_id), 'mono'),
      td(show(o.pair)),
      td(show(o.side), o.side === 'buy' ? 'pos' : o.side === 'sell' ? 'neg' : ''),
      td(show(o.order_type)),
      td(show(o.status)),
      td(show(o.price), 'num mono'),
      td(show(o.quantity), 'num mono'),
      td(show(o.filled_qty), 'num mono'),
      td(fmtShortTime(o.created_at_ms), 'mono'),
      td(fmtShortTime(o.updated_at_ms), 'mono'),
    ));
    const total = typeof data.total === 'number' ? data.total : null;
    setText('orders-count', total !== null && total > items.length ? `${items.length} of ${total}` : items.length ? `${items.length}` : '');
  }

  function renderStore(data) {
    setText('store-backend', show(data.backend));
    setText('store-target', show(data.target));
    setText('store-schema', show(data.schema_version));
    setText('sqlalchemy', show(data.sqlalchemy));
    renderKv($('pool'), flatten(isObj(data.pool) ? data.pool : {}));
    renderKv($('writer'), flatten(isObj(data.writer) ? data.writer : {}));
  }

  // ---------------------------------------------------------------- refresh loop

  const SOURCES = [
    ['status', '/api/status', renderStatus],
    ['equity', '/api/equity', renderEquity],
    ['positions', '/api/positions', renderPositions],
    ['trades', `/api/trades?limit=${MAX_TRADES}&offset=0`, renderTrades],
    ['orders', '/api/orders?open=true', renderOrders],
    ['store', '/api/store', renderStore],
  ];

  let timer = null;
  let inFlight = false;
  let again = false;
  let lastOk = null;

  async function refreshOnce() {
    const results = await Promise.allSettled(SOURCES.map(([, path]) => getJSON(path)));
    let ok = 0;
    results.forEach((res, i) => {
      const [name, , render] = SOURCES[i];
      if (res.status === 'fulfilled') {
        try {
          render(res.value);
          setError(name, null);
          ok += 1;
        } catch (e) {
          setError(name, `could not render: ${e && e.message ? e.message : String(e)}`);
          console.error(e);
        }
      } else {
        const e = res.reason;
        setError(name, `GET ${SOURCES[i][1]} failed: ${e && e.message ? e.message : String(e)}`);
      }
    });
    const lu = $('last-update');
    if (ok > 0) {
      lastOk = Date.now();
      const failed = SOURCES.length - ok;
      lu.textContent = `Last update ${fmtClock(lastOk)}${failed ? ` (${failed} of ${SOURCES.length} requests failed)` : ''}`;
      lu.className = failed ? 'warn-text' : 'muted';
      lu.title = fmtTime(lastOk);
    } else {
      lu.textContent = lastOk ? `Last update ${fmtClock(lastOk)} — stale` : 'not updated yet';
      lu.className = 'neg';
    }
  }

  async function refresh() {
    if (timer) { clearTimeout(timer); timer = null; }
    if (inFlight) { again = true; return; }
    inFlight = true;
    try {
      await refreshOnce();
    } catch (e) {
      setError('dashboard', e && e.message ? e.message : String(e));
    } finally {
      inFlight = false;
      if (again) { again = false; refresh(); } else { timer = setTimeout(refresh, REFRESH_MS); }
    }
  }

  // ---------------------------------------------------------------- mutations (token modal)

  const ACTIONS = {
    engage: {
      title: 'Engage kill switch',
      text: 'Stops all new trading immediately. Open positions are kept unless you tick the box below.',
      path: '/api/kill-switch/engage', confirm: 'Engage', danger: true, engageFields: true,
    },
    reset: {
      title: 'Reset kill switch',
      text: 'Allows the bot to trade again.',
      path: '/api/kill-switch/reset', confirm: 'Reset', danger: false, engageFields: false,
    },
    stop: {
      title: 'Stop entries',
      text: 'No new positions are opened; open positions are still managed and may exit.',
      path: '/api/entries/stop', confirm: 'Stop entries', danger: false, engageFields: false,
    },
    start: {
      title: 'Start entries',
      text: 'Allows the bot to open new positions again.',
      path: '/api/entries/start', confirm: 'Start entries', danger: false, engageFields: false,
    },
  };

  let modalAction = null;
  let modalBusy = false;
  let modalOpener = null;

  function readToken() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch (_) { return ''; }
  }

  function storeToken(t) {
    try { sessionStorage.setItem(TOKEN_KEY, t); } catch (_) { /* storage disabled */ }
  }

  function forgetToken() {
    try { sessionStorage.removeItem(TOKEN_KEY); } catch (_) { /* storage disabled */ }
  }

  function openModal(action, opener) {
    const a = ACTIONS[action];
    if (!a) return;
    modalAction = action;
    modalOpener = opener || null;
    setText('modal-title', a.title);
    setText('modal-text', a.text);
    $('reason-row').hidden = !a.engageFields;
    $('close-positions-row').hidden = !a.engageFields;
    $('reason-input').value = '';
    $('close-positions-input').checked = false;
    const submit = $('token-submit');
    submit.textContent = a.confirm;
    submit.className = `btn ${a.danger ? 'btn-danger' : 'btn-primary'}`;
    submit.disabled = false;
    setText('token-error', '');
    const tok = $('token-input');
    tok.value = readToken();
    $('modal').hidden = false;
    (tok.value && a.engageFields ? $('reason-input') : tok).focus();
  }

  function closeModal() {
    $('modal').hidden = true;
    modalAction = null;
    modalBusy = false;
    $('token-submit').disabled = false;
    if (modalOpener) modalOpener.focus();
  }

  async function submitModal(ev) {
    if (ev) ev.preventDefault();
    if (!modalAction || modalBusy) return;
    const a = ACTIONS[modalAction];
    const token = $('token-input').value.trim();
    const errBox = $('token-error');
    if (!token) {
      errBox.textContent = 'wrong or missing token';
      $('token-input').focus();
      return;
    }
    const body = a.engageFields
      ? { reason: $('reason-input').value.trim() || 'engaged from dashboard', close_positions: $('close-positions-input').checked }
      : {};
    modalBusy = true;
    $('token-submit').disabled = true;
    errBox.textContent = '';
    try {
      await request('POST', a.path, { body, token });
      storeToken(token);
      closeModal();
      refresh();
    } catch (e) {
      modalBusy = false;
      $('token-submit').disabled = false;
      const status = e instanceof HttpError ? e.status : 0;
      if (status === 401) {
        forgetToken();
        errBox.textContent = 'wrong or missing token';
        const tok = $('token-input');
        tok.focus();
        tok.select();
      } else if (status === 403) {
        errBox.textContent = e.serverMessage || 'forbidden: mutating endpoints are disabled';
      } else {
        errBox.textContent = e && e.message ? e.message : 'request failed';
      }
    }
  }

  // ---------------------------------------------------------------- wiring

  function init() {
    setText('refresh-interval', String(REFRESH_MS));
    $('kill-switch-button').addEventListener('click', (ev) => {
      openModal(ev.currentTarget.dataset.action === 'reset' ? 'reset' : 'engage', ev.currentTarget);
    });
    $('entries-button').addEventListener('click', (ev) => {
      openModal(ev.currentTarget.dataset.action === 'start' ? 'start' : 'stop', ev.currentTarget);
    });
    $('modal-form').addEventListener('submit', submitModal);
    $('token-cancel').addEventListener('click', closeModal);
    $('modal').addEventListener('mousedown', (ev) => {
      if (ev.target === ev.currentTarget && !modalBusy) closeModal();
    });
    document.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && !$('modal').hidden && !modalBusy) closeModal();
    });
    let resizeTimer = null;
    window.addEventListener('resize', () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(redrawCharts, 150);
    });
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) refresh();
    });
    // Initial empty charts so the layout is stable before the first answer.
    drawChart($('equity-chart'), [], EQUITY_OPTS);
    drawChart($('drawdown-chart'), [], DRAWDOWN_OPTS);
    refresh();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
