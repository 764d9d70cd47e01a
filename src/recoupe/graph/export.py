"""Write the link graph, or part of it, as GEXF 1.3 (Gephi), GraphML or Cypher (Neo4j).

Lines are built a chunk at a time with Arrow string kernels (escaping included) and
written as UTF-8 bytes straight from the Arrow buffers, so the whole graph of a large store
streams out without a Python loop over its rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from recoupe.graph.data import EDGE_KINDS, NODE_KINDS, GraphData, Int, IntArray, Mask, iso_days
from recoupe.graph.subgraph import Subgraph

FORMATS = ("gexf", "graphml", "cypher")
CHUNK = 100_000
_CONTROL = r"[\x{0}-\x{8}\x{b}\x{c}\x{e}-\x{1f}\x{fffe}\x{ffff}]"
"""Characters XML 1.0 forbids even escaped."""

Columns = dict[str, pa.Array]


def _strings(values: list[str | None] | pa.Array) -> pa.Array:
    array = values if isinstance(values, pa.Array) else pa.array(values, pa.large_string())
    return array.cast(pa.large_string())


def _missing(values: pa.Array) -> pa.Array:
    """Empty strings as nulls (a missing value: Cypher writes ``null``)."""
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.large_string()), values)


def _xml(values: pa.Array) -> pa.Array:
    """Text escaped for XML attributes and content (nulls become empty)."""
    values = pc.replace_substring_regex(pc.fill_null(values, ""), _CONTROL, "")
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;")):
        values = pc.replace_substring(values, char, entity)
    return values


def _cypher(values: pa.Array) -> pa.Array:
    """Cypher string literals (``'...'``, backslash escapes) or ``null``."""
    text = values
    for char, escaped in (("\\", "\\\\"), ("'", "\\'"), ("\n", "\\n"), ("\r", "\\r")):
        text = pc.replace_substring(text, char, escaped)
    quoted = _join("'", text, "'")
    return pc.if_else(pc.is_null(values), "null", quoted)


def _name(values: pa.Array) -> pa.Array:
    """Cypher names (labels, relationship types) quoted with backticks."""
    return _join("`", pc.replace_substring(pc.fill_null(values, "LINK"), "`", "``"), "`")


def _join(*parts: pa.Array | str) -> pa.Array:
    """Strings and columns joined row by row."""
    args = [pa.scalar(p, pa.large_string()) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*args, pa.scalar("", pa.large_string()))


def _write(out: BinaryIO, lines: pa.Array) -> None:
    """Write a string array's bytes as they are (each element ends its own line)."""
    lines = lines.cast(pa.large_string())
    if len(lines) == 0:
        return
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
    first, last = int(offsets[lines.offset]), int(offsets[lines.offset + len(lines)])
    data = lines.buffers()[2]
    if data is not None:
        out.write(memoryview(data)[first:last])


def _chunks(indices: Int) -> Iterator[Int]:
    for start in range(0, len(indices), CHUNK):
        yield indices[start : start + CHUNK]


def _node_columns(graph: GraphData, nodes: Int, visible: IntArray | None) -> Columns:
    schemata, captions = graph.labels(nodes, visible)
    ids = _strings(graph.node_ids.take(pa.array(nodes)))
    kinds = np.array(NODE_KINDS, dtype=object)[graph.node_kind[nodes].astype(np.int64)]
    return {
        "id": ids,
        "label": pc.coalesce(_strings(captions), ids),
        "kind": _strings(kinds.tolist()),
        "schema": _strings(schemata),
    }


def _edge_columns(graph: GraphData, edges: Int) -> Columns:
    def names(codes: IntArray, table: list[str]) -> pa.Array:
        return _strings([table[c] if c >= 0 else None for c in codes.tolist()])

    kinds = graph.edge_kind[edges].astype(np.int64)
    schema = names(graph.edge_schema[edges], graph.schemata)
    prop = names(graph.edge_prop[edges], graph.props)
    return {
        "id": _strings([str(e) for e in edges.tolist()]),
        "source": _strings(graph.node_ids.take(pa.array(graph.src[edges]))),
        "target": _strings(graph.node_ids.take(pa.array(graph.dst[edges]))),
        "label": pc.if_else(pc.equal(pa.array(kinds), 0), schema, pc.coalesce(prop, schema)),
        "kind": _strings(np.array(EDGE_KINDS, dtype=object)[kinds].tolist()),
        "schema": schema,
        "prop": prop,
        "entity_id": _missing(_strings(graph.edge_entity.take(pa.array(edges)))),
        "start": _strings(iso_days(graph.edge_start[edges])),
        "end": _strings(iso_days(graph.edge_end[edges])),
        "dataset": names(graph.edge_dataset[edges], graph.datasets),
    }


NODE_ATTRS = ("kind", "schema")
EDGE_ATTRS = ("kind", "schema", "prop", "entity_id", "start", "end", "dataset")


def _gexf(
    out: BinaryIO, graph: GraphData, parts: tuple[Int, Int], visible: IntArray | None
) -> None:
    nodes, edges = parts

    def declare(kind: str, names: tuple[str, ...]) -> str:
        items = "".join(f'<attribute id="{n}" title="{n}" type="string"/>' for n in names)
        return f'    <attributes class="{kind}">{items}</attributes>\n'

    def values(cols: Columns, names: tuple[str, ...]) -> list[pa.Array | str]:
        parts: list[pa.Array | str] = ["<attvalues>"]
        for n in names:
            parts += [f'<attvalue for="{n}" value="', _xml(cols[n]), '"/>']
        return [*parts, "</attvalues>"]

    out.write(
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<gexf xmlns="http://gexf.net/1.3" version="1.3">\n'
        b"  <meta><creator>Recoupe</creator></meta>\n"
        b'  <graph defaultedgetype="directed" mode="static">\n'
    )
    out.write((declare("node", NODE_ATTRS) + declare("edge", EDGE_ATTRS)).encode())
    out.write(b"    <nodes>\n")
    for chunk in _chunks(nodes):
        cols = _node_columns(graph, chunk, visible)
        head = ['      <node id="', _xml(cols["id"]), '" label="', _xml(cols["label"]), '">']
        _write(out, _join(*head, *values(cols, NODE_ATTRS), "</node>\n"))
    out.write(b"    </nodes>\n    <edges>\n")
    for chunk in _chunks(edges):
        cols = _edge_columns(graph, chunk)
        head = ['      <edge id="', cols["id"], '" source="', _xml(cols["source"])]
        head += ['" target="', _xml(cols["target"]), '" label="', _xml(cols["label"]), '">']
        _write(out, _join(*head, *values(cols, EDGE_ATTRS), "</edge>\n"))
    out.write(b"    </edges>\n  </graph>\n</gexf>\n")


def _graphml(
    out: BinaryIO, graph: GraphData, parts: tuple[Int, Int], visible: IntArray | None
) -> None:
    nodes, edges = parts
    keys = [("node", "label", "label")] + [("node", n, n) for n in NODE_ATTRS]
    keys += [("edge", f"e_{n}", n) for n in ("label", *EDGE_ATTRS)]
    out.write(
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n'
    )
    for kind, key, name in keys:
        line = f'  <key id="{key}" for="{kind}" attr.name="{name}" attr.type="string"/>\n'
        out.write(line.encode())
    out.write(b'  <graph id="recoupe" edgedefault="directed">\n')

    def data(cols: Columns, names: tuple[str, ...], prefix: str) -> list[pa.Array | str]:
        parts: list[pa.Array | str] = []
        for n in names:
            parts += [f'<data key="{prefix}{n}">', _xml(cols[n]), "</data>"]
        return parts

    for chunk in _chunks(nodes):
        cols = _node_columns(graph, chunk, visible)
        body = data(cols, ("label", *NODE_ATTRS), "")
        _write(out, _join('    <node id="', _xml(cols["id"]), '">', *body, "</node>\n"))
    for chunk in _chunks(edges):
        cols = _edge_columns(graph, chunk)
        head = ['    <edge id="e', cols["id"], '" source="', _xml(cols["source"])]
        head += ['" target="', _xml(cols["target"]), '">']
        body = data(cols, ("label", *EDGE_ATTRS), "e_")
        _write(out, _join(*head, *body, "</edge>\n"))
    out.write(b"  </graph>\n</graphml>\n")


def _cypher_script(
    out: BinaryIO, graph: GraphData, parts: tuple[Int, Int], visible: IntArray | None
) -> None:
    nodes, edges = parts
    out.write(b"CREATE INDEX recoupe_id IF NOT EXISTS FOR (n:Recoupe) ON (n.id);\n")
    for chunk in _chunks(nodes):
        cols = _node_columns(graph, chunk, visible)
        label = pc.if_else(pc.is_null(cols["schema"]), "", _join(", n:", _name(cols["schema"])))
        line = _join(
            "MERGE (n:Recoupe {id: ",
            _cypher(cols["id"]),
            "}) SET n.caption = ",
            _cypher(cols["label"]),
            ", n.kind = ",
            _cypher(cols["kind"]),
            label,
            ";\n",
        )
        _write(out, line)
    for chunk in _chunks(edges):
        cols = _edge_columns(graph, chunk)
        props = [f"{n}: " for n in EDGE_ATTRS]
        body: list[pa.Array | str] = []
        for i, name in enumerate(EDGE_ATTRS):
            body += [(", " if i else "") + props[i], _cypher(cols[name])]
        line = _join(
            "MATCH (a:Recoupe {id: ",
            _cypher(cols["source"]),
            "}), (b:Recoupe {id: ",
            _cypher(cols["target"]),
            "}) CREATE (a)-[:",
            _name(cols["label"]),
            " {",
            *body,
            "}]->(b);\n",
        )
        _write(out, line)


_WRITERS: dict[str, Callable[[BinaryIO, GraphData, tuple[Int, Int], IntArray | None], None]] = {
    "gexf": _gexf,
    "graphml": _graphml,
    "cypher": _cypher_script,
}


def write(
    graph: GraphData,
    fmt: str,
    out: BinaryIO,
    subgraph: Subgraph | None = None,
    *,
    edge_mask: Mask | None = None,
    visible: IntArray | None = None,
) -> tuple[int, int]:
    """Write ``subgraph`` (or every edge in ``edge_mask`` and their ends) to ``out``.

    ``visible`` are the dataset codes whose captions may be shown. Returns (nodes, edges)
    written.
    """
    if fmt not in _WRITERS:
        raise ValueError(f"no graph format {fmt!r} (use one of {FORMATS})")
    if subgraph is not None:
        nodes = np.asarray(subgraph.nodes, dtype=np.int64)
        edges = np.asarray(subgraph.edges, dtype=np.int64)
    else:
        edges = np.arange(graph.n_edges, dtype=np.int64)
        if edge_mask is not None:
            edges = edges[edge_mask]
        ends = np.zeros(len(graph), dtype=bool)
        ends[graph.src[edges]] = True
        ends[graph.dst[edges]] = True
        nodes = np.flatnonzero(ends).astype(np.int64)
    _WRITERS[fmt](out, graph, (nodes, edges), visible)
    return len(nodes), len(edges)
