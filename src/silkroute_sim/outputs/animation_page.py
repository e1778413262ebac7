"""The markup, style and script of the animation page (:mod:`.animation` builds its data).

One file with everything inline: the data as JSON in a ``<script type="application/json">``
element, the map as SVG, no image, font, style sheet or script from anywhere else, so the
page opens from disk with no server and makes no network request. The script draws the
trains on the map at the slider's hour, interpolating each train's schedule; play, pause,
speed and the slider move that hour.
"""

from __future__ import annotations

import html
import json
from typing import Any

STYLE = """
:root { --ink: #1d2b3a; --muted: #5a6b7d; --line: #d5dde6; --bg: #f7f9fb; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; margin: 0;
  color: var(--ink); background: #fff; line-height: 1.45; }
main { max-width: 1200px; margin: 0 auto; padding: 0.8rem 1rem 2rem; }
h1 { font-size: 1.35rem; margin: 0.3rem 0; overflow-wrap: anywhere; }
h2 { font-size: 1rem; margin: 0.8rem 0 0.3rem; }
p.note, footer, .sub { color: var(--muted); font-size: 0.85rem; }
p.missing { background: #fff4e0; border-left: 4px solid #E69F00; padding: 0.4rem 0.6rem; }
.controls { display: flex; flex-wrap: wrap; gap: 0.5rem 0.8rem; align-items: center;
  position: sticky; top: 0; background: #fff; padding: 0.5rem 0; z-index: 2;
  border-bottom: 1px solid var(--line); }
.controls button { font: inherit; padding: 0.3rem 0.9rem; min-width: 5.5rem;
  border: 1px solid #0072B2; background: #0072B2; color: #fff; border-radius: 4px; }
.controls input[type=range] { flex: 1 1 14rem; min-width: 10rem; }
.controls label { font-size: 0.9rem; }
#clock { font-variant-numeric: tabular-nums; font-weight: 600; min-width: 13rem; }
.stage { display: flex; flex-wrap: wrap; gap: 1rem; margin-top: 0.6rem;
  align-items: flex-start; }
.mapbox { flex: 1 1 100%; min-width: 0; overflow-x: auto; border: 1px solid var(--line);
  border-radius: 4px; background: #eef4f8; }
.mapbox svg { display: block; width: 100%; min-width: 600px; height: auto; }
.panel { flex: 1 1 100%; display: flex; flex-wrap: wrap; gap: 0 2rem; font-size: 0.9rem; }
.panel > div { flex: 1 1 17rem; min-width: 0; }
.panel table { border-collapse: collapse; width: 100%; }
.panel td, .panel th { padding: 0.15rem 0.3rem; border-bottom: 1px solid var(--line);
  text-align: left; }
.panel td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.gauge { height: 0.8rem; background: #e6ecf1; border-radius: 3px; overflow: hidden; }
.gauge > div { height: 100%; background: #009E73; width: 0; }
.timeline svg { display: block; width: 100%; height: auto; cursor: pointer; }
.legend { display: flex; flex-wrap: wrap; gap: 0.3rem 1rem; font-size: 0.85rem;
  padding: 0; list-style: none; }
.legend li { display: flex; align-items: center; gap: 0.35rem; }
.swatch { width: 0.8rem; height: 0.8rem; border-radius: 50%; display: inline-block; }
.bar-swatch { width: 0.45rem; height: 0.9rem; display: inline-block; background: #D55E00; }
svg text { font-family: system-ui, sans-serif; }
.land { fill: #fbfaf6; stroke: #b9c2cb; stroke-width: 0.6; vector-effect: non-scaling-stroke; }
.edge { stroke: #8796a5; stroke-width: 1.6; fill: none; vector-effect: non-scaling-stroke; }
.zoombox svg { display: block; width: 100%; height: auto; border: 1px solid var(--line);
  border-radius: 4px; background: #eef4f8; }
.node { stroke: #1d2b3a; stroke-width: 0.8; }
.label { font-size: 11px; fill: #1d2b3a; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
.label.junction { font-size: 9.5px; fill: #5a6b7d; }
.qbar { fill: #D55E00; }
.disrupted { fill: none; stroke: #CC79A7; stroke-width: 3; stroke-dasharray: 5 3; }
.qtext { font-size: 10px; font-weight: 600; fill: #D55E00; paint-order: stroke; stroke: #fff;
  stroke-width: 2.5px; }
.train { stroke: #fff; stroke-width: 0.8; }
"""

SCRIPT = r"""
(function () {
  "use strict";
  const D = JSON.parse(document.getElementById("data").textContent);
  const SVGNS = "http://www.w3.org/2000/svg";
  const MONTHS = ["Jan","Feb","Mar","Apr","May","Jun","Jul","Aug","Sep","Oct","Nov","Dec"];
  const nodes = D.map.nodes;
  const el = (id) => document.getElementById(id);
  const svgEl = (tag, attrs, parent) => {
    const e = document.createElementNS(SVGNS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  };
  const fmt = (v, d) => v.toLocaleString("en-GB", {maximumFractionDigits: d || 0});

  // ----------------------------------------------------------------- the maps (views)
  // the corridor map, and where nodes crowd, a zoom on them: each view draws the same
  // nodes, trains and queues in its own coordinates (the zoom's land and lines are the
  // corridor map's, reused and scaled)
  const RADIUS = {hub: 7, border: 5, terminal: 5, junction: 3};
  const FILL = {hub: "#0072B2", border: "#ffffff", terminal: "#1d2b3a", junction: "#8796a5"};
  const ANCHOR = {e: ["start", 7, 4], w: ["end", -7, 4], n: ["middle", 0, -8],
    s: ["middle", 0, 15], ne: ["start", 5, -6], nw: ["end", -5, -6], se: ["start", 5, 13],
    sw: ["end", -5, 13]};
  function makeView(svg, prefix, spec) {
    const L = {};
    for (const name of ["land", "edges", "queues", "trains", "nodes", "labels", "hub"]) {
      L[name] = svgEl("g", {id: prefix + name}, svg);
    }
    const view = {L: L, pool: [], qbars: {}, hubBar: null, w: spec.width, h: spec.height,
      tf: spec.k ? (x, y) => [(x - spec.x0) * spec.k, (y - spec.y0) * spec.k] : (x, y) => [x, y]};
    const labels = {};
    spec.nodes.forEach((i, j) => { labels[i] = spec.labels[j]; });
    view.shows = (i) => i in labels;
    if (spec.k) {
      const g = svgEl("g", {transform: "scale(" + spec.k + ") translate(" + (-spec.x0) + " " +
        (-spec.y0) + ")"}, L.land);
      svgEl("use", {href: "#layer-land"}, g);
      svgEl("use", {href: "#layer-edges"}, g);
    } else {
      for (const d of D.map.basemap) svgEl("path", {d: d, class: "land"}, L.land);
      for (const [a, b] of D.map.edges) {
        svgEl("line", {x1: nodes[a][2], y1: nodes[a][3], x2: nodes[b][2], y2: nodes[b][3],
          class: "edge"}, L.edges);
      }
    }
    for (const i of spec.nodes) {
      const [name, kind] = nodes[i], [x, y] = view.tf(nodes[i][2], nodes[i][3]);
      const c = svgEl("circle", {cx: x, cy: y, r: RADIUS[kind] || 4, fill: FILL[kind] || "#888",
        class: "node"}, L.nodes);
      svgEl("title", {}, c).textContent = name + " (" + kind + ")";
      const [anchor, dx, dy] = ANCHOR[labels[i]] || ANCHOR.e;
      svgEl("text", {x: x + dx, y: y + dy, "text-anchor": anchor, class: "label " + kind},
        L.labels).textContent = name;
    }
    return view;
  }
  const allNodes = nodes.map((_, i) => i);
  const views = [makeView(el("map"), "layer-",
    {width: D.map.width, height: D.map.height, nodes: allNodes, labels: D.map.labels})];
  if (D.map.zoom) views.push(makeView(el("zoom"), "zoom-", D.map.zoom));

  // ----------------------------------------------------------------- routes and trains
  const routes = D.routes.map(([ids, km]) => ({km: km,
    xy: ids.map((i) => [nodes[i][2], nodes[i][3]])}));
  function routeXY(r, km) {
    const R = routes[r], n = R.km.length;
    if (km <= R.km[0]) return R.xy[0];
    for (let i = 0; i < n - 1; i++) {
      if (km <= R.km[i + 1]) {
        const span = R.km[i + 1] - R.km[i];
        const f = span > 0 ? (km - R.km[i]) / span : 1;
        return [R.xy[i][0] + f * (R.xy[i + 1][0] - R.xy[i][0]),
                R.xy[i][1] + f * (R.xy[i + 1][1] - R.xy[i][1])];
      }
    }
    return R.xy[n - 1];
  }
  function trainXY(tr, t) {
    const last = tr.length - 2;
    if (tr.length < 4 || t < tr[2] || t > tr[last]) return null;
    let lo = 0, hi = (tr.length - 2) / 2 - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (tr[2 + 2 * mid] <= t) lo = mid; else hi = mid;
    }
    const t0 = tr[2 + 2 * lo], k0 = tr[3 + 2 * lo], t1 = tr[2 + 2 * hi], k1 = tr[3 + 2 * hi];
    const km = t1 > t0 ? k0 + (k1 - k0) * Math.min(1, Math.max(0, (t - t0) / (t1 - t0))) : k1;
    return routeXY(tr[0], km);
  }
  const colours = D.services.map((s) => s[1]);
  function drawTrains(t) {
    const shown = views.map(() => 0);
    let moving = 0;
    for (let i = 0; i < D.trains.length; i++) {
      const tr = D.trains[i];
      const p = trainXY(tr, t);
      if (!p) continue;
      const service = tr[1] >= 0;
      if (service) moving++;
      views.forEach((v, j) => {
        const [x, y] = v.tf(p[0], p[1]);
        if (x < -10 || y < -10 || x > v.w + 10 || y > v.h + 10) return;
        let c = v.pool[shown[j]];
        if (!c) { c = svgEl("circle", {class: "train"}, v.L.trains); v.pool.push(c); }
        c.setAttribute("cx", x.toFixed(1));
        c.setAttribute("cy", y.toFixed(1));
        c.setAttribute("r", service ? 5 : 3.2);
        c.setAttribute("fill", service ? colours[tr[1]] : "#9aa5b1");
        c.style.display = "";
        shown[j]++;
      });
    }
    views.forEach((v, j) => {
      for (let i = shown[j]; i < v.pool.length; i++) v.pool[i].style.display = "none";
    });
    return moving;
  }

  // ----------------------------------------------------------------- queues and hub
  const Q = D.queues;
  for (const v of views) {
    for (const i of Q.nodes) {
      if (!v.shows(i)) continue;
      const g = svgEl("g", {}, v.L.queues);
      const [cx, y] = v.tf(nodes[i][2], nodes[i][3]), x = cx - 3;
      v.qbars[i] = {x: x, y: y,
        bar: svgEl("rect", {x: x, y: y, width: 6, height: 0, class: "qbar"}, g),
        text: svgEl("text", {x: x + 3, y: y, "text-anchor": "middle", class: "qtext"}, g)};
    }
  }
  const qrows = Q.nodes.map((i) => {
    const tr = document.createElement("tr");
    tr.innerHTML = "<td></td><td class=num></td><td class=num></td>";
    tr.children[0].textContent = nodes[i][0];
    el("queue-rows").appendChild(tr);
    return tr;
  });
  function drawQueues(t) {
    const at = Q.daily ? Math.floor(t / Q.step_h) : Math.round(t / Q.step_h);
    const k = Math.min(at, (Q.waiting[0] || []).length - 1);
    let total = 0;
    Q.nodes.forEach((i, j) => {
      const w = k >= 0 ? Q.waiting[j][k] : 0;
      const s = Q.served && k >= 0 ? String(Q.served[j][k]) : "–";
      total += w;
      const h = Math.min(70, 3 * w);
      for (const v of views) {
        const b = v.qbars[i];
        if (!b) continue;
        b.bar.setAttribute("y", (b.y - 7 - h).toFixed(1));
        b.bar.setAttribute("height", h.toFixed(1));
        b.text.setAttribute("y", (b.y - 10 - h).toFixed(1));
        b.text.textContent = w > 0 ? fmt(w, 1) : "";
      }
      qrows[j].children[1].textContent = fmt(w, 1);
      qrows[j].children[2].textContent = s;
    });
    return Math.round(total * 10) / 10;
  }
  const H = D.hub;
  const hubIndex = H ? nodes.findIndex((n) => n[0] === H.node) : -1;
  for (const v of views) {
    if (hubIndex < 0 || !v.shows(hubIndex)) continue;
    const [hx, hy] = v.tf(nodes[hubIndex][2], nodes[hubIndex][3]);
    const x = hx + 10, y = hy - 50;
    svgEl("rect", {x: x, y: y, width: 9, height: 40, fill: "#fff", stroke: "#1d2b3a",
      "stroke-width": 0.8}, v.L.hub);
    v.hubBar = {y: y, bar: svgEl("rect", {x: x, y: y + 40, width: 9, height: 0,
      fill: "#009E73"}, v.L.hub)};
    svgEl("title", {}, v.L.hub).textContent = "yard level at " + H.node;
  }
  const marks = D.disruptions.map(([a, b]) => views.map((v) => {
    if (!v.shows(a) && (b < 0 || !v.shows(b))) return null;
    const [x1, y1] = v.tf(nodes[a][2], nodes[a][3]);
    const e = b < 0 ? svgEl("circle", {cx: x1, cy: y1, r: 11, class: "disrupted"}, v.L.hub)
      : svgEl("line", {x1: x1, y1: y1, x2: v.tf(nodes[b][2], nodes[b][3])[0],
        y2: v.tf(nodes[b][2], nodes[b][3])[1], class: "disrupted"}, v.L.hub);
    e.style.display = "none";
    return e;
  }));
  function drawDisruptions(t) {
    const now = [];
    D.disruptions.forEach(([, , label, start, stop], i) => {
      const on = start <= t && t < stop;
      if (on) now.push(label);
      for (const e of marks[i]) if (e) e.style.display = on ? "" : "none";
    });
    el("disrupted").textContent = now.length ? now.join(", ") : "none";
  }
  function dayValue(series, t) {  // daily means, read at the middle of each day
    const x = t / 24 - 0.5, n = series.length;
    if (n === 0) return 0;
    if (x <= 0) return series[0];
    if (x >= n - 1) return series[n - 1];
    const i = Math.floor(x), f = x - i;
    return series[i] * (1 - f) + series[i + 1] * f;
  }
  const yardMax = H ? (H.capacity_teu || Math.max(1, ...H.yard_teu_max)) : 1;
  function drawHub(t) {
    if (!H) return;
    const yard = dayValue(H.yard_teu_mean, t);
    const share = Math.max(0, Math.min(1, yard / yardMax));
    el("yard").textContent = fmt(yard) + " TEU" +
      (H.capacity_teu ? " of " + fmt(H.capacity_teu) + " (" + fmt(100 * share) + "\u00a0%)" : "");
    el("yard-gauge").style.width = (100 * share).toFixed(1) + "%";
    el("gate").textContent = fmt(dayValue(H.gate_queue_mean, t), 1) + " trucks";
    el("backlog").textContent = fmt(dayValue(H.backlog_t, t)) + " t";
    for (const v of views) {
      if (!v.hubBar) continue;
      v.hubBar.bar.setAttribute("y", (v.hubBar.y + 40 * (1 - share)).toFixed(1));
      v.hubBar.bar.setAttribute("height", (40 * share).toFixed(1));
    }
  }

  // ----------------------------------------------------------------- timeline
  const TL = el("timeline"), TW = 1000, TH = 110, PAD = 18, TOP = 16;
  const tx = (t) => (t / D.end_h) * TW;
  if (D.warmup_h > 0) {
    svgEl("rect", {x: 0, y: TOP, width: tx(D.warmup_h), height: TH - PAD - TOP,
      fill: "#eef1f4"}, TL);
  }
  function line(values, step, offset, top, colour, label) {
    const max = Math.max(top, 1e-9);
    const pts = values.map((v, i) => tx(offset + i * step).toFixed(1) + "," +
      (TOP + (TH - PAD - TOP) * (1 - Math.min(1, v / max))).toFixed(1));
    if (pts.length) svgEl("polyline", {points: pts.join(" "), fill: "none", stroke: colour,
      "stroke-width": 1.5}, TL);
    svgEl("text", {x: label[1], y: 11, "font-size": 11, fill: colour}, TL).textContent = label[0];
  }
  if (Q.nodes.length) {
    const total = Q.waiting[0].map((_, k) => Q.waiting.reduce((s, w) => s + w[k], 0));
    line(total, Q.step_h, Q.daily ? Q.step_h / 2 : 0, Math.max(1, ...total), "#D55E00",
      ["trains waiting at borders" + (Q.daily ? ", daily mean" : "") + " (max " +
       fmt(Math.max(...total), 1) + ")", 330]);
  }
  if (H) {
    line(H.yard_teu_mean, 24, 12, yardMax, "#009E73",
      ["yard TEU (top: " + fmt(yardMax) + ")", 4]);
  }
  const days = D.end_h / 24, tick = days > 120 ? 30 : days > 40 ? 10 : days > 15 ? 5 : 1;
  for (let d = 0; d <= days; d += tick) {
    svgEl("line", {x1: tx(d * 24), x2: tx(d * 24), y1: TH - PAD, y2: TH - PAD + 4,
      stroke: "#5a6b7d"}, TL);
    svgEl("text", {x: Math.min(tx(d * 24), TW - 12), y: TH - 3, "font-size": 10,
      "text-anchor": "middle", fill: "#5a6b7d"}, TL).textContent = String(d);
  }
  for (const [, , label, start, stop] of D.disruptions) {
    svgEl("rect", {x: tx(start), y: TOP, width: Math.max(1, tx(stop) - tx(start)),
      height: TH - PAD - TOP, fill: "#CC79A7", "fill-opacity": 0.25}, TL)
      .appendChild(document.createElementNS(SVGNS, "title")).textContent = label;
  }
  const cursor = svgEl("line", {x1: 0, x2: 0, y1: 0, y2: TH - PAD, stroke: "#1d2b3a",
    "stroke-width": 1.5}, TL);
  TL.addEventListener("click", (ev) => {
    const box = TL.getBoundingClientRect();
    setTime(((ev.clientX - box.left) / box.width) * D.end_h);
  });

  // ----------------------------------------------------------------- the clock
  const slider = el("slider"), playBtn = el("play"), speed = el("speed");
  let now = 0, playing = false, lastFrame = null;
  function clockText(t) {
    const date = new Date(Date.UTC(2001, D.start_month - 1, 1) + t * 3600e3);
    const hh = String(date.getUTCHours()).padStart(2, "0");
    const mm = String(date.getUTCMinutes()).padStart(2, "0");
    return "day " + (t / 24).toFixed(1) + " · " + date.getUTCDate() + " " +
      MONTHS[date.getUTCMonth()] + " " + hh + ":" + mm + (t < D.warmup_h ? " (warm-up)" : "");
  }
  function setTime(t) {
    now = Math.max(0, Math.min(D.end_h, t));
    slider.value = String(now);
    el("clock").textContent = clockText(now);
    const moving = drawTrains(now);
    const waiting = drawQueues(now);
    drawHub(now);
    drawDisruptions(now);
    el("on-corridor").textContent = String(moving);
    el("waiting").textContent = fmt(waiting, 1);
    cursor.setAttribute("x1", tx(now).toFixed(1));
    cursor.setAttribute("x2", tx(now).toFixed(1));
    document.body.dataset.hour = now.toFixed(2);
  }
  function frame(stamp) {
    if (!playing) return;
    if (lastFrame !== null) {
      const next = now + ((stamp - lastFrame) / 1000) * Number(speed.value);
      if (next >= D.end_h) { setTime(D.end_h); pause(); return; }
      setTime(next);
    }
    lastFrame = stamp;
    requestAnimationFrame(frame);
  }
  function play() {
    if (now >= D.end_h) setTime(0);
    playing = true; lastFrame = null; playBtn.textContent = "Pause";
    playBtn.setAttribute("aria-pressed", "true");
    requestAnimationFrame(frame);
  }
  function pause() {
    playing = false; playBtn.textContent = "Play";
    playBtn.setAttribute("aria-pressed", "false");
  }
  playBtn.addEventListener("click", () => (playing ? pause() : play()));
  slider.addEventListener("input", () => setTime(Number(slider.value)));
  document.addEventListener("keydown", (ev) => {
    if (ev.key === " " && ev.target === document.body) {
      ev.preventDefault(); playing ? pause() : play();
    }
  });
  slider.max = String(D.end_h);
  const box = el("map").parentElement;  // a narrow screen scrolls the map: start at the hub
  if (box.scrollWidth > box.clientWidth) box.scrollLeft = box.scrollWidth;
  setTime(Math.min(D.end_h, D.warmup_h || D.end_h / 10));
})();
"""


TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<meta name="generator" content="silkroute-sim" />
<title>Animation: {name}</title>
<style>{style}</style>
</head>
<body><main>
<h1>Animation: {name}</h1>
<p class="sub">{days} simulated days, seed {seed}. Trains move
along their routes between the hours they left and reached each node; the bars at the border
crossings are trains waiting there; the bar beside the hub is its yard level.</p>
{missing}
<div class="controls" role="group" aria-label="time controls">
<button id="play" type="button" aria-pressed="false">Play</button>
<input id="slider" type="range" min="0" max="{end_h}" step="0.25" value="0"
 aria-label="simulated hour" />
<label>Speed <select id="speed">{options}</select></label>
<span id="clock" aria-live="off"></span>
</div>
<div class="stage">
<div class="mapbox">
<svg id="map" viewBox="0 0 {width} {height}" role="img"
 aria-label="corridor map with the trains"></svg>
</div>
<div class="panel">
{zoom}<div>
<h2>Hub</h2>
<table><tbody>
<tr><th>Yard</th><td class="num" id="yard">–</td></tr>
<tr><td colspan="2"><div class="gauge"><div id="yard-gauge"></div></div></td></tr>
<tr><th>Gate queue</th><td class="num" id="gate">–</td></tr>
<tr><th>Backlog</th><td class="num" id="backlog">–</td></tr>
<tr><th>Trains on the corridor</th><td class="num" id="on-corridor">0</td></tr>
<tr><th>Disruptions now</th><td class="num" id="disrupted">none</td></tr>
</tbody></table>
</div>
<div>
<h2>Border crossings</h2>
<table><thead><tr><th>node</th><th>waiting</th><th>in process</th></tr></thead>
<tbody id="queue-rows"></tbody>
<tfoot><tr><th>all</th><td class="num" id="waiting">0</td><td></td></tr></tfoot></table>
</div>
</div>
</div>
<h2>Legend</h2>
{legend}
<div class="timeline">
<h2>Over the whole run</h2>
<svg id="timeline" viewBox="0 0 1000 110" role="img"
 aria-label="yard level and border queues over the run; click to jump"></svg>
<p class="note">Day of the run on the axis; shaded grey: the warm-up, pink: a disruption
(disruptions.csv). Click to jump there.</p>
</div>
<footer><p>Written by silkroute-sim {version}. Positions between
the recorded arrivals and departures are interpolated.</p></footer>
</main>
<script type="application/json" id="data">{data}</script>
<script>{script}</script>
</body>
</html>
"""


def _zoom_box(zoom: dict[str, Any] | None) -> str:
    if not zoom:
        return ""
    return (
        '<div class="zoombox"><h2>Around the hub (zoomed)</h2>'
        f'<svg id="zoom" viewBox="0 0 {zoom["width"]:g} {zoom["height"]:g}" role="img" '
        'aria-label="the nodes around the hub, zoomed"></svg></div>\n'
    )


def _legend(data: dict[str, Any]) -> str:
    items = [
        f'<li><span class="swatch" style="background:{html.escape(colour)}"></span>'
        f"{html.escape(name)}</li>"
        for name, colour in data["services"]
    ]
    items += [
        '<li><span class="swatch" style="background:#9aa5b1"></span>background train</li>',
        '<li><span class="bar-swatch"></span>trains waiting at a node</li>',
        '<li><span class="swatch" style="background:#0072B2"></span>hub (bar: yard level)</li>',
        '<li><span class="swatch" style="background:#fff;border:1px solid #1d2b3a"></span>'
        "border crossing</li>",
        '<li><span class="swatch" style="background:#1d2b3a"></span>terminal</li>',
        '<li><span class="swatch" style="border:2px dashed #CC79A7"></span>closed or '
        "disrupted (disruptions.csv)</li>",
    ]
    return f'<ul class="legend" aria-label="legend">{"".join(items)}</ul>'


def _data_json(data: dict[str, Any]) -> str:
    """The data as compact JSON that cannot end its script element early."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_page(data: dict[str, Any], missing: str | None = None) -> str:
    """The animation page as one string (see the module's docstring)."""
    name = html.escape(str(data["name"]))
    days = data["end_h"] / 24
    m = data["map"]
    missing_html = f'<p class="missing">{html.escape(missing)}</p>' if missing else ""
    speeds = [(1, "1 hour"), (6, "6 hours"), (24, "1 day"), (72, "3 days"), (168, "1 week")]
    options = "".join(
        f'<option value="{v}"{" selected" if v == 24 else ""}>{label} per second</option>'
        for v, label in speeds
    )
    return TEMPLATE.format(
        name=name,
        days=f"{days:g}",
        seed=html.escape(str(data.get("seed"))),
        missing=missing_html,
        end_h=f"{data['end_h']:g}",
        options=options,
        width=f"{m['width']:g}",
        height=f"{m['height']:g}",
        legend=_legend(data),
        zoom=_zoom_box(m.get("zoom")),
        version=html.escape(str(data["version"])),
        style=STYLE,
        script=SCRIPT,
        data=_data_json(data),
    )
