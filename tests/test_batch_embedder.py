"""BatchEmbedder: Ray Data's map_batches callable, checked directly and on a local Ray cluster."""

from __future__ import annotations

import importlib.util
import pickle
from collections.abc import Iterator

import numpy
import pytest

from stackit_chutes_core import BatchEmbedder, ConfigurationError, InvalidInputError, to_image_url
from stackit_chutes_core._limiter import limiter_for, reset_limiters
from tests.emulator import ProviderEmulator, png_data_uri
from tests.emulator.embeddings import text_tokens, vectorize

E5 = "stackit/intfloat/e5-mistral-7b-instruct"
QWEN_VL = "stackit/Qwen/Qwen3-VL-Embedding-8B"
TEXTS = [f"document {i} about the river number {i}" for i in range(24)]


@pytest.fixture(scope="module")
def emulator() -> Iterator[ProviderEmulator]:
    with ProviderEmulator(latency_s=0.0, max_lifetime_s=300) as emu:
        yield emu


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    reset_limiters()
    yield
    reset_limiters()


def _expected(texts: list[str]) -> numpy.ndarray:
    return numpy.asarray([vectorize(text_tokens(t), 4096) for t in texts], dtype=numpy.float32)


def _embedder(emulator: ProviderEmulator, **kwargs: object) -> BatchEmbedder:
    return BatchEmbedder(E5, api_key="k", base_url=emulator.base_urls["stackit"], batch_size=5, **kwargs)  # type: ignore[arg-type]


def test_dict_batch_gets_vectors_in_row_order(emulator: ProviderEmulator) -> None:
    batch = {"id": numpy.arange(len(TEXTS)), "text": numpy.asarray(TEXTS, dtype=object)}
    out = _embedder(emulator)(batch)
    assert list(out["id"]) == list(range(len(TEXTS)))
    assert out["embedding"].shape == (len(TEXTS), 4096)
    numpy.testing.assert_array_equal(out["embedding"], _expected(TEXTS))


def test_pickles_without_clients_and_works_after(emulator: ProviderEmulator) -> None:
    embedder = _embedder(emulator)
    embedder({"text": TEXTS[:2]})  # clients now pooled in this process
    state = pickle.dumps(embedder)
    assert b"httpx" not in state and b"OpenAI" not in state
    copy = pickle.loads(state)
    numpy.testing.assert_array_equal(copy({"text": TEXTS[:3]})["embedding"], _expected(TEXTS[:3]))


def test_each_worker_takes_its_share_of_the_budget(emulator: ProviderEmulator) -> None:
    embedder = _embedder(emulator, workers=4, requests_per_minute=600, tokens_per_minute=200_000)
    limiter = limiter_for(embedder.endpoint())
    assert limiter is not None
    assert (limiter.limits.requests_per_minute, limiter.limits.tokens_per_minute) == (150, 50_000)


def test_images_with_their_texts(emulator: ProviderEmulator) -> None:
    images = [png_data_uri(4, 4, (200, 20, 20)), png_data_uri(4, 4, (20, 20, 200))]
    embedder = BatchEmbedder(
        QWEN_VL, column="caption", image_column="image", api_key="k", base_url=emulator.base_urls["stackit"]
    )
    out = embedder({"caption": ["red", "blue"], "image": images})
    assert out["embedding"].shape == (2, 4096)
    assert not numpy.array_equal(out["embedding"][0], out["embedding"][1])
    assert to_image_url(images[0]) == images[0]


def test_bad_configuration_and_batches(emulator: ProviderEmulator) -> None:
    with pytest.raises(ConfigurationError, match="workers must be a positive integer"):
        _embedder(emulator, workers=0)
    with pytest.raises(ConfigurationError, match="needs a text `column`"):
        BatchEmbedder(E5, column=None, api_key="k")
    with pytest.raises(InvalidInputError, match="no column 'text'; columns: \\['body'\\]"):
        _embedder(emulator)({"body": ["x"]})


@pytest.mark.skipif(importlib.util.find_spec("pandas") is None, reason="pandas is not installed (comes with ray[data])")
def test_pandas_batch(emulator: ProviderEmulator) -> None:
    import pandas

    frame = pandas.DataFrame({"text": TEXTS[:4]})
    out = _embedder(emulator)(frame)
    assert list(out.columns) == ["text", "embedding"]
    numpy.testing.assert_array_equal(
        numpy.asarray(out["embedding"].tolist(), dtype=numpy.float32), _expected(TEXTS[:4])
    )


@pytest.mark.skipif(
    importlib.util.find_spec("ray") is None, reason="ray is not installed (optional extra: stackit-chutes[ray])"
)
def test_ray_map_batches_on_a_local_cluster(emulator: ProviderEmulator) -> None:
    """Two actors on a 2-CPU local cluster, 24 rows in batches of 6 (~20 s, most of it Ray's start-up)."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, ignore_reinit_error=True, log_to_driver=False)
    try:
        ds = ray.data.from_items([{"row": i, "text": t} for i, t in enumerate(TEXTS)])
        ds = ds.map_batches(
            BatchEmbedder,
            fn_constructor_kwargs={
                "model": E5,
                "api_key": "k",
                "base_url": emulator.base_urls["stackit"],
                "workers": 2,
                "requests_per_minute": 6000,
            },
            concurrency=2,
            batch_size=6,
        )
        rows = sorted(ds.take_all(), key=lambda r: r["row"])
    finally:
        ray.shutdown()
    assert [r["text"] for r in rows] == TEXTS
    numpy.testing.assert_array_equal(numpy.stack([r["embedding"] for r in rows]), _expected(TEXTS))
