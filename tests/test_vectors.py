"""The embedded store's FAISS files: a change writes a delta and tombstones, not a new base;
merges drop tombstones; flat below the threshold, HNSW above it. Random vectors, no model."""

import json

import numpy as np
import pytest

from rag.store.vectors import VectorChange, VectorReader, VectorSettings, write_generation

DIM = 16


def unit(n: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_change_writes_a_delta_and_tombstones_then_merges(tmp_path):
    settings = VectorSettings(delta_max=50)
    base_vecs = unit(1000, 1)
    data, tomb, _ = write_generation(tmp_path, None, [], VectorChange([], list(range(1, 1001)), base_vecs), DIM, 1, settings)
    assert data["kind"] == "flat" and data["base"] == "vectors-1.faiss" and data["delta"] is None and not tomb
    base_bytes = (tmp_path / "vectors-1.faiss").read_bytes()

    new = unit(5, 2)
    data2, tomb2, _ = write_generation(tmp_path, data, [], VectorChange([3, 7], list(range(1001, 1006)), new), DIM, 2, settings)
    assert data2["base"] == "vectors-1.faiss" and data2["delta"] == "delta-2.faiss" and tomb2 == [3, 7]
    assert (tmp_path / "vectors-1.faiss").read_bytes() == base_bytes  # the base is not rewritten
    assert (tmp_path / "delta-2.faiss").stat().st_size < len(base_bytes) / 50
    reader = VectorReader(tmp_path, data2, DIM, tomb2, settings)
    assert len(reader) == 1003
    assert reader.search(base_vecs[2], 3)[0][0] != 3  # a tombstoned key is never returned
    assert reader.search(new[0], 1)[0][0] == 1001  # a delta vector is found
    assert np.allclose(reader.reconstruct([1002, 10]), [new[1], base_vecs[9]], atol=1e-6)

    more = unit(60, 3)  # outgrows delta_max: merged into a new base, tombstones dropped
    data3, _, fresh = write_generation(tmp_path, data2, tomb2, VectorChange([], list(range(2000, 2060)), more), DIM, 3, settings)
    assert fresh and data3["base"] == "vectors-3.faiss" and data3["delta"] is None and data3["n"] == 1063
    merged = VectorReader(tmp_path, data3, DIM, [], settings)
    assert len(merged) == 1063 and merged.base.ntotal == 1063
    assert all(k not in (3, 7) for k, _ in merged.search(base_vecs[2], 10))


def test_hnsw_above_the_threshold_and_recall_against_exact(tmp_path):
    settings = VectorSettings(hnsw_threshold=500, ef_search=64)
    vecs = unit(3000, 4)
    data, _, _ = write_generation(tmp_path, None, [], VectorChange([], list(range(1, 3001)), vecs), DIM, 1, settings)
    assert data["kind"] == "hnsw"
    reader = VectorReader(tmp_path, data, DIM, [], settings)
    queries = unit(50, 5)
    exact = np.argsort(-(queries @ vecs.T), axis=1)[:, :10] + 1
    got = [[k for k, _ in reader.search(q, 10)] for q in queries]
    recall = np.mean([len(set(g) & set(e)) / 10 for g, e in zip(got, exact)])
    assert recall >= 0.9
    forced = VectorSettings(kind="flat", hnsw_threshold=500)
    d2, _, _ = write_generation(tmp_path, data, [], VectorChange([], [5000], unit(1, 6)), DIM, 2, forced)
    assert d2["kind"] == "flat"  # a setting overrides the size rule (and rebuilds the base)
    with pytest.raises(Exception, match="vector_index='ivf'"):
        VectorSettings(kind="ivf")
    json.dumps(d2)  # the manifest section is plain JSON


def test_readers_of_one_base_file_share_it_and_a_rewritten_file_is_read_anew(tmp_path):
    settings = VectorSettings(delta_max=50)
    data, _, _ = write_generation(tmp_path, None, [], VectorChange([], list(range(1, 101)), unit(100, 4)), DIM, 1, settings)
    first = VectorReader(tmp_path, data, DIM, [], settings)
    data2, tomb2, _ = write_generation(tmp_path, data, [], VectorChange([5], [101], unit(1, 5)), DIM, 2, settings)
    second = VectorReader(tmp_path, data2, DIM, tomb2, settings)
    assert second.base is first.base  # the next generation reuses the open base: no second copy of it
    assert second.search(unit(100, 4)[4], 1)[0][0] != 5 and first.search(unit(100, 4)[4], 1)[0][0] == 5
    (tmp_path / "vectors-1.faiss").unlink()  # a base written again under the same name is a new file
    again, _, _ = write_generation(tmp_path, None, [], VectorChange([], list(range(1, 11)), unit(10, 6)), DIM, 1, settings)
    assert len(VectorReader(tmp_path, again, DIM, [], settings)) == 10
