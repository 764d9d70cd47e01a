// What the analyst has in view, shared by the views: the graph's elements, the time range
// brushed on the timeline, and the datasets on screen (for the classification banner).

const listeners = new Map();

export const state = {
  me: null,
  graph: { nodes: new Map(), edges: new Map() },
  history: [],
  range: null, // [startISO, endISO] brushed on the timeline, or null
  investigation: null, // the investigation being worked on: {id, title, ...}
};

export function on(event, fn) {
  if (!listeners.has(event)) listeners.set(event, new Set());
  listeners.get(event).add(fn);
  return () => listeners.get(event).delete(fn);
}

export function emit(event, detail) {
  for (const fn of listeners.get(event) || []) fn(detail);
}

/** Record the graph before a change, so that "undo" can bring it back. */
export function snapshot() {
  state.history.push({
    nodes: new Map(state.graph.nodes),
    edges: new Map(state.graph.edges),
  });
  if (state.history.length > 50) state.history.shift();
}

export function undo() {
  const previous = state.history.pop();
  if (!previous) return false;
  state.graph = previous;
  emit("graph");
  return true;
}

/** Add the nodes and edges of an API graph answer ({nodes, edges}) to the graph in view. */
export function addToGraph(answer) {
  for (const node of answer.nodes || []) {
    const known = state.graph.nodes.get(node.id);
    state.graph.nodes.set(node.id, { ...known, ...node });
  }
  for (const edge of answer.edges || []) {
    const id = edge.id || `${edge.source}>${edge.target}:${edge.schema || edge.prop || ""}`;
    state.graph.edges.set(id, { ...edge, id });
  }
  emit("graph");
}

export function datasetsInGraph() {
  const names = new Set();
  for (const item of [...state.graph.nodes.values(), ...state.graph.edges.values()]) {
    for (const name of item.datasets || []) names.add(name);
    if (item.dataset) names.add(item.dataset);
  }
  return [...names];
}
