"""Shared UI state: the one assistant per process, and who is signed in to the Library."""
from __future__ import annotations

import logging
import time
from typing import Any

import streamlit as st

from assistant.config import load_settings
from assistant.core import Assistant, build_assistant
from assistant.errors import AssistantError


@st.cache_resource(show_spinner="Loading the knowledge base…")
def get_assistant() -> Assistant:
    a = build_assistant(load_settings())
    if a.store.embedded:
        # This process holds the index's lock, so a version still "pending" was cut off when an
        # earlier app process died mid-upload: mark it failed and drop its chunks.
        from ingest.pipeline import Ingestor

        try:
            fixed = Ingestor(a.settings, a.embedder, a.store, a.catalog).reconcile(orphans=False)
            if any(fixed.values()):
                logging.getLogger(__name__).warning("repaired after a crash: %s", fixed)
        except AssistantError as exc:
            logging.getLogger(__name__).warning("repair skipped: %s", exc)
    try:
        a.warm()  # the classifier and the fact vectors load under the spinner, not on question one
    except AssistantError as exc:  # an empty or unreachable index is reported when a question comes
        logging.getLogger(__name__).warning("warm-up skipped: %s", exc)
    return a


def allow_question(per_minute: int, now: float | None = None) -> bool:
    """Per-session rate limit: at most ``per_minute`` questions in any 60 seconds."""
    now = time.time() if now is None else now
    recent = [t for t in st.session_state.get("asked_at", []) if now - t < 60]
    if len(recent) >= per_minute:
        st.session_state.asked_at = recent
        return False
    st.session_state.asked_at = [*recent, now]
    return True


def signed_in() -> dict[str, Any] | None:
    """{"name", "role"} of the signed-in Library user, or None (workers never need to sign in)."""
    return st.session_state.get("library_user")


def secret(section: str, key: str) -> str | None:
    try:
        return st.secrets.get(section, {}).get(key)  # type: ignore[no-any-return]
    except Exception:  # no secrets file at all
        return None


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:
        return False
