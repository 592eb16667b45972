"""The only module that imports openai for chat. One seam: ``ChatModel.stream(messages)``.

Our own retry loop (the SDK's is off) so that Retry-After is honoured only up to a bound, and every
SDK or transport error is mapped here to an ``AssistantError`` the UI can show as-is.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Iterator, Protocol, Sequence

from .config import Settings
from .errors import ContextTooLong, ProviderBusy, ProviderConfigError, ProviderError, StreamInterrupted

log = logging.getLogger(__name__)


class ChatModel(Protocol):
    name: str

    def stream(self, messages: Sequence[dict[str, str]]) -> Iterator[str]: ...


def _retry_after(exc: Exception) -> float | None:
    resp = getattr(exc, "response", None)
    headers = getattr(resp, "headers", None) or {}
    try:
        if headers.get("retry-after-ms"):
            return float(headers["retry-after-ms"]) / 1000
        if headers.get("retry-after"):
            return float(headers["retry-after"])
    except ValueError:
        return None
    return None


class OpenAIChatModel:
    def __init__(self, settings: Settings, sleep: Callable[[float], None] = time.sleep) -> None:
        import openai

        self._openai = openai
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"
        self._client = openai.OpenAI(base_url=settings.llm_base_url, api_key=key,
                                     timeout=settings.llm_timeout_s, max_retries=0)
        self.name = settings.llm_model or ""
        self._s = settings
        self._sleep = sleep
        # A global cap on in-flight calls: under backpressure users get a fast 'busy' fallback
        # instead of piling up threads on a slow server.
        self._slots = threading.BoundedSemaphore(settings.llm_max_concurrency)

    def _open(self, messages: Sequence[dict[str, str]]):  # noqa: ANN202 - SDK stream type
        oa = self._openai
        attempts = self._s.llm_max_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                return self._client.chat.completions.create(
                    model=self.name, messages=list(messages), stream=True,
                    temperature=self._s.llm_temperature, max_tokens=self._s.llm_max_tokens)
            except (oa.AuthenticationError, oa.PermissionDeniedError, oa.NotFoundError) as exc:
                log.error("LLM configuration problem: %s", type(exc).__name__)
                raise ProviderConfigError("The AI service rejected our configuration (check "
                                          "GIGRIGHTS_LLM_API_KEY and GIGRIGHTS_LLM_MODEL).") from None
            except oa.RateLimitError as exc:
                wait = _retry_after(exc)
                if wait is not None and wait > self._s.llm_max_retry_after_s:
                    raise ProviderBusy("The AI service is busy. Please try again in a few "
                                       "minutes.") from None
                if attempt == attempts:
                    raise ProviderBusy("The AI service is busy (rate limited).") from None
                delay = wait if wait is not None else min(2.0 ** attempt, self._s.llm_max_retry_after_s)
            except oa.BadRequestError as exc:
                body = f"{getattr(exc, 'code', '') or ''} {exc}".lower()
                if "context_length" in body or "maximum context" in body or "too many tokens" in body:
                    raise ContextTooLong("The question and sources are too long for the AI model.") from None
                raise ProviderError(f"The AI service refused the request ({exc.status_code}).") from None
            except (oa.APITimeoutError, oa.APIConnectionError, oa.InternalServerError,
                    oa.APIStatusError) as exc:
                if attempt == attempts:
                    kind = "timed out" if isinstance(exc, oa.APITimeoutError) else "is not responding"
                    raise ProviderError(f"The AI service {kind}.") from None
                delay = min(0.5 * 2 ** (attempt - 1), self._s.llm_max_retry_after_s)
            log.warning("LLM call failed (attempt %d/%d); retrying in %.1fs", attempt, attempts, delay)
            self._sleep(delay)
        raise ProviderError("The AI service is not responding.")  # pragma: no cover

    def stream(self, messages: Sequence[dict[str, str]]) -> Iterator[str]:
        if not self._slots.acquire(timeout=self._s.llm_queue_wait_s):
            raise ProviderBusy("Many people are asking right now.")
        try:
            yield from self._stream(messages)
        finally:
            self._slots.release()

    def _stream(self, messages: Sequence[dict[str, str]]) -> Iterator[str]:
        stream = self._open(messages)
        got: list[str] = []
        finish = None
        try:
            for chunk in stream:
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                finish = choice.finish_reason or finish
                piece = choice.delta.content if choice.delta else None
                if piece:
                    got.append(piece)
                    yield piece
        except GeneratorExit:
            stream.close()  # the reader went away (new question): close the connection
            raise
        except Exception as exc:  # transport drops, SSE error events, malformed chunks
            stream.close()
            log.warning("LLM stream interrupted after %d pieces: %s", len(got), type(exc).__name__)
            if not got:
                raise ProviderError("The AI service dropped the connection.") from None
            raise StreamInterrupted("The answer was cut off.", partial="".join(got)) from None
        if finish is None and got:  # the connection closed without a finish_reason: cut short
            raise StreamInterrupted("The answer was cut off.", partial="".join(got))
        if finish == "content_filter":
            raise StreamInterrupted("The AI service stopped the answer (content filter).",
                                    partial="".join(got))
        if not "".join(got).strip():
            raise ProviderError("The AI service returned an empty answer.")


def build_chat_model(settings: Settings) -> ChatModel | None:
    return OpenAIChatModel(settings) if settings.generative else None
