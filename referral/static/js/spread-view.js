/* The interactive spread graph of a campaign: graphology holds it, sigma.js draws it with
 * WebGL, the layout is computed here in the browser (never on the server).
 *
 * - Layout: a radial tree (each tree gets a wedge as wide as its share of the nodes,
 *   generation g on ring g): linear time, instant at 10,000 nodes. "Force" refines it with
 *   ForceAtlas2 in a web worker (spread-worker.js), so the page stays responsive.
 * - Colour by generation, status or channel; size by subtree; labels on hover (masked
 *   addresses: the server never sends a full one); a click opens a card.
 * - Search asks the server for the node (by referral code or address); groups on the way
 *   are opened, then the camera centres on it. A slider replays the spread day by day.
 * No inline script or style (strict CSP): settings and words come from data-* attributes.
 * window.spreadView exposes the graph and a few actions for tests and the console.
 */
(function () {
  "use strict";

  const root = document.getElementById("spread");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const data = root.dataset;
  const lang = document.documentElement.lang || "en";
  const statusLine = $("spread-status");
  const view = { ready: false, graph: null, renderer: null, selected: null, cutoff: null };
  window.spreadView = view;

  const DAY = 86400000;
  const AGGREGATE_COLOUR = "#9aa3b5";
  const DEPTH_COLOURS = ["#3346d3", "#2f6fdb", "#1f95c9", "#14a89a", "#3bb46b", "#8cbf3f",
    "#d6b529", "#e8912a", "#e0603a", "#c23b5b"];
  const STATUS_COLOURS = { confirmed: "#0f9d58", pending: "#e0a000", flagged: "#d93f87",
    rejected: "#7d869a" };
  const CHANNEL_COLOURS = ["#3346d3", "#0f9d58", "#e0a000", "#d93f87", "#0b8fb3", "#7a4fd1",
    "#e8590c", "#5c7080", "#2b8a3e", "#a61e4d"];
  const statusNames = JSON.parse(data.statusNames || "{}");
  const channelColour = new Map();
  let worker = null;
  let playing = null;
  let sizeScale = 1; // smaller dots when there are many

  function say(text) {
    statusLine.textContent = text;
  }

  function words(template, values) {
    return template.replace(/%\((\w+)\)s/g, (_m, name) => values[name]);
  }

  function number(value) {
    return Number(value).toLocaleString(lang);
  }

  if (typeof window.graphology === "undefined" || typeof window.Sigma === "undefined") {
    say(data.textMissing);
    return;
  }

  /* ---------- the graph ---------- */

  function nodeAttributes(node) {
    if (node.aggregate) {
      return {
        label: words(data.textMore, { n: number(node.count) }),
        aggregate: true,
        count: node.count,
        referrer: node.referrer_id === null ? null : String(node.referrer_id),
        size: sizeScale * (3 + 1.8 * Math.log2(1 + node.count)),
        color: AGGREGATE_COLOUR,
        t: 0,
        x: 0,
        y: 0,
      };
    }
    return {
      label: node.label,
      depth: node.depth,
      status: node.status,
      channel: node.channel,
      t: Date.parse(node.created_at),
      joined: node.created_at,
      subtree: node.subtree,
      direct: node.direct,
      customer: node.customer_id,
      referrer: node.referrer_id === null ? null : String(node.referrer_id),
      size: sizeScale * (2 + 1.6 * Math.log2(node.subtree)),
      x: 0,
      y: 0,
    };
  }

  // Adds what the graph does not hold yet; a group that comes again replaces the old one.
  // Only whole-graph updates here: sigma refuses a one-node update of a node it has not
  // indexed yet (one added in the same frame).
  function merge(graph, payload) {
    for (const node of payload.nodes) {
      const key = String(node.id);
      const attributes = nodeAttributes(node);
      if (node.aggregate) {
        if (graph.hasNode(key)) graph.dropNode(key);
        // A group shows up in the replay when its parent does.
        if (attributes.referrer && graph.hasNode(attributes.referrer)) {
          attributes.t = graph.getNodeAttribute(attributes.referrer, "t");
        }
      }
      if (!graph.hasNode(key)) graph.addNode(key, attributes);
    }
    for (const [source, target] of payload.edges) {
      const s = String(source);
      const t = String(target);
      if (graph.hasNode(s) && graph.hasNode(t) && !graph.hasEdge(s, t)) graph.addEdge(s, t);
    }
  }

  /* ---------- layout ---------- */

  // Radial tree: every tree gets a wedge of the circle as wide as its share of the nodes,
  // each child a part of its parent's wedge as wide as its own share; generation g sits on
  // ring g (with one tree, its root in the centre). Linear in the number of nodes.
  function radialLayout(graph) {
    const roots = graph.filterNodes((key) => graph.inDegree(key) === 0);
    const order = [];
    const level = new Map();
    for (const key of roots) level.set(key, roots.length === 1 ? 0 : 1);
    const queue = roots.slice();
    for (let i = 0; i < queue.length; i += 1) {
      const key = queue[i];
      order.push(key);
      graph.forEachOutNeighbor(key, (child) => {
        if (!level.has(child)) {
          level.set(child, level.get(key) + 1);
          queue.push(child);
        }
      });
    }
    const weight = new Map();
    for (let i = order.length - 1; i >= 0; i -= 1) {
      let total = 1;
      graph.forEachOutNeighbor(order[i], (child) => { total += weight.get(child) || 0; });
      weight.set(order[i], total);
    }
    const start = new Map();
    const span = new Map();
    let angle = 0;
    const all = roots.reduce((sum, key) => sum + weight.get(key), 0) || 1;
    for (const key of roots) {
      start.set(key, angle);
      span.set(key, (2 * Math.PI * weight.get(key)) / all);
      angle += span.get(key);
    }
    const position = {};
    for (const key of order) {
      const from = start.get(key);
      const width = span.get(key);
      const radius = level.get(key);
      const middle = from + width / 2;
      position[key] = { x: radius * Math.cos(middle), y: radius * Math.sin(middle) };
      let cursor = from;
      const own = weight.get(key) - 1 || 1;
      graph.forEachOutNeighbor(key, (child) => {
        const share = (width * weight.get(child)) / own;
        start.set(child, cursor);
        span.set(child, share);
        cursor += share;
      });
    }
    graph.updateEachNodeAttributes(
      (key, attributes) => {
        const p = position[key] || { x: 0, y: 0 };
        attributes.x = p.x;
        attributes.y = p.y;
        return attributes;
      },
      { attributes: ["x", "y"] },
    );
  }

  function stopForce() {
    if (worker) worker.postMessage({ type: "stop" });
  }

  function startForce() {
    const graph = view.graph;
    const keys = graph.nodes();
    const index = new Map(keys.map((key, i) => [key, i]));
    const x = new Float32Array(keys.length);
    const y = new Float32Array(keys.length);
    const size = new Float32Array(keys.length);
    keys.forEach((key, i) => {
      const attributes = graph.getNodeAttributes(key);
      x[i] = attributes.x * 100;
      y[i] = attributes.y * 100;
      size[i] = attributes.size;
    });
    const edges = new Uint32Array(graph.size * 2);
    let e = 0;
    graph.forEachEdge((_edge, _attributes, source, target) => {
      edges[e++] = index.get(source);
      edges[e++] = index.get(target);
    });
    if (!worker) {
      worker = new Worker(data.workerUrl);
      worker.onerror = () => say(data.textLayoutFailed);
    }
    worker.onmessage = (event) => {
      const message = event.data;
      if (message.type !== "positions" || view.graph !== graph) return;
      graph.updateEachNodeAttributes(
        (key, attributes) => {
          const i = index.get(key);
          if (i !== undefined) {
            attributes.x = message.x[i];
            attributes.y = message.y[i];
          }
          return attributes;
        },
        { attributes: ["x", "y"] },
      );
      say(words(message.done ? data.textLayoutDone : data.textLayoutRunning,
        { n: number(message.iterations) }));
    };
    worker.postMessage(
      { type: "start", graphologyUrl: data.graphologyUrl, libraryUrl: data.libraryUrl,
        x, y, size, edges, budgetMs: 100, maxIterations: 400 },
      [x.buffer, y.buffer, size.buffer, edges.buffer],
    );
  }

  function layout() {
    stopForce();
    radialLayout(view.graph);
    if ($("spread-layout").value === "force") startForce();
  }

  /* ---------- colours and legend ---------- */

  function colourOf(attributes, by) {
    if (attributes.aggregate) return AGGREGATE_COLOUR;
    if (by === "status") return STATUS_COLOURS[attributes.status] || AGGREGATE_COLOUR;
    if (by === "channel") return channelColour.get(attributes.channel) || AGGREGATE_COLOUR;
    return DEPTH_COLOURS[Math.min(attributes.depth, DEPTH_COLOURS.length - 1)];
  }

  function legendEntries(by) {
    if (by === "status") {
      return Object.keys(STATUS_COLOURS).filter((s) => s in statusNames)
        .map((s) => [statusNames[s], STATUS_COLOURS[s]]);
    }
    if (by === "channel") return [...channelColour].map(([name, colour]) => [name, colour]);
    return DEPTH_COLOURS.map((colour, depth) => [
      depth === DEPTH_COLOURS.length - 1 ? `${depth}+` : String(depth), colour]);
  }

  function colour() {
    const by = $("spread-colour").value;
    const counts = new Map();
    view.graph.forEachNode((_key, a) => {
      if (!a.aggregate) counts.set(a.channel, (counts.get(a.channel) || 0) + 1);
    });
    channelColour.clear();
    [...counts].sort((p, q) => q[1] - p[1]).forEach(([name], i) => {
      channelColour.set(name, CHANNEL_COLOURS[Math.min(i, CHANNEL_COLOURS.length - 1)]);
    });
    view.graph.updateEachNodeAttributes(
      (_key, attributes) => {
        attributes.color = colourOf(attributes, by);
        return attributes;
      },
      { attributes: ["color"] },
    );
    const legend = $("spread-legend");
    legend.replaceChildren();
    const title = document.createElement("span");
    title.className = "spread-legend-title";
    title.textContent = $("spread-colour").selectedOptions[0].textContent;
    legend.append(title);
    for (const [name, swatch] of legendEntries(by)) {
      const item = document.createElement("span");
      const dot = document.createElement("span");
      dot.className = "spread-swatch";
      dot.style.backgroundColor = swatch; // CSSOM, which a strict CSP allows
      item.append(dot, name);
      legend.append(item);
    }
  }

  /* ---------- the card ---------- */

  function closeCard() {
    view.selected = null;
    $("spread-card").hidden = true;
    if (view.renderer) view.renderer.refresh({ skipIndexation: true });
  }

  function select(key) {
    key = String(key);
    const graph = view.graph;
    if (!graph.hasNode(key)) return false;
    const a = graph.getNodeAttributes(key);
    if (a.aggregate) {
      expand(key);
      return true;
    }
    view.selected = key;
    const card = $("spread-card");
    const fill = (field, value) => {
      card.querySelector(`[data-field="${field}"]`).textContent = value;
    };
    $("spread-card-label").textContent = a.label;
    fill("status", statusNames[a.status] || a.status);
    fill("depth", number(a.depth));
    fill("direct", number(a.direct));
    fill("subtree", number(a.subtree));
    fill("channel", a.channel);
    fill("joined", new Date(a.t).toLocaleString(lang, { dateStyle: "medium", timeStyle: "short" }));
    $("spread-card-link").href = data.customerUrl.replace(/\/0$/, `/${a.customer}`);
    card.hidden = false;
    view.renderer.refresh({ skipIndexation: true });
    return true;
  }

  function focus(key) {
    const display = view.renderer.getNodeDisplayData(String(key));
    if (!display) return;
    view.renderer.getCamera().animate({ x: display.x, y: display.y, ratio: 0.12 },
      { duration: 500 });
  }

  /* ---------- loading, groups, search ---------- */

  async function fetchJson(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" },
      credentials: "same-origin" });
    let body = null;
    try {
      body = await response.json();
    } catch (_error) {
      body = null;
    }
    return { ok: response.ok, body };
  }

  // A group holds the referees of its parent (or the roots, for a group without parent)
  // that are not drawn yet: the server draws them in id order, so they are the ones above
  // the highest drawn id, whatever was opened before.
  async function expand(key) {
    const graph = view.graph;
    const parent = graph.getNodeAttribute(key, "referrer");
    const drawn = parent === null
      ? graph.filterNodes((k, a) => !a.aggregate && a.referrer === null)
      : graph.outNeighbors(parent).filter((k) => !graph.getNodeAttribute(k, "aggregate"));
    const after = drawn.reduce((highest, k) => Math.max(highest, Number(k)), 0);
    const query = parent === null ? `after=${after}` : `root=${encodeURIComponent(parent)}&after=${after}`;
    say(data.textLoading);
    const { ok, body } = await fetchJson(`${data.jsonUrl}?${query}`);
    if (!ok || !body) {
      say(data.textLoadFailed);
      return false;
    }
    if (view.selected === key) view.selected = null;
    stopForce();
    graph.dropNode(key);
    merge(graph, body);
    // Index the new nodes now: the colour update below only repaints nodes sigma knows.
    view.renderer.refresh();
    colour();
    layout();
    updateSlider();
    say(words(data.textShown, { n: number(graph.order) }));
    return true;
  }

  async function find(term) {
    const { ok, body } = await fetchJson(`${data.findUrl}?q=${encodeURIComponent(term)}`);
    if (!ok || !body || body.id === null || body.id === undefined) {
      say((body && body.error) || data.textLoadFailed);
      return null;
    }
    const key = String(body.id);
    for (let round = 0; round < 50 && !view.graph.hasNode(key); round += 1) {
      const present = body.ancestors.map(String).filter((id) => view.graph.hasNode(id)).pop();
      const group = present === undefined ? "agg-roots" : `agg-${present}`;
      if (!view.graph.hasNode(group) || !(await expand(group))) break;
    }
    if (!view.graph.hasNode(key)) {
      say(data.textNotDrawn);
      return null;
    }
    setDay(Number($("spread-day").max));
    select(key);
    focus(key);
    say(words(data.textFound, { label: view.graph.getNodeAttribute(key, "label") }));
    return key;
  }

  /* ---------- replay, day by day ---------- */

  let firstDay = 0;

  function updateSlider() {
    let low = Infinity;
    let high = -Infinity;
    view.graph.forEachNode((_key, a) => {
      if (!a.aggregate) {
        low = Math.min(low, a.t);
        high = Math.max(high, a.t);
      }
    });
    const slider = $("spread-day");
    if (low === Infinity) {
      slider.max = "0";
      return;
    }
    firstDay = Math.floor(low / DAY);
    slider.max = String(Math.floor(high / DAY) - firstDay);
    setDay(Number(slider.max));
  }

  function setDay(day) {
    const slider = $("spread-day");
    slider.value = String(day);
    const last = day >= Number(slider.max);
    view.cutoff = last ? null : (firstDay + day + 1) * DAY;
    $("spread-day-label").textContent = new Date((firstDay + day) * DAY)
      .toLocaleDateString(lang, { timeZone: "UTC", dateStyle: "medium" });
    if (view.renderer) view.renderer.refresh({ skipIndexation: true });
  }

  function togglePlay() {
    const button = $("spread-play");
    const slider = $("spread-day");
    if (playing) {
      clearInterval(playing);
      playing = null;
      button.textContent = data.textPlay;
      return;
    }
    const last = Number(slider.max);
    let day = Number(slider.value) >= last ? 0 : Number(slider.value);
    setDay(day);
    button.textContent = data.textPause;
    playing = setInterval(() => {
      day += 1;
      setDay(Math.min(day, last));
      if (day >= last) togglePlay();
    }, Math.max(40, Math.min(400, 8000 / Math.max(last, 1))));
  }

  /* ---------- start ---------- */

  function nodeReducer(key, attributes) {
    if (view.cutoff !== null && attributes.t > view.cutoff) {
      return { ...attributes, hidden: true };
    }
    if (key === view.selected) return { ...attributes, highlighted: true, zIndex: 1 };
    return attributes;
  }

  async function start() {
    const started = performance.now();
    const { ok, body } = await fetchJson(data.jsonUrl);
    if (!ok || !body) {
      say(data.textLoadFailed);
      return;
    }
    const loaded = performance.now();
    const graph = new window.graphology.DirectedGraph();
    view.graph = graph;
    sizeScale = body.nodes.length > 2000 ? 0.6 : 1;
    merge(graph, body);
    colour();
    const built = performance.now();
    radialLayout(graph);
    const laidOut = performance.now();
    view.renderer = new window.Sigma(graph, $("spread-canvas"), {
      nodeReducer,
      zIndex: true,
      renderEdgeLabels: false,
      labelRenderedSizeThreshold: 14,
      labelFont: getComputedStyle(document.body).fontFamily,
      defaultEdgeColor: "#cfd5e0",
      hideEdgesOnMove: graph.order > 5000,
      minCameraRatio: 0.01,
      maxCameraRatio: 5,
    });
    view.renderer.on("clickNode", ({ node }) => select(node));
    view.renderer.on("clickStage", closeCard);
    updateSlider();
    // Milliseconds of each step, for anyone measuring (see the e2e test).
    view.timings = { fetch: loaded - started, build: built - loaded, layout: laidOut - built,
      render: performance.now() - laidOut };
    view.ready = true;
    root.dataset.ready = "true";
    say(body.collapsed
      ? words(data.textCollapsed, { n: number(body.shown), size: number(body.size) })
      : words(data.textShown, { n: number(graph.order) }));
  }

  $("spread-colour").addEventListener("change", colour);
  $("spread-layout").addEventListener("change", layout);
  $("spread-day").addEventListener("input", (event) => setDay(Number(event.target.value)));
  $("spread-play").addEventListener("click", togglePlay);
  $("spread-card-close").addEventListener("click", closeCard);
  $("spread-search").addEventListener("submit", (event) => {
    event.preventDefault();
    const term = $("spread-q").value.trim();
    if (term && view.ready) find(term);
  });

  Object.assign(view, { select, focus, find, expand, layout, closeCard, setDay });
  start().catch((error) => {
    say(data.textLoadFailed);
    throw error;
  });
})();
