"""A small error hierarchy. Every message is written for the person who has to act on it."""
from __future__ import annotations


class AssistantError(Exception):
    """Base class. ``str(exc)`` is safe to show to a user."""


class ConfigError(AssistantError):
    """A setting is missing or invalid. The message names the variable to set."""


class IndexMissing(AssistantError):
    """No index has been built yet for the configured embedder."""


class IndexLocked(AssistantError):
    """Another process holds the embedded index."""


class StoreUnavailable(AssistantError):
    """The vector store (embedded or server) cannot be reached or did not answer in time."""


class IndexDamaged(StoreUnavailable):
    """The vector index is inconsistent (e.g. after a crash mid-write) and must be rebuilt."""


class ProviderError(AssistantError):
    """The LLM or embedding provider failed in a way retries did not fix."""


class ProviderBusy(ProviderError):
    """The provider asked us to wait longer than we are willing to (HTTP 429 with a long Retry-After)."""


class ProviderConfigError(ProviderError):
    """Authentication or model configuration problem (401/403/404). Never retried."""


class ContextTooLong(ProviderError):
    """The server said the prompt exceeds the model's context window (HTTP 400)."""


class StreamInterrupted(ProviderError):
    """The answer stream stopped in the middle. ``partial`` holds the text that arrived."""

    def __init__(self, message: str, partial: str = "") -> None:
        super().__init__(message)
        self.partial = partial


class BadDocument(AssistantError):
    """A document could not be read or indexed. The message says what to do instead."""


class BadQuestion(AssistantError):
    """The question is empty or too long."""


class BadFeedback(AssistantError):
    """Feedback on an answer with an unknown rating or reason, or a comment that is too long."""
