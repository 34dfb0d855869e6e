/* ForceAtlas2 for the spread view, off the main thread (graphology-library's layout).
 *
 * A plain worker file from our own origin: the Content-Security-Policy (default-src
 * 'self') forbids the blob: workers that layout libraries usually create.
 *
 * In:  {type: "start", graphologyUrl, libraryUrl, x, y, size (Float32Array), edges
 *       (Uint32Array of node index pairs), budgetMs, maxIterations} and {type: "stop"}.
 * Out: {type: "positions", x, y (Float32Array), iterations, done} after each time budget.
 */
"use strict";

// graphology-library's bundle also holds the GEXF and GraphML parsers, which look up
// DOMParser and Document when the bundle loads: a worker has neither, and ForceAtlas2
// needs neither, so empty stand-ins let the bundle load.
self.DOMParser = self.DOMParser || function DOMParser() {};
self.Document = self.Document || function Document() {};

let graph = null;
let settings = null;
let running = false;
let iterations = 0;
let order = 0;

function build(message) {
  const built = new self.graphology.Graph({ type: "directed", multi: false });
  order = message.x.length;
  for (let i = 0; i < order; i += 1) {
    built.addNode(i, { x: message.x[i], y: message.y[i], size: message.size[i] });
  }
  for (let e = 0; e < message.edges.length; e += 2) {
    const source = message.edges[e];
    const target = message.edges[e + 1];
    if (!built.hasEdge(source, target)) built.addEdge(source, target);
  }
  return built;
}

function positions(done) {
  const x = new Float32Array(order);
  const y = new Float32Array(order);
  graph.forEachNode((key, attributes) => {
    const i = Number(key);
    x[i] = attributes.x;
    y[i] = attributes.y;
  });
  self.postMessage({ type: "positions", x, y, iterations, done }, [x.buffer, y.buffer]);
}

function step(budgetMs, maxIterations) {
  if (!running) return;
  const layout = self.graphologyLibrary.layoutForceAtlas2;
  const started = performance.now();
  do {
    layout.assign(graph, { iterations: 1, settings });
    iterations += 1;
  } while (performance.now() - started < budgetMs && iterations < maxIterations);
  const done = iterations >= maxIterations;
  positions(done);
  if (done) {
    running = false;
  } else {
    // A macrotask between batches, so that a "stop" message is seen at once.
    setTimeout(() => step(budgetMs, maxIterations), 0);
  }
}

self.onmessage = (event) => {
  const message = event.data;
  if (message.type === "stop") {
    running = false;
    return;
  }
  if (message.type !== "start") return;
  if (!self.graphologyLibrary) {
    self.importScripts(message.graphologyUrl, message.libraryUrl);
  }
  graph = build(message);
  settings = Object.assign(
    self.graphologyLibrary.layoutForceAtlas2.inferSettings(graph),
    { barnesHutOptimize: order > 500, adjustSizes: false },
  );
  iterations = 0;
  running = true;
  step(message.budgetMs || 100, message.maxIterations || 400);
};
