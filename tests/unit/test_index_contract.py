"""One contract for every VectorIndex shape: the embedded Qdrant Edge shard and qdrant-client (``:memory:``).

Hand-made unit vectors (no model) so each case knows its answer: every document owns one axis of an 8-d space,
and its BM25 text uses words no other document uses.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot.config import Settings
from copilot.errors import IndexError_, IndexLockedError, ValidationError
from copilot.retrieval.index_edge import EdgeIndex
from copilot.retrieval.index_factory import build_index, plan_filter
from copilot.retrieval.index_qdrant import QdrantServerIndex
from copilot.retrieval.sparse import Bm25SparseEncoder
from copilot.types import (
    AccessScope,
    Chunk,
    IndexedChunk,
    SearchMode,
    SearchRequest,
    SparseVector,
)

pytestmark = pytest.mark.unit

DIM = 8
BM25 = Bm25SparseEncoder()

# doc_id: (axis, acl_groups, doc_type, site, text of chunk 0, text of chunk 1)
CORPUS: dict[str, tuple[int, tuple[str, ...], str, str | None, str, str]] = {
    "pump": (0, ("nursing",), "sop", "north",
             "Infusion pump preventive maintenance is due every six months.",
             "Biomedical engineering records infusion pump calibration."),
    "cold": (1, ("pharmacy",), "sop", "south",
             "Vaccines stay in the cold chain between two and eight degrees.",
             "Refrigerator temperature excursions are reported to pharmacy."),
    "contract": (2, ("finance", "procurement"), "contract", None,
                 "The supplier delivery window is 48 hours; late delivery incurs a penalty.",
                 "The supplier contract renews annually unless terminated."),
    "secret": (3, (), "policy", "north",
               "Board minutes on executive salary bands are confidential.",
               "Executive salary review happens in December."),
}
ALL_DOCS = set(CORPUS)


def unit(axis: int, wobble: float = 0.0) -> list[float]:
    """A unit vector on ``axis``, tilted by ``wobble`` towards the next axis (so chunks differ slightly)."""
    v = [0.0] * DIM
    v[axis] = 1.0
    v[(axis + 1) % DIM] = wobble
    n = math.sqrt(sum(x * x for x in v))
    return [x / n for x in v]


def centroid() -> list[float]:
    v = [1.0 if i < len(CORPUS) else 0.0 for i in range(DIM)]
    n = math.sqrt(sum(x * x for x in v))
    return [x / n for x in v]


def make_items() -> list[IndexedChunk]:
    items = []
    for doc_id, (axis, acl, doc_type, site, *texts) in CORPUS.items():
        sparse = BM25.embed_documents(texts)
        for ordinal, text in enumerate(texts):
            chunk = Chunk(
                doc_id=doc_id, ordinal=ordinal, text=text, title=doc_id.title(), section="Scope",
                page_start=ordinal + 1, page_end=ordinal + 1, source_url=f"file:///{doc_id}.pdf",
                doc_type=doc_type, site=site, department=None, acl_groups=acl, checksum=f"sha-{doc_id}",
                token_count=len(text.split()),
            )
            items.append(IndexedChunk(chunk=chunk, dense=unit(axis, 0.1 * ordinal), sparse=sparse[ordinal]))
    return items


ITEMS = make_items()
ADMIN = AccessScope.admin()


def make_edge(tmp_path: Path) -> EdgeIndex:
    return EdgeIndex(tmp_path / "qdrant", DIM)


def make_qdrant_memory(tmp_path: Path) -> QdrantServerIndex:
    return QdrantServerIndex(location=":memory:", dimension=DIM, collection="contract")


FACTORIES = {"edge": make_edge, "qdrant-memory": make_qdrant_memory}


def _opened(kind: str, where: Path) -> Iterator[EdgeIndex | QdrantServerIndex]:
    idx = FACTORIES[kind](where)
    idx.open()
    idx.upsert(ITEMS)
    try:
        yield idx
    finally:
        idx.close()


@pytest.fixture(params=sorted(FACTORIES))
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EdgeIndex | QdrantServerIndex]:
    """A fresh index per test, for tests that write."""
    yield from _opened(request.param, tmp_path)


@pytest.fixture(scope="module", params=sorted(FACTORIES))
def ro_index(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
             ) -> Iterator[EdgeIndex | QdrantServerIndex]:
    """One index per shape for the read-only tests (many table rows; building per row is wasted time)."""
    yield from _opened(request.param, tmp_path_factory.mktemp(request.param))


def req(scope: AccessScope = ADMIN, *, dense: list[float] | None = None, text: str | None = None,
        mode: SearchMode = SearchMode.HYBRID, limit: int = 20, **filters: str) -> SearchRequest:
    return SearchRequest(scope=scope, dense=dense, sparse=BM25.embed_query(text) if text else None,
                         mode=mode, limit=limit, filters=filters)


def docs(hits: list) -> set[str]:
    return {h.chunk.doc_id for h in hits}


EVERY_WORD = "infusion vaccines supplier salary"


# ---------------------------------------------------------------------------------------------- writes


def test_upsert_is_idempotent(index) -> None:
    assert index.count() == len(ITEMS)
    index.upsert(ITEMS)
    index.upsert(ITEMS[:3])
    assert index.count() == len(ITEMS)
    assert index.count("pump") == 2
    assert index.count("nope") == 0


def test_upsert_replaces_payload_of_same_point(index) -> None:
    item = ITEMS[0]
    changed = IndexedChunk(chunk=Chunk.from_payload({**item.chunk.payload(), "text": "rewritten"}),
                           dense=item.dense, sparse=item.sparse)
    index.upsert([changed])
    texts = {c.text for c in index.iter_chunks() if c.doc_id == item.chunk.doc_id}
    assert "rewritten" in texts and item.chunk.text not in texts
    assert index.count() == len(ITEMS)


def test_iter_chunks_round_trips_every_payload(index) -> None:
    stored = sorted(index.iter_chunks(batch_size=3), key=lambda c: (c.doc_id, c.ordinal))
    expected = sorted((i.chunk for i in ITEMS), key=lambda c: (c.doc_id, c.ordinal))
    assert stored == expected


def test_delete_document(index) -> None:
    index.delete_document("pump")
    assert index.count("pump") == 0
    assert index.count() == len(ITEMS) - 2
    assert "pump" not in docs(index.search(req(dense=unit(0), text="infusion pump")))
    index.delete_document("pump")  # deleting again is a no-op
    assert index.count() == len(ITEMS) - 2


# ---------------------------------------------------------------------------------------------- ranking


@pytest.mark.parametrize(
    ("mode", "axis", "text", "expected_top"),
    [
        (SearchMode.DENSE, 0, None, "pump"),
        (SearchMode.DENSE, 2, None, "contract"),
        (SearchMode.SPARSE, None, "cold chain vaccines", "cold"),
        (SearchMode.SPARSE, None, "late delivery penalty", "contract"),
        (SearchMode.HYBRID, 1, "refrigerator temperature", "cold"),
        (SearchMode.HYBRID, 0, "infusion pump calibration", "pump"),
    ],
)
def test_ranking_sanity(ro_index, mode, axis, text, expected_top) -> None:
    dense = unit(axis) if axis is not None else None
    hits = ro_index.search(req(dense=dense, text=text, mode=mode, limit=3))
    assert hits, "expected at least one hit"
    assert hits[0].chunk.doc_id == expected_top
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_dense_scores_are_cosine(ro_index) -> None:
    hits = ro_index.search(req(dense=unit(0), mode=SearchMode.DENSE, limit=2))
    assert hits[0].chunk.ordinal == 0 and hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert hits[1].score == pytest.approx(1 / math.sqrt(1.01), abs=1e-5)


def test_hybrid_fuses_both_lists(ro_index) -> None:
    """Dense points at pump, sparse at salary: RRF must surface both, each list's winner near the top."""
    hits = ro_index.search(req(dense=unit(0), text="executive salary bands", limit=4))
    top = [h.chunk.doc_id for h in hits[:4]]
    assert set(top) == {"pump", "secret"}


def test_hybrid_with_stopword_only_query_falls_back_to_dense(ro_index) -> None:
    hits = ro_index.search(req(dense=unit(1), text="the and of", limit=1))
    assert [h.chunk.doc_id for h in hits] == ["cold"]
    assert ro_index.search(req(text="the and of", mode=SearchMode.SPARSE)) == []


def test_hits_carry_citation_fields(ro_index) -> None:
    hit = ro_index.search(req(dense=unit(2), mode=SearchMode.DENSE, limit=1))[0]
    assert hit.chunk == next(i.chunk for i in ITEMS if i.chunk.point_id == hit.point_id)
    assert (hit.chunk.title, hit.chunk.page_start, hit.chunk.source_url) == ("Contract", 1, "file:///contract.pdf")


# ---------------------------------------------------------------------------------------------- ACL


ACL_CASES = [
    ("one group", AccessScope(groups=("nursing",)), {"pump"}),
    ("two groups", AccessScope(groups=("pharmacy", "finance")), {"cold", "contract"}),
    ("second group of a doc", AccessScope(groups=("procurement",)), {"contract"}),
    ("unknown group", AccessScope(groups=("nobody",)), set()),
    ("no groups", AccessScope(groups=()), set()),
    ("blank group", AccessScope(groups=("",)), set()),
    ("admin group name without admin flag", AccessScope(groups=("copilot_admin",)), set()),
    ("admin", AccessScope.admin(), ALL_DOCS),
    ("admin flag alone", AccessScope(is_admin=True), ALL_DOCS),
]


@pytest.mark.parametrize("mode", list(SearchMode))
@pytest.mark.parametrize(("case", "scope", "visible"), ACL_CASES, ids=[c[0] for c in ACL_CASES])
def test_acl_is_applied_inside_the_query(ro_index, mode, case, scope, visible) -> None:
    # limit 1 per visible doc would do if the filter ran after the query; a post-filter on a top-k list
    # would lose the visible docs behind the invisible ones, so ask for exactly as many as may be visible.
    limit = max(1, 2 * len(visible))
    hits = ro_index.search(req(scope, dense=centroid(), text=EVERY_WORD, mode=mode, limit=limit))
    assert docs(hits) == visible
    if mode is not SearchMode.SPARSE:  # the sparse query matches only some chunks of each document
        assert len(hits) == 2 * len(visible)


def test_chunk_without_acl_only_for_admin(ro_index) -> None:
    """Fail closed: 'secret' has no ACL groups; only an admin sees it, whatever the non-admin's groups."""
    every_group = AccessScope(groups=("nursing", "pharmacy", "finance", "procurement", "copilot_admin"))
    assert "secret" not in docs(ro_index.search(req(every_group, dense=unit(3), text="salary")))
    assert "secret" in docs(ro_index.search(req(ADMIN, dense=unit(3), text="salary")))


# ---------------------------------------------------------------------------------------------- filters


@pytest.mark.parametrize(
    ("scope", "filters", "visible"),
    [
        (ADMIN, {"doc_type": "contract"}, {"contract"}),
        (ADMIN, {"doc_type": "sop"}, {"pump", "cold"}),
        (ADMIN, {"site": "north"}, {"pump", "secret"}),
        (ADMIN, {"site": "north", "doc_type": "sop"}, {"pump"}),
        (AccessScope(groups=("nursing", "pharmacy")), {"site": "south"}, {"cold"}),
        (AccessScope(groups=("nursing",)), {"site": "south"}, set()),
        (ADMIN, {"doc_id": "cold"}, {"cold"}),
        (ADMIN, {"doc_type": "nothing-like-this"}, set()),
    ],
)
def test_extra_filters_are_exact_matches(ro_index, scope, filters, visible) -> None:
    hits = ro_index.search(req(scope, dense=centroid(), text=EVERY_WORD, **filters))
    assert docs(hits) == visible


def test_unknown_filter_field_is_refused(ro_index) -> None:
    with pytest.raises(ValidationError, match="unknown filter"):
        ro_index.search(req(dense=unit(0), text="pump", doc_typo="sop"))


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (SearchRequest(scope=ADMIN, dense=None, sparse=SparseVector((1,), (1.0,))), "dense"),
        (SearchRequest(scope=ADMIN, dense=unit(0), sparse=None), "sparse"),
        (SearchRequest(scope=ADMIN, dense=[1.0, 0.0], mode=SearchMode.DENSE), "dimension"),
        (SearchRequest(scope=ADMIN, dense=unit(0), mode=SearchMode.DENSE, limit=0), "limit"),
    ],
)
def test_malformed_requests_are_refused(ro_index, request_, message) -> None:
    with pytest.raises(ValidationError, match=message):
        ro_index.search(request_)


# ---------------------------------------------------------------------------------------------- ACL updates


def test_set_document_acl_changes_visibility_not_vectors(index) -> None:
    probe = req(ADMIN, dense=unit(1), text="cold chain vaccines refrigerator")
    before_scores = {h.point_id: h.score for h in index.search(probe)}
    point = next(i.chunk.point_id for i in ITEMS if i.chunk.doc_id == "cold")
    before_vectors = index.vectors(point)

    assert index.set_document_acl("cold", ["nursing"]) == 2

    assert "cold" in docs(index.search(req(AccessScope(groups=("nursing",)), dense=unit(1), text="vaccines")))
    assert docs(index.search(req(AccessScope(groups=("pharmacy",)), dense=unit(1), text="vaccines"))) == set()
    assert {h.point_id: h.score for h in index.search(probe)} == pytest.approx(before_scores)
    assert index.vectors(point) == before_vectors
    assert index.count() == len(ITEMS)
    stored = {c.acl_groups for c in index.iter_chunks() if c.doc_id == "cold"}
    assert stored == {("nursing",)}


def test_set_document_acl_to_empty_hides_from_everyone_but_admin(index) -> None:
    assert index.set_document_acl("pump", []) == 2
    assert docs(index.search(req(AccessScope(groups=("nursing",)), dense=unit(0), text="pump"))) == set()
    assert "pump" in docs(index.search(req(ADMIN, dense=unit(0), text="pump")))


def test_set_document_acl_of_unknown_document_touches_nothing(index) -> None:
    assert index.set_document_acl("missing", ["nursing"]) == 0
    assert docs(index.search(req(AccessScope(groups=("nursing",)), dense=centroid(), text=EVERY_WORD))) == {
        "pump"}


# ---------------------------------------------------------------------------------------------- lifecycle


def test_closed_index_raises_typed_error(tmp_path: Path) -> None:
    for idx in (make_edge(tmp_path), make_qdrant_memory(tmp_path)):
        with pytest.raises(IndexError_, match="not open"):
            idx.count()
        idx.upsert([])  # nothing to write: fine even when closed


def test_both_shapes_rank_identically(tmp_path: Path) -> None:
    """Same encoder, same schema, same RRF constant: the shapes agree on hits and scores.

    Points tied on score may come back in either order; in hybrid mode such ties in a prefetch list change
    the fused scores of the tied points, so there only the (untied) winner is compared.
    """
    queries = [(0, "infusion pump"), (2, "supplier penalty salary"), (1, "cold chain excursions")]
    results = []
    for make in (make_edge, make_qdrant_memory):
        with make(tmp_path) as idx:
            idx.upsert(ITEMS)
            results.append({
                (m, a): [(h.point_id, round(h.score, 4))
                         for h in idx.search(req(dense=unit(a), text=t, mode=m))]
                for m in SearchMode for a, t in queries
            })
    edge, memory = results
    for key, e_hits in edge.items():
        m_hits = memory[key]
        assert e_hits[0][1] == m_hits[0][1], key  # the same top score
        top = e_hits[0][1]
        # the same set of points shares the top score (their order among themselves is not defined)
        assert {p for p, s in e_hits if s == top} == {p for p, s in m_hits if s == top}, key
        if key[0] is SearchMode.HYBRID:
            continue
        assert sorted(s for _, s in e_hits) == sorted(s for _, s in m_hits), key
        untied = {s for _, s in e_hits if [x for _, x in e_hits].count(s) == 1}
        assert {p for p, s in e_hits if s in untied} == {p for p, s in m_hits if s in untied}, key


def test_edge_reopen_keeps_points_and_indexes(tmp_path: Path) -> None:
    with make_edge(tmp_path) as idx:
        idx.upsert(ITEMS)
        idx.optimize()
    with make_edge(tmp_path) as idx:
        assert idx.count() == len(ITEMS)
        hits = idx.search(req(AccessScope(groups=("pharmacy",)), dense=unit(1), text="vaccines", limit=1))
        assert [h.chunk.doc_id for h in hits] == ["cold"]
        idx.upsert(ITEMS)
        assert idx.count() == len(ITEMS)


def test_edge_refuses_a_different_dimension(tmp_path: Path) -> None:
    with make_edge(tmp_path) as idx:
        idx.upsert(ITEMS)
    with pytest.raises(IndexError_) as err:
        EdgeIndex(tmp_path / "qdrant", DIM * 2).open()
    assert err.value.code == "index_incompatible"


def test_edge_second_open_in_process_names_the_owner(tmp_path: Path) -> None:
    with make_edge(tmp_path) as first:
        with pytest.raises(IndexLockedError) as err:
            make_edge(tmp_path).open()
        assert str(tmp_path / "qdrant") in err.value.message
        assert f"process {os.getpid()}" in err.value.message
        assert first.count() == 0  # the owner is unaffected
    assert not first.owner_file.exists()
    with make_edge(tmp_path) as again:  # released on close
        assert again.count() == 0


@pytest.mark.parametrize(("threshold", "graph_built"), [(10, True), (10_000, False)])
def test_edge_hnsw_threshold_decides_whether_optimize_builds_a_graph(tmp_path, threshold, graph_built):
    import random

    rng = random.Random(7)
    base = ITEMS[0]
    items = []
    for n in range(300):
        v = [rng.gauss(0, 1) for _ in range(DIM)]
        norm = math.sqrt(sum(x * x for x in v))
        chunk = Chunk.from_payload({**base.chunk.payload(), "doc_id": f"d{n}", "acl_groups": ["nursing"]})
        items.append(IndexedChunk(chunk=chunk, dense=[x / norm for x in v], sparse=base.sparse))
    with EdgeIndex(tmp_path / "q", DIM, hnsw_threshold=threshold) as idx:
        idx.upsert(items)
        idx.optimize()
        stats = idx.stats()
        assert stats["points"] == 300
        assert (stats["hnsw_segments"] > 0) is graph_built
        query = items[5].dense
        scope = AccessScope(groups=("nursing",))
        hits = idx.search(req(scope, dense=list(query), mode=SearchMode.DENSE, limit=1))
        assert hits[0].chunk.doc_id == "d5"


# ---------------------------------------------------------------------------------------------- factory


def test_factory_defaults_to_edge_in_the_data_dir(tmp_path: Path) -> None:
    idx = build_index(Settings(data_dir=tmp_path, hnsw_threshold=1234), dimension=384)
    assert isinstance(idx, EdgeIndex)
    assert (idx.path, idx.dimension, idx.hnsw_threshold) == (tmp_path / "qdrant", 384, 1234)
    assert not (tmp_path / "qdrant").exists()  # cheap constructor: nothing opened yet


def test_factory_builds_the_server_shape_from_the_url(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, qdrant_url="http://qdrant:6333", qdrant_api_key="k3y",
                        qdrant_collection="net", qdrant_shards=3, qdrant_replicas=2)
    idx = build_index(settings, dimension=384)
    assert isinstance(idx, QdrantServerIndex)
    assert (idx.url, idx.collection, idx.shards, idx.replicas, idx.dimension) == (
        "http://qdrant:6333", "net", 3, 2, 384)
    assert "k3y" not in idx.where


@pytest.mark.filterwarnings("ignore:Failed to obtain server version")
def test_unreachable_server_is_a_typed_error() -> None:
    idx = QdrantServerIndex(url="http://127.0.0.1:9", dimension=DIM, timeout=2)
    with pytest.raises(IndexError_) as err:
        idx.open()
    assert err.value.code == "index_unavailable"
    assert "127.0.0.1:9" in err.value.message


# ---------------------------------------------------------------------------------------------- pure parts


@pytest.mark.parametrize(
    ("scope", "match_nothing", "acl_any"),
    [
        (AccessScope(groups=("b", "a", "a")), False, ("a", "b")),
        (AccessScope(groups=()), True, ()),
        (AccessScope.admin(), False, None),
    ],
)
def test_plan_filter(scope, match_nothing, acl_any) -> None:
    plan = plan_filter(scope, {"site": "north"})
    assert (plan.match_nothing, plan.acl_any, plan.exact) == (match_nothing, acl_any, (("site", "north"),))


def test_bm25_encoder_is_deterministic_and_sorted() -> None:
    a, b = BM25.embed_documents(["Infusion pumps, infusion lines."] * 2)
    assert a == b and list(a.indices) == sorted(a.indices)
    q = BM25.embed_query("infusion pump")
    assert set(q.indices) <= set(a.indices) and set(q.values) == {1.0}
    assert BM25.embed_query("the of and") == SparseVector((), ())
