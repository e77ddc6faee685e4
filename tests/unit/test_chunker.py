"""StructureChunker: section paths, packing, whole tables/lists, splitting, overlap, pages, the hard limit.

Most cases use the deterministic ``WhitespaceTokenizer`` (one token per word) so sizes are obvious; the
property test runs the real all-MiniLM-L6-v2 word-piece tokenizer over randomly generated documents.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter

import pytest

from copilot.errors import ConfigError
from copilot.ingest.chunker import StructureChunker, context_line, embedding_text, split_sentences
from copilot.retrieval.tokenizer import WhitespaceTokenizer, WordPieceTokenizer
from copilot.types import Block, BlockKind, Chunk, LoadedDocument
from fixtures.docs import make_ref

pytestmark = pytest.mark.unit

H, P, L, T = BlockKind.HEADING, BlockKind.PARAGRAPH, BlockKind.LIST, BlockKind.TABLE


def doc(*blocks: Block, **ref_fields: object) -> LoadedDocument:
    ref = make_ref(
        "sop.pdf",
        title="Infusion Pump PM",
        doc_type="sop",
        site="north",
        department="biomed",
        acl_groups=("biomed", "nursing"),
        checksum="c" * 64,
        **ref_fields,
    )
    return LoadedDocument(ref=ref, blocks=tuple(blocks))


def words(n: int, stem: str = "w") -> str:
    return " ".join(f"{stem}{i}" for i in range(n))


def sentences(n: int, length: int = 5, stem: str = "s") -> str:
    """``n`` sentences of ``length`` words each: "S0w1 w2 w3 w4." ..."""
    return " ".join(
        f"S{stem}{i} " + " ".join(f"{stem}{i}x{j}" for j in range(1, length - 1)) + " end." for i in range(n)
    )


def chunker(max_tokens: int = 40, overlap: int = 8, model_max: int = 254) -> StructureChunker:
    return StructureChunker(WhitespaceTokenizer(model_max), max_tokens=max_tokens, overlap_tokens=overlap)


def test_section_paths_follow_heading_levels() -> None:
    d = doc(
        Block(P, "Preamble before any heading."),
        Block(H, "Scope", 1),
        Block(P, "Scope text."),
        Block(H, "Roles", 2),
        Block(H, "Biomed", 3),
        Block(P, "Biomed text."),
        Block(H, "Nursing", 3),
        Block(P, "Nursing text."),
        Block(H, "Records", 2),
        Block(P, "Records text."),
        Block(H, "Appendix", 1),
        Block(P, "Appendix text."),
    )
    chunks = chunker().chunk(d)
    assert [(c.section, c.text) for c in chunks] == [
        ("", "Preamble before any heading."),
        ("Scope", "Scope\n\nScope text."),
        ("Scope > Roles > Biomed", "Biomed\n\nBiomed text."),
        ("Scope > Roles > Nursing", "Nursing\n\nNursing text."),
        ("Scope > Records", "Records\n\nRecords text."),
        ("Appendix", "Appendix\n\nAppendix text."),
    ]


def test_paragraphs_pack_within_a_section_up_to_the_limit_and_never_across_sections() -> None:
    d = doc(
        Block(H, "A", 1),
        *[Block(P, words(10, f"a{i}_")) for i in range(5)],  # 1 + 50 tokens
        Block(H, "B", 1),
        Block(P, words(5, "b")),
    )
    chunks = chunker(max_tokens=40, overlap=0).chunk(d)
    assert [(c.section, c.token_count) for c in chunks] == [("A", 31), ("A", 20), ("B", 6)]
    assert all(c.token_count <= 40 for c in chunks)


@pytest.mark.parametrize(("max_tokens", "model_max", "limit"), [(40, 254, 40), (500, 30, 30), (30, 30, 30)])
def test_limit_is_clamped_to_the_model_budget(max_tokens: int, model_max: int, limit: int) -> None:
    c = StructureChunker(WhitespaceTokenizer(model_max), max_tokens, 4, context_prefix=False)
    assert c.limit == limit
    chunks = c.chunk(doc(Block(P, sentences(40))))
    assert limit - 5 <= max(ch.token_count for ch in chunks) <= limit  # 5-token sentences fill it up


@pytest.mark.parametrize(
    ("title", "section", "line"),
    [
        ("Cold Chain", "", "Cold Chain"),
        ("Cold Chain", "Scope > Fridges", "Cold Chain — Scope > Fridges"),
        ("T", "A" * 150 + " > " + "B" * 150 + " > Fridges", "T — Fridges"),  # outer headings dropped first
        ("T" * 200, "Scope", "T" * 160),
    ],
)
def test_context_line(title: str, section: str, line: str) -> None:
    assert context_line(title, section) == line


def test_context_prefix_tokens_are_reserved_so_embedding_text_fits_the_model() -> None:
    tok = WhitespaceTokenizer(40)
    title = "Very long document title with many words in it"  # 9 tokens
    d = LoadedDocument(
        ref=make_ref("x.md", title=title), blocks=(Block(H, "Scope Rules", 1), Block(P, sentences(30)))
    )
    with_prefix = StructureChunker(tok, 200, 8).chunk(d)
    without = StructureChunker(tok, 200, 8, context_prefix=False).chunk(d)
    assert 28 < max(c.token_count for c in without) <= 40
    # "title — Scope Rules" = 9 + 1 + 2 = 12 tokens reserved
    assert max(c.token_count for c in with_prefix) <= 28
    assert all(tok.count(embedding_text(c)) <= 40 for c in with_prefix)
    assert embedding_text(with_prefix[1]) == f"{title} — Scope Rules\n{with_prefix[1].text}"


def test_table_is_kept_whole_when_it_fits_and_starts_a_new_chunk_if_needed() -> None:
    table = "| Item | Min | Max |\n" + "\n".join(f"| v{i} | 2 | 8 |" for i in range(4))  # 5 rows * 7 = 35
    d = doc(Block(P, words(20)), Block(T, table), Block(P, words(6, "z")))
    chunks = chunker(max_tokens=40, overlap=8).chunk(d)
    assert [c.text for c in chunks] == [words(20), table, words(6, "z")]


def test_big_table_is_split_by_rows_repeating_the_header() -> None:
    header = "| Supplier | Window | Penalty |"
    rows = [f"| S{i} | {i}d | {i}% |" for i in range(30)]  # header 7 tokens, rows 7 tokens
    chunks = chunker(max_tokens=40, overlap=8).chunk(doc(Block(T, "\n".join([header, *rows]))))
    assert len(chunks) > 1
    assert all(c.text.split("\n")[0] == header for c in chunks)
    assert all(c.token_count <= 40 for c in chunks)
    body = [line for c in chunks for line in c.text.split("\n")[1:]]
    assert body == rows  # every row exactly once, in order


def test_big_list_is_split_by_items_and_small_list_stays_whole() -> None:
    items = [f"- item {i} check" for i in range(30)]  # 4 tokens each
    small = "- a one\n- b two"
    chunks = chunker(max_tokens=40, overlap=8).chunk(doc(Block(L, "\n".join(items)), Block(L, small)))
    assert [line for c in chunks for line in c.text.split("\n") if line not in small.split("\n")] == items
    assert any(c.text.endswith(small) for c in chunks)
    assert all(c.token_count <= 40 for c in chunks)


def test_oversize_paragraph_splits_at_sentences_with_overlap() -> None:
    text = sentences(20, length=5)  # 100 tokens, 5 per sentence
    chunks = chunker(max_tokens=40, overlap=10).chunk(doc(Block(P, text)))
    assert len(chunks) >= 3
    for prev, nxt in itertools.pairwise(chunks):
        prev_sents, next_sents = split_sentences(prev.text), split_sentences(nxt.text)
        assert prev.text.endswith("end.")
        assert next_sents[:2] == prev_sents[-2:]  # two 5-token sentences fit the 10-token overlap
    # nothing lost: every sentence appears, in order, once overlaps are removed
    seen: list[str] = []
    for c in chunks:
        seen.extend(s for s in split_sentences(c.text) if s not in seen)
    assert seen == split_sentences(text)


def test_sentence_longer_than_the_limit_splits_at_words() -> None:
    text = words(130)  # no sentence boundary at all
    chunks = chunker(max_tokens=40, overlap=8).chunk(doc(Block(P, text)))
    assert all(c.token_count <= 40 for c in chunks)
    assert " ".join(c.text for c in chunks).split() == text.split()


def test_overlap_never_crosses_sections_or_follows_a_table() -> None:
    d = doc(
        Block(H, "A", 1),
        Block(P, sentences(6, 6, "a")),
        Block(H, "B", 1),
        Block(P, sentences(6, 6, "b")),
        Block(T, "| h |\n" + "\n".join(f"| r{i} |" for i in range(12))),
        Block(P, sentences(1, 6, "c")),
    )
    chunks = chunker(max_tokens=40, overlap=12).chunk(d)
    first_b = next(c for c in chunks if c.section == "B")
    assert "Sa" not in first_b.text
    after_table = chunks[-1]
    assert after_table.text == sentences(1, 6, "c")


def test_page_ranges_come_from_blocks() -> None:
    d = doc(
        Block(H, "Procedure", 1, page=1),
        Block(P, words(10, "p1_"), page=1),
        Block(P, words(10, "p2_"), page=2),
        Block(P, words(25, "p3_"), page=3),
    )
    chunks = chunker(max_tokens=25, overlap=0).chunk(d)
    assert [(c.page_start, c.page_end) for c in chunks] == [(1, 2), (3, 3)]
    html = chunker().chunk(doc(Block(P, "no pages here")))
    assert (html[0].page_start, html[0].page_end) == (None, None)


def test_every_chunk_carries_document_metadata_and_ordinals() -> None:
    chunks = chunker(max_tokens=20, overlap=4).chunk(doc(Block(H, "Scope", 1), Block(P, sentences(12))))
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        assert (c.doc_id, c.title, c.doc_type, c.site, c.department) == (
            "test:sop.pdf",
            "Infusion Pump PM",
            "sop",
            "north",
            "biomed",
        )
        assert c.acl_groups == ("biomed", "nursing") and c.checksum == "c" * 64
        assert c.source_url == "file:///corpus/sop.pdf"
        assert c.token_count == len(c.text.split())
    assert len({c.point_id for c in chunks}) == len(chunks)


def test_heading_only_document_is_not_lost() -> None:
    chunks = chunker().chunk(doc(Block(H, "Annex A", 1), Block(H, "Forms", 2)))
    assert [c.text for c in chunks] == ["Annex A\n\nForms"]


@pytest.mark.parametrize(("max_tokens", "overlap"), [(10, 10), (10, 20), (0, 0), (10, -1)])
def test_invalid_sizes_are_refused(max_tokens: int, overlap: int) -> None:
    with pytest.raises(ConfigError):
        StructureChunker(WhitespaceTokenizer(), max_tokens=max_tokens, overlap_tokens=overlap)


# ------------------------------------------------------------------------------------------------ property

VOCAB = str.split(
    "infusion pump preventive maintenance interval months biomedical engineering cold-chain 2–8°C vaccine "
    "refrigerator excursion SLA penalty 1.5% per late day supplier delivery window renewal 2027-03-31 "
    "approval threshold €25,000 CFO ISO-13485 occlusion alarm Zürich naïve café 東京 医院 ✓ → "
    "defibrillator electrosurgical sterilisation autoclave cycle log-sheet e-mail QA/QC O₂ mmHg µg/mL"
)


def random_doc(rng: random.Random) -> LoadedDocument:
    blocks: list[Block] = []
    page = 1
    for _ in range(rng.randint(1, 15)):
        page += rng.random() < 0.3
        kind = rng.choices([H, P, L, T], weights=[2, 6, 2, 1])[0]
        if kind is H:
            blocks.append(
                Block(H, " ".join(rng.choices(VOCAB, k=rng.randint(1, 8))), rng.randint(1, 4), page)
            )
        elif kind is P:
            sents = []
            for _ in range(rng.randint(1, 12)):
                ws = rng.choices(VOCAB, k=rng.randint(1, 40 if rng.random() < 0.9 else 300))
                if rng.random() < 0.05:  # a pasted hash or URL: one very token-heavy "word"
                    ws.append("".join(rng.choices("0123456789abcdef", k=rng.randint(100, 1500))))
                sents.append(" ".join(ws).capitalize() + rng.choice([".", "!", "?", ";", ""]))
            blocks.append(Block(P, " ".join(sents), page=page))
        elif kind is L:
            items = [" ".join(rng.choices(VOCAB, k=rng.randint(1, 30))) for _ in range(rng.randint(1, 30))]
            blocks.append(Block(L, "\n".join(f"- {i}" for i in items), page=page))
        else:
            cols = rng.randint(1, 6)
            rows = [
                "| "
                + " | ".join(" ".join(rng.choices(VOCAB, k=rng.randint(1, 12))) for _ in range(cols))
                + " |"
                for _ in range(rng.randint(1, 40))
            ]
            blocks.append(Block(T, "\n".join(rows), page=page))
    title = " ".join(rng.choices(VOCAB, k=rng.randint(1, 30)))
    return LoadedDocument(ref=make_ref("random.pdf", title=title), blocks=tuple(blocks))


def _chars(texts: list[str]) -> Counter[str]:
    return Counter(ch for t in texts for ch in t if not ch.isspace() and ch != "|")


@pytest.mark.parametrize(("max_tokens", "overlap"), [(200, 32), (1000, 64), (64, 16)])
def test_property_no_chunk_exceeds_the_model_limit(
    wordpiece: WordPieceTokenizer, max_tokens: int, overlap: int
) -> None:
    from tokenizers import Tokenizer

    model = Tokenizer.from_file(str(wordpiece.model_path / "tokenizer.json"))
    model.no_padding()
    model.no_truncation()
    c = StructureChunker(wordpiece, max_tokens=max_tokens, overlap_tokens=overlap)
    limit = min(max_tokens, wordpiece.max_tokens)
    assert wordpiece.max_tokens == 254
    rng = random.Random(max_tokens * 7919 + overlap)
    for _ in range(20):
        d = random_doc(rng)
        chunks: list[Chunk] = c.chunk(d)
        assert chunks
        texts = [ch.text for ch in chunks]
        # what the model itself sees, [CLS]/[SEP] included: recounted independently of the chunker
        seen = [len(e.ids) for e in model.encode_batch(texts)]
        assert [ch.token_count + 2 for ch in chunks] == seen
        assert max(seen) <= limit + 2 <= 256  # within max_seq_length: nothing is truncated
        # ... and neither is the text the embedder encodes, title and section line included
        assert max(len(e.ids) for e in model.encode_batch([embedding_text(ch) for ch in chunks])) <= 256
        # nothing lost: every non-space character of the content blocks reaches some chunk
        content = [b.text for b in d.blocks if b.kind is not H]
        assert not (_chars(content) - _chars(texts))
        assert [ch.ordinal for ch in chunks] == list(range(len(chunks)))
        assert all(ch.page_start is not None and ch.page_start <= (ch.page_end or 0) for ch in chunks)
