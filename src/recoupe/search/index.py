"""The search index (tantivy): one document per (entity, dataset).

The index lives in ``<workspace>/index/``. ``recoupe.json`` there records the store
generation it was built from; the writer holds tantivy's lock, so one process writes at a
time while any number search.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import tantivy

from recoupe.errors import StoreError
from recoupe.search.keys import fold, identifier_forms, name_keys, skeleton
from recoupe.search.query import SearchQuery, Term

META = "recoupe.json"
INDEX_VERSION = 3
FACETS = ("schema", "dataset", "countries")
FACET_SIZE = 20
FACET_DEPTH = 200  # values gathered per facet before the top ones are kept
MAX_SHARED_COUNTED = 10_000
"""Documents of multi-dataset entities grouped exactly (an aggregation holds at most
65,000 buckets: one per entity and one per facet value of each)."""
MAX_HIGHLIGHTED = 20  # values of a document looked at for highlights, beyond its names
WEIGHTS = {
    "identifier": 1000.0,  # the whole query is a phone, IBAN, e-mail or document number
    "word_identifier": 20.0,
    "exact": 3.0,
    "fuzzy": 2.0,
    "skeleton": 1.6,
    "text": 1.0,
    "rarity": 0.05,
    "thing": 0.5,  # people, companies, phones... before the calls and payments naming them
}
_WORD = re.compile(r"\w+", re.UNICODE)


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    for raw in ("id", "dataset", "schema", "countries"):
        sb.add_text_field(raw, stored=True, tokenizer_name="raw", fast=True)
    # "1" on each document of an entity held by several datasets: counts take it once
    sb.add_text_field("shared", stored=False, tokenizer_name="raw", fast=False)
    sb.add_text_field("caption", stored=True, tokenizer_name="raw")
    sb.add_text_field("names", stored=True, tokenizer_name="folded")
    sb.add_text_field("name", stored=False, tokenizer_name="default")
    sb.add_text_field("skel", stored=False, tokenizer_name="whitespace")
    sb.add_text_field("ids", stored=True, tokenizer_name="raw")
    sb.add_text_field("text", stored=True, tokenizer_name="folded")
    sb.add_date_field("dates", stored=False, indexed=True, fast=True)
    return sb.build()


def _version(meta: Path) -> object:
    """The layout version an index's metadata file records (None when unreadable)."""
    try:
        found = json.loads(meta.read_text())
    except (OSError, ValueError):
        return None
    return found.get("version") if isinstance(found, dict) else None


def _parse_date(value: str) -> datetime | None:
    """FtM date values (``2024``, ``2024-03``, ``2024-03-01T10:00:00``) as datetimes."""
    text = value[:19]
    if len(text) == 4:
        text += "-01-01"
    elif len(text) == 7:
        text += "-01"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


@dataclass
class Hit:
    id: str
    schema: str
    caption: str | None
    score: float
    datasets: list[str]
    names: list[str]
    countries: list[str]
    highlights: list[str] = field(default_factory=list)
    identifiers: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "schema": self.schema,
            "caption": self.caption,
            "score": round(self.score, 4),
            "datasets": self.datasets,
            "names": self.names,
            "countries": self.countries,
            "highlights": self.highlights,
            "identifiers": self.identifiers,
        }


@dataclass
class SearchResult:
    total: int
    results: list[Hit]
    facets: dict[str, list[dict[str, Any]]]
    query: SearchQuery
    took_ms: float = 0.0
    exact: bool = True
    """False when ``total`` and facet counts are estimates (see ``SearchIndex._counts``)."""

    def to_dict(self) -> dict[str, Any]:
        q = self.query
        return {
            "q": q.q,
            "total": self.total,
            "total_exact": self.exact,
            "offset": q.offset,
            "limit": q.limit,
            "took_ms": round(self.took_ms, 2),
            "results": [h.to_dict() for h in self.results],
            "facets": self.facets,
        }


class SearchIndex:
    """The tantivy index of one workspace."""

    def __init__(self, path: Path, *, create: bool = False) -> None:
        self.path = path
        meta = path / META
        if create and meta.exists() and _version(meta) != INDEX_VERSION:
            meta.unlink()  # derived data in an older layout: built again from the store
        if create and not meta.exists():
            if path.exists():
                shutil.rmtree(path)
            path.mkdir(parents=True)
            self.index = tantivy.Index(_schema(), path=str(path))
            self._write_meta(0)
        elif not meta.exists():
            raise StoreError(f"{path}: no search index; run `recoupe index`")
        else:
            version = _version(meta)
            if version != INDEX_VERSION:
                raise StoreError(
                    f"{path}: search index version {version} (this release reads "
                    f"{INDEX_VERSION}); run `recoupe index` to build it again"
                )
            self.index = tantivy.Index.open(str(path))
        self.schema = self.index.schema
        analyzer = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        analyzer = analyzer.filter(tantivy.Filter.lowercase()).filter(tantivy.Filter.ascii_fold())
        self.index.register_tokenizer("folded", analyzer.build())
        self._writer: tantivy.IndexWriter | None = None

    # -- writing ---------------------------------------------------------------------------
    @property
    def generation(self) -> int:
        return int(json.loads((self.path / META).read_text())["generation"])

    @property
    def resolution(self) -> int:
        """The changes of the canonical mapping (merged entities) the index reflects."""
        return int(json.loads((self.path / META).read_text()).get("resolution", 0))

    def _write_meta(self, generation: int, resolution: int = 0) -> None:
        tmp = self.path / (META + ".tmp")
        tmp.write_text(
            json.dumps(
                {"version": INDEX_VERSION, "generation": generation, "resolution": resolution}
            )
        )
        tmp.replace(self.path / META)

    def writer(self) -> tantivy.IndexWriter:
        if self._writer is None:
            try:
                self._writer = self.index.writer(heap_size=256_000_000, num_threads=1)
            except ValueError as exc:
                raise StoreError(
                    f"{self.path}: the search index is being written by another process ({exc})"
                ) from exc
        return self._writer

    def add(
        self,
        batches: Iterable[pa.RecordBatch],
        schema_of: Callable[[list[str]], str],
        *,
        replace: bool,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Add the documents of ``batches`` (rows of ``store.search_source``).

        ``replace`` deletes every earlier document of the same entities first.
        """
        writer = self.writer()
        count = 0
        for batch in batches:
            if replace:
                for entity_id in set(batch.column("id").to_pylist()):
                    writer.delete_documents_by_term("id", entity_id)
            slow: list[int] = []
            for i, ready in enumerate(batch.column("json").to_pylist()):
                if ready is None:
                    slow.append(i)
                else:
                    writer.add_json(ready)
            if slow:
                for row in batch.take(slow).to_pylist():
                    writer.add_document(self._document(row, schema_of))
            count += batch.num_rows
            if progress is not None:
                progress(count)
        return count

    def _document(
        self, row: dict[str, Any], schema_of: Callable[[list[str]], str]
    ) -> tantivy.Document:
        schemata: list[str] = row["schemata"]
        doc = tantivy.Document(
            id=row["id"],
            dataset=row["dataset"],
            schema=schemata[0] if len(schemata) == 1 else schema_of(schemata),
        )
        if row["shared"]:
            doc.add_text("shared", "1")
        if row["caption"] is not None:
            doc.add_text("caption", row["caption"])
        names: list[str] = row["names"]
        if names:
            folded, skeletons = name_keys(names)
            for name in names:
                doc.add_text("names", name)
            for text in folded:
                doc.add_text("name", text)
            for text in skeletons:
                doc.add_text("skel", text)
        for value in row["ids"]:
            doc.add_text("ids", value)
        for value in row["countries"]:
            doc.add_text("countries", value)
        for value in row["texts"]:
            doc.add_text("text", value)
        for value in row["dates"]:
            parsed = _parse_date(value)
            if parsed is not None:
                doc.add_date("dates", parsed)
        return doc

    def delete(self, ids: Iterable[str]) -> None:
        """Delete every document of these entity ids (until the next commit, unseen)."""
        writer = self.writer()
        for entity_id in ids:
            writer.delete_documents_by_term("id", entity_id)

    def clear(self) -> None:
        self.writer().delete_all_documents()

    def commit(self, generation: int, resolution: int = 0) -> None:
        """Make the added documents visible and record the generation they reflect."""
        writer = self.writer()
        writer.commit()
        writer.wait_merging_threads()
        self._writer = None
        self._write_meta(generation, resolution)
        self.index.reload()

    def rollback(self) -> None:
        if self._writer is not None:
            self._writer.rollback()
            self._writer = None

    # -- reading ---------------------------------------------------------------------------
    def reload(self) -> None:
        self.index.reload()

    def count(self) -> int:
        return int(self.index.searcher().num_docs)

    def search(
        self,
        query: SearchQuery,
        datasets: list[str],
        schemata: list[str],
        prefer: list[str] | None = None,
    ) -> SearchResult:
        """Run ``query`` over the documents of ``datasets`` (what the reader may see).

        ``schemata`` is the schema filter with every descendant schema spelled out;
        ``prefer`` lists schemata ranked a little higher on equal matches.
        """
        started = datetime.now()
        searcher = self.index.searcher()
        terms = query.terms()
        text_query = self._text_query(query, terms)
        filters = [tantivy.Query.term_set_query(self.schema, "dataset", datasets)]
        if schemata:
            filters.append(tantivy.Query.term_set_query(self.schema, "schema", schemata))
        if query.countries:
            filters.append(
                tantivy.Query.term_set_query(self.schema, "countries", list(query.countries))
            )
        if query.date_from is not None or query.date_to is not None:
            filters.append(self._date_range(query.date_from, query.date_to))
        clauses = [(tantivy.Occur.Must, f) for f in filters]
        if text_query is not None:
            clauses.append((tantivy.Occur.Must, text_query))
            if prefer:
                preferred = tantivy.Query.term_set_query(self.schema, "schema", prefer)
                clauses.append(
                    (
                        tantivy.Occur.Should,
                        tantivy.Query.const_score_query(preferred, WEIGHTS["thing"]),
                    )
                )
        full = tantivy.Query.boolean_query(clauses)
        # One document per (entity, dataset): fetch enough to fill the page with entities.
        found = searcher.search(full, (query.offset + query.limit) * 2, count=True)
        marks = {t for term in terms for t in fold(term.text)}
        marks.update(t for form in identifier_forms(query.q) for t in fold(form))
        hits = self._hits(searcher, found.hits, marks)[query.offset : query.offset + query.limit]
        total, facets, exact = self._counts(searcher, full, _matched(found), query.facets)
        took = (datetime.now() - started).total_seconds() * 1000
        return SearchResult(total, hits, facets, query, took, exact)

    def _date_range(self, since: date | None, until: date | None) -> tantivy.Query:
        low = datetime.combine(since or date(1, 1, 1), datetime.min.time())
        high = datetime.combine(until or date(9999, 12, 31), datetime.max.time())
        return tantivy.Query.range_query(
            self.schema, "dates", tantivy.FieldType.Date, low, high, True, True
        )

    def _text_query(self, query: SearchQuery, terms: list[Term]) -> tantivy.Query | None:
        if not terms:
            return None
        Q = tantivy.Query  # noqa: N806 (reads as the query algebra)
        words: list[tuple[tantivy.Occur, tantivy.Query]] = []
        for term in terms:
            tokens = fold(term.text)
            if term.kind == "phrase" and len(tokens) > 1:
                variants = [
                    Q.const_score_query(
                        Q.phrase_query(self.schema, "name", list(tokens)),
                        WEIGHTS["exact"] * len(tokens),
                    ),
                    Q.const_score_query(
                        Q.phrase_query(self.schema, "text", list(tokens)),
                        WEIGHTS["text"] * len(tokens),
                    ),
                ]
                words.append((tantivy.Occur.Should, Q.disjunction_max_query(variants)))
                continue
            for token in tokens:
                words.append((tantivy.Occur.Should, self._token_query(token, term, query.fuzzy)))
            if term.kind == "word" and len(terms) > 1:
                word_forms = identifier_forms(term.text)
                if word_forms:
                    boost = WEIGHTS["word_identifier"]
                    ids_query = Q.const_score_query(self._ids(word_forms), boost)
                    words.append((tantivy.Occur.Should, ids_query))
        parts: list[tuple[tantivy.Occur, tantivy.Query]] = []
        forms = identifier_forms(query.q)
        if forms:
            boost = WEIGHTS["identifier"]
            parts.append((tantivy.Occur.Should, Q.const_score_query(self._ids(forms), boost)))
        if words:
            by_word = Q.boolean_query(words)
            if forms and any(c.isdigit() for c in query.q):
                # An identifier written in groups ("06 12 34 56 78"): its pieces only count
                # when nothing carries the identifier itself.
                by_word = Q.boost_query(by_word, 0.001)
            parts.append((tantivy.Occur.Should, by_word))
        if not parts:
            return None
        return Q.boolean_query(parts)

    def _ids(self, forms: list[str]) -> tantivy.Query:
        return tantivy.Query.term_set_query(self.schema, "ids", forms)

    def _token_query(self, token: str, term: Term, fuzzy: bool) -> tantivy.Query:
        """How one token matches: the best of its variants, each with a fixed weight.

        Fixed weights (not term statistics) rank a record matching every token through
        its skeleton above one matching a single token exactly; a light BM25 part breaks
        ties in favour of rarer names.
        """
        Q = tantivy.Query  # noqa: N806 (reads as the query algebra)
        s = self.schema
        if term.kind == "prefix":
            pattern = re.escape(token) + ".*"
            return Q.disjunction_max_query(
                [
                    Q.const_score_query(Q.regex_query(s, "name", pattern), WEIGHTS["exact"]),
                    Q.const_score_query(Q.regex_query(s, "text", pattern), WEIGHTS["text"]),
                ]
            )
        variants = [
            Q.const_score_query(Q.term_query(s, "name", token), WEIGHTS["exact"]),
            Q.const_score_query(Q.term_query(s, "text", token), WEIGHTS["text"]),
            Q.boost_query(Q.term_query(s, "name", token), WEIGHTS["rarity"]),
        ]
        distance = term.distance
        if distance is None and fuzzy and len(token) >= 4:
            distance = 1 if len(token) < 8 else 2
        if distance:
            fuzzy_query = Q.fuzzy_term_query(s, "name", token, distance, True, False)
            variants.append(Q.const_score_query(fuzzy_query, WEIGHTS["fuzzy"]))
        if not token.isdigit():
            skeleton_query = Q.term_query(s, "skel", skeleton(token))
            variants.append(Q.const_score_query(skeleton_query, WEIGHTS["skeleton"]))
        return Q.disjunction_max_query(variants, 0.01)

    def _hits(
        self, searcher: tantivy.Searcher, found: list[tuple[Any, Any]], tokens: set[str]
    ) -> list[Hit]:
        by_id: dict[str, Hit] = {}
        for score, address in found:
            doc = searcher.doc(address).to_dict()
            entity_id = doc["id"][0]
            hit = by_id.get(entity_id)
            if hit is None:
                caption = (doc.get("caption") or doc.get("names") or [None])[0]
                hit = by_id[entity_id] = Hit(
                    id=entity_id,
                    schema=doc["schema"][0],
                    caption=caption,
                    score=float(score),
                    datasets=[],
                    names=[],
                    countries=[],
                )
            hit.datasets = sorted({*hit.datasets, *doc.get("dataset", [])})
            hit.names = list(dict.fromkeys([*hit.names, *doc.get("names", [])]))
            hit.countries = sorted({*hit.countries, *doc.get("countries", [])})
            hit.identifiers = list(dict.fromkeys([*hit.identifiers, *doc.get("ids", [])]))[:10]
            for value in [*doc.get("names", []), *doc.get("text", [])[:MAX_HIGHLIGHTED]]:
                marked = highlight(value, tokens)
                if marked is not None and marked not in hit.highlights and len(hit.highlights) < 5:
                    hit.highlights.append(marked)
        return list(by_id.values())

    def _counts(
        self, searcher: tantivy.Searcher, full: tantivy.Query, documents: int, facets: bool
    ) -> tuple[int, dict[str, list[dict[str, Any]]], bool]:
        """(entities matching, facets, whether both are exact).

        The index holds one document per (entity, dataset): the documents of entities held
        by several datasets are grouped by entity so that each is counted once. Beyond
        :data:`MAX_SHARED_COUNTED` such documents the total is a close estimate and their
        facet counts are per document; the result then says it is not exact.
        """
        Q = tantivy.Query  # noqa: N806 (reads as the query algebra)
        must, must_not = tantivy.Occur.Must, tantivy.Occur.MustNot
        shared = Q.term_query(self.schema, "shared", "1")
        both = Q.boolean_query([(must, full), (must, shared)])
        doubled = _matched(searcher.search(both, 1, count=True))
        spec = {name: {"terms": {"field": name, "size": FACET_DEPTH}} for name in FACETS}
        counts: dict[str, Counter[str]] = {name: Counter() for name in FACETS}
        if doubled > MAX_SHARED_COUNTED:
            found = searcher.aggregate(both, {"n": {"cardinality": {"field": "id"}}})
            total = documents - doubled + round(float(found["n"]["value"] or 0))
            if facets:
                _add_buckets(counts, searcher.aggregate(full, spec))
            return total, _top(counts) if facets else {}, False
        by_entity: list[dict[str, Any]] = []
        if doubled:
            grouped: dict[str, Any] = {"id": {"terms": {"field": "id", "size": doubled}}}
            if facets:  # each entity's facet values, to count once per entity
                grouped["id"]["aggs"] = spec
            by_entity = searcher.aggregate(both, grouped).get("id", {}).get("buckets", [])
        total = documents - doubled + len(by_entity)
        if not facets:
            return total, {}, True
        alone = Q.boolean_query([(must, full), (must_not, shared)])
        _add_buckets(counts, searcher.aggregate(alone, spec))
        for entity in by_entity:
            for name in FACETS:
                for bucket in entity.get(name, {}).get("buckets", []):
                    counts[name][bucket["key"]] += 1
        return total, _top(counts), True


def _matched(found: tantivy.SearchResult) -> int:
    """The number of documents a search matched (the type stubs lack ``count``)."""
    return int(getattr(found, "count", 0) or 0)


def _add_buckets(counts: dict[str, Counter[str]], found: dict[str, Any]) -> None:
    for name in FACETS:
        for bucket in found.get(name, {}).get("buckets", []):
            counts[name][bucket["key"]] += int(bucket["doc_count"])


def _top(counts: dict[str, Counter[str]]) -> dict[str, list[dict[str, Any]]]:
    """The :data:`FACET_SIZE` most frequent values of each facet, ties by value."""
    return {
        name: [
            {"value": value, "count": count}
            for value, count in sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))[:FACET_SIZE]
        ]
        for name, found in counts.items()
    }


def highlight(value: str, tokens: set[str]) -> str | None:
    """``value`` HTML-escaped with the words matching ``tokens`` in ``<mark>``, or None."""
    if not tokens:
        return None
    skeletons = {skeleton(t) for t in tokens if len(t) > 2}
    words = fold(value)  # the whole value at once first: most values do not match
    if not any(w in tokens or (len(w) > 2 and skeleton(w) in skeletons) for w in words):
        return None
    out: list[str] = []
    last = 0
    marked = False
    for match in _WORD.finditer(value):
        folded = fold(match.group())
        hit = any(t in tokens or (len(t) > 2 and skeleton(t) in skeletons) for t in folded)
        out.append(html.escape(value[last : match.start()]))
        word = html.escape(match.group())
        out.append(f"<mark>{word}</mark>" if hit else word)
        marked = marked or hit
        last = match.end()
    out.append(html.escape(value[last:]))
    return "".join(out) if marked else None
