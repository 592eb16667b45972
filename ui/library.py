"""Library page: advocacy groups add, review, version and take down documents (sign-in required)."""
from __future__ import annotations

import datetime as dt

import streamlit as st

from assistant.auth import SignIn, parse_accounts
from assistant.config import load_settings
from assistant.citations import escape_markdown
from assistant.errors import AssistantError
from assistant.facts import due_figures, load_facts
from assistant.types import DOC_TYPES
from assistant.understanding.places import place_name
from ingest.library import ALLOWED_EXT, FormError, Library
from ingest.manifest import EXTRA_TOPICS, LANGUAGES, TOPICS
from assistant.feedback import when
from ui.feedback import feedback_tab
from ui.state import get_assistant, oidc_configured, secret, signed_in

st.title("Library")
try:
    a = get_assistant()
except AssistantError as exc:  # no usable data directory or index: say what to fix, not a traceback
    st.error(str(exc))
    st.stop()
s = a.settings


def audit_rows(log: list[dict]) -> list[dict]:
    """The audit log as people read it: the time to the minute, not a Unix timestamp."""
    return [{"when": when(r["ts"]), "who": r["actor"], "action": r["action"], "document": r["doc_id"] or "",
             "version": (r["version"] or "")[:12], "detail": r["detail"] or ""} for r in log]

def sign_in_form() -> None:
    st.caption("For worker centers, unions and legal-aid groups who maintain the documents. Workers "
               "never need an account to ask questions.")
    fresh = load_settings()  # accounts are read on each visit, so changing them needs no restart
    spec = fresh.library_users.get_secret_value() if fresh.library_users else secret("library", "users")
    accounts = parse_accounts(spec)
    if oidc_configured():
        st.button("Sign in with your organisation", on_click=st.login)
        if getattr(st.user, "is_logged_in", False):
            allowed = {e.strip().lower(): r for e, _, r in (x.partition(":") for x in
                       (secret("library", "oidc_users") or "").split(",")) if e.strip()}
            email = str(st.user.get("email", "")).lower()
            if email in allowed:
                st.session_state.library_user = {"name": email, "role": allowed[email] or "editor"}
                st.rerun()
            st.error("Your account is signed in but not allowed to edit the Library. Ask the operator.")
    if not accounts:
        st.info("No Library accounts are configured. The operator sets GIGRIGHTS_LIBRARY_USERS "
                "(see README) or [library] users in .streamlit/secrets.toml.")
        return
    with st.form("sign_in"):
        name = st.text_input("User name")
        password = st.text_input("Password", type="password")
        if st.form_submit_button("Sign in"):
            account, message = SignIn(accounts, a.catalog).attempt(name, password)
            if account is None:
                st.error(message)
            else:
                st.session_state.library_user = {"name": account.name, "role": account.role}
                st.rerun()


def metadata_form(key: str, defaults: dict | None = None) -> dict:
    d = defaults or {}
    c1, c2 = st.columns(2)
    form = {
        "title": c1.text_input("Title", d.get("title", ""), key=f"{key}-title"),
        "doc_type": c2.selectbox("Document type", DOC_TYPES, key=f"{key}-type",
                                 index=DOC_TYPES.index(d.get("doc_type", "guide"))),
        "jurisdiction": c1.text_input(
            "Jurisdiction (ISO 3166 code, optional city: US-CA, US-PA-Philadelphia, ES, CA-BC)",
            d.get("jurisdiction", "US"), key=f"{key}-jur"),
        "language": c2.selectbox("Language", LANGUAGES, key=f"{key}-lang",
                                 index=LANGUAGES.index(d.get("language", "en"))),
        "topics": st.multiselect("Topics", TOPICS + EXTRA_TOPICS, d.get("topics", []), key=f"{key}-top"),
        "source_url": c1.text_input("Official source URL (https://…)", d.get("source_url", ""),
                                    key=f"{key}-url"),
        "publisher": c2.text_input("Publisher", d.get("publisher", ""), key=f"{key}-pub"),
        "effective_date": st.date_input("Effective date", key=f"{key}-eff",
                                        value=dt.date.fromisoformat(d["effective_date"])
                                        if d.get("effective_date") else dt.date.today()),
    }
    return form


def show_outcome(out) -> None:  # noqa: ANN001
    if out.status == "failed":
        st.error(f"Not added: {out.reason} Nothing else changed.")
        return
    st.success(f"{out.doc_id}: {out.status}, {out.chunks} passages. It is a draft until a reviewer "
               "approves it." if out.status != "unchanged" else f"{out.doc_id}: unchanged.")
    for w in out.warnings:
        st.warning(w)
    for f in out.flags:
        st.warning(f"For the reviewer: {f}")


def add_tab(lib: Library) -> None:
    st.caption(f"PDF, HTML, Markdown, text or Word (.docx), up to {s.ingest_max_mb:g} MB and "
               f"{s.ingest_max_pages} pages. Files are read in a separate process (limit "
               f"{s.ingest_timeout_s:.0f} s), so a bad file cannot slow down anyone's chat.")
    last = st.session_state.pop("last_outcome", None)
    if last is not None:
        show_outcome(last)
    source = st.radio("Source", ["Upload a file", "Fetch a web page or PDF by URL"], horizontal=True)
    upload = url = None
    if source == "Upload a file":
        upload = st.file_uploader("File", type=[e.lstrip(".") for e in ALLOWED_EXT])
    else:
        url = st.text_input("URL (https://…)")
    form = metadata_form("add")
    if st.button("Add as draft", type="primary"):
        if upload is None and not url:
            st.error("Choose a file or give a URL first.")
            return
        try:
            with st.status("Adding the document…", expanded=True) as status:
                if upload is not None:
                    out = lib.add_upload(upload.getvalue(), upload.name, form, on_step=st.write)
                else:
                    out = lib.add_url(url, form, on_step=st.write)
                status.update(label="Done" if out.status != "failed" else "Not added",
                              state="complete" if out.status != "failed" else "error")
            st.session_state.last_outcome = out
            st.rerun()  # refresh the review count and lists; the outcome is shown after the rerun
        except FormError as exc:
            for p in exc.problems:
                st.error(p)


def review_tab(lib: Library, reviewer: bool) -> None:
    drafts = lib.drafts()
    if not drafts:
        st.info("Nothing waiting for review.")
    for r in drafts:
        with st.expander(escape_markdown(f"{r['title']} — {r['doc_id']} ({r['jurisdiction']})"),
                         expanded=True):
            st.caption(escape_markdown(f"{r['doc_type']} · {r['language']} · topics {', '.join(r['topics'])}"
                                       f" · effective {r['effective_date']} · file {r['display_name'] or '-'}"))
            st.text(f"Source: {r['source_url']}")
            for f in r["flags"]:
                st.warning(f"Flagged at ingest: {f}")
            hist = lib.history(r["doc_id"])
            if len(hist) > 1:
                st.code(lib.diff(r["doc_id"], hist[-2]["version"], hist[-1]["version"]), language="diff")
            else:
                st.text((lib.catalog.get_text(r["doc_id"], r["version"]) or "")[:3000])
            accept = False
            if r["flags"]:
                accept = st.checkbox("I have read the flagged text above and want to publish it anyway",
                                     key=f"accept-{r['doc_id']}", disabled=not reviewer)
            c1, c2 = st.columns(2)
            if c1.button("Approve", key=f"approve-{r['doc_id']}",
                         disabled=not reviewer or (bool(r["flags"]) and not accept)):
                lib.approve(r["doc_id"], accept_flags=accept)
                st.rerun()
            if c2.button("Reject this draft", key=f"reject-{r['doc_id']}", disabled=not reviewer,
                         help="Only this draft version; the approved version stays published."):
                lib.reject(r["doc_id"], "rejected in review")
                st.rerun()
    if not reviewer:
        st.caption("Only reviewers can approve or take down documents.")


def documents_tab(lib: Library, reviewer: bool) -> None:
    c1, c2, c3, c4 = st.columns(4)
    places = sorted({r["jurisdiction"] for r in lib.documents()})
    jur = c1.selectbox("Jurisdiction", [None, *places], key="f-jur",
                       format_func=lambda j: "All" if j is None else f"{place_name(j)} ({j})")
    typ = c2.selectbox("Type", [None, *DOC_TYPES], key="f-type")
    status = c3.selectbox("Review", [None, "draft", "approved", "taken_down"], key="f-status")
    search = c4.text_input("Search", key="f-search")
    rows = lib.documents(jurisdiction=jur, doc_type=typ, review_status=status, search=search)
    st.dataframe([{k: r[k] for k in ("doc_id", "title", "jurisdiction", "doc_type", "language",
                                     "review_status", "chunk_count", "effective_date", "last_verified")}
                   for r in rows], hide_index=True)
    if not rows:
        return
    doc_id = st.selectbox("Document", [r["doc_id"] for r in rows], key="f-doc")
    hist = lib.history(doc_id)
    st.dataframe([{k: h[k] for k in ("version", "status", "review_status", "current", "effective_date",
                                     "last_verified", "added_by", "error")} for h in hist], hide_index=True)
    if len(hist) > 1:
        versions = [h["version"] for h in hist]
        v1 = st.selectbox("Compare from", versions, index=len(versions) - 2, key="d-from")
        v2 = st.selectbox("to", versions, index=len(versions) - 1, key="d-to")
        st.code(lib.diff(doc_id, v1, v2), language="diff")
    with st.expander("Upload a new version"):
        new = st.file_uploader("New file", type=[e.lstrip(".") for e in ALLOWED_EXT], key="newver")
        if new is not None and st.button("Add new version as draft"):
            show_outcome(lib.new_version(doc_id, new.getvalue(), new.name))
    with st.expander("Edit details"):
        current = next(r for r in rows if r["doc_id"] == doc_id)
        form = metadata_form(f"edit-{doc_id}", current)
        if st.button("Save as new draft version"):
            try:
                show_outcome(lib.edit(doc_id, form))
            except FormError as exc:
                for p in exc.problems:
                    st.error(p)
    c1, c2, c3 = st.columns(3)
    if c1.button("Re-index", key="reindex-one"):
        for o in lib.reindex(doc_id):
            show_outcome(o)
    if current.get("review_status") == "taken_down":
        if c2.button("Restore", key="restore-one", disabled=not reviewer):
            lib.restore(doc_id)
            st.rerun()
    else:
        sure = c2.checkbox("Yes, take down every version", key="confirm-takedown", disabled=not reviewer)
        if c2.button("Take down", key="takedown-one", disabled=not (reviewer and sure),
                     help="Hides every version, including the approved one, until restored."):
            lib.takedown(doc_id, "taken down from the Documents tab")
            st.rerun()
    confirm = c3.checkbox("Yes, delete it", key="confirm-delete", disabled=not reviewer)
    if c3.button("Delete", key="delete-one", disabled=not (reviewer and confirm)):
        lib.delete(doc_id)
        st.rerun()


def coverage_tab(lib: Library) -> None:
    cov = lib.coverage()
    st.caption("Publicly visible documents per jurisdiction and topic (0 = nothing specific).")
    st.dataframe([{"jurisdiction": j, **cov[j]} for j in cov], hide_index=True)
    months = st.number_input("Stale after (months)", 1, 120, s.stale_after_months)
    stale = lib.stale(int(months))
    st.subheader(f"Stale documents ({len(stale)})")
    st.dataframe([{k: r[k] for k in ("doc_id", "title", "jurisdiction", "last_verified")} for r in stale],
                 hide_index=True)
    due = due_figures(load_facts(s.facts_dir), dt.date.today())
    st.subheader(f"Figures due for a check ({len(due)})")
    st.caption("Each was expected to change on its date and no newer verified value is recorded. "
               "Answers say it may have changed; check the official page and update the record.")
    st.dataframe([{"record": r["id"], "jurisdiction": r["jurisdiction"],
                   "figures": ", ".join(f"{k} {v}" for k, v in r["figures"].items()),
                   "from": r["from"], "expected change": r["next_change"], "last verified": r["last_verified"],
                   "official page": r["published_at"]} for r in due], hide_index=True)
    if st.button("Re-index all documents (e.g. after switching the embedder)"):
        with st.status("Re-indexing…"):
            outs = lib.reindex()
        st.success(", ".join(f"{k} {sum(o.status == k for o in outs)}" for k in
                             ("added", "updated", "unchanged", "failed")))


user = signed_in()
if user is None:
    sign_in_form()
else:
    reviewer = user["role"] == "reviewer"
    st.caption(f"Signed in as {user['name']} ({user['role']}). Chat answers include drafts for you.")
    if st.button("Sign out"):
        st.session_state.pop("library_user", None)
        st.rerun()
    lib = Library(a, actor=user["name"], role=user["role"])
    try:
        tabs = st.tabs(["Add", f"Review ({len(lib.drafts())})", "Documents", "Coverage & stale",
                        "Audit log", "Feedback"])
        with tabs[0]:
            add_tab(lib)
        with tabs[1]:
            review_tab(lib, reviewer)
        with tabs[2]:
            documents_tab(lib, reviewer)
        with tabs[3]:
            coverage_tab(lib)
        with tabs[4]:
            st.dataframe(audit_rows(lib.catalog.audit_log()), hide_index=True)
        with tabs[5]:
            feedback_tab(a)
    except AssistantError as exc:
        st.error(str(exc))
