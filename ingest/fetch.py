"""Download the manifest's official sources (statutes, regulations, agency pages) and index them.

Only when asked (`gigrights ingest --fetch`): the product works offline without it. Each download has
a timeout and a size limit; anything that fails is reported with a reason and changes nothing.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable

from .manifest import Manifest, OfficialSource
from .pipeline import Ingestor, Outcome, Report

USER_AGENT = "GigRightsAssistant/0.1 (+official-source fetch; contact: operator)"
CHUNK = 64 * 1024


class FetchError(Exception):
    pass


def check_target(url: str, allow_hosts: Iterable[str] = ()) -> None:
    """Refuse what a server must never fetch for an editor: anything but https, and any address
    that is loopback, private, link-local, multicast or reserved, after DNS resolution (the Chroma
    API on 127.0.0.1:8000 has no authentication). ``allow_hosts``: "host:port" pairs allowed
    anyway, over http too (tests and local mirrors, GIGRIGHTS_FETCH_ALLOW_HOSTS)."""
    u = urllib.parse.urlparse(url)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise FetchError("only https:// sources can be fetched")
    port = u.port or (443 if u.scheme == "https" else 80)
    if f"{u.hostname}:{port}" in set(allow_hosts):
        return
    if u.scheme != "https":
        raise FetchError("only https:// sources can be fetched")
    try:
        infos = socket.getaddrinfo(u.hostname, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise FetchError(f"could not connect ({exc.strerror or exc})") from None
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        if ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved \
                or ip.is_unspecified:
            raise FetchError(f"{u.hostname} is a local or private address, which is never fetched")


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    def __init__(self, allow_hosts: Iterable[str]) -> None:
        self.allow_hosts = tuple(allow_hosts)

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, ANN201
        check_target(newurl, self.allow_hosts)  # every hop, not only the first URL
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def download(url: str, dest_dir: Path, *, timeout_s: float, max_bytes: int,
             allow_hosts: Iterable[str] = ()) -> tuple[Path, str]:
    """Fetch ``url`` into ``dest_dir``; return (path, kind suffix). Raises FetchError."""
    check_target(url, allow_hosts)
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "text/html,"
                                               "application/pdf,text/plain;q=0.9,*/*;q=0.1"})
    opener = urllib.request.build_opener(_CheckedRedirects(allow_hosts))
    try:
        with opener.open(req, timeout=timeout_s) as resp:  # noqa: S310 - every hop checked
            ctype = (resp.headers.get("content-type") or "").split(";")[0].strip().lower()
            declared = resp.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(f"too large ({int(declared) / 1e6:.1f} MB; limit {max_bytes / 1e6:.0f} MB)")
            suffix = {"application/pdf": ".pdf", "text/html": ".html", "application/xhtml+xml": ".html",
                      "text/plain": ".txt", "text/markdown": ".md"}.get(ctype)
            if suffix is None:
                path_ext = Path(urllib.parse.urlparse(url).path).suffix.lower()
                suffix = path_ext if path_ext in (".pdf", ".html", ".htm", ".txt") else None
            if suffix is None:
                raise FetchError(f"unsupported content type {ctype or 'unknown'!r}")
            fd, name = tempfile.mkstemp(suffix=suffix, dir=dest_dir)
            size = 0
            with open(fd, "wb") as fh:
                while True:
                    block = resp.read(CHUNK)
                    if not block:
                        break
                    size += len(block)
                    if size > max_bytes:
                        fh.close()
                        Path(name).unlink(missing_ok=True)
                        raise FetchError(f"too large (over {max_bytes / 1e6:.0f} MB)")
                    fh.write(block)
            return Path(name), suffix
    except FetchError:
        raise
    except urllib.error.HTTPError as exc:
        raise FetchError(f"the server answered HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(f"could not connect ({reason})") from None


def fetch_official(manifest: Manifest, ing: Ingestor, *, sources: Iterable[OfficialSource] | None = None,
                   timeout_s: float | None = None,
                   on_doc: Callable[[Outcome], None] | None = None) -> Report:
    report = Report()
    dest = Path(ing.s.data_dir) / "sources"
    dest.mkdir(parents=True, exist_ok=True)
    max_bytes = int(ing.s.ingest_max_mb * 1_000_000)
    for src in sources if sources is not None else manifest.official_sources:
        try:
            path, suffix = download(src.url, dest, timeout_s=timeout_s or ing.s.fetch_timeout_s,
                                    max_bytes=max_bytes, allow_hosts=ing.s.fetch_hosts())
        except FetchError as exc:
            report.outcomes.append(Outcome(src.meta.doc_id, "failed", f"Fetching {src.url} failed: {exc}"))
            if on_doc:
                on_doc(report.outcomes[-1])
            continue
        final = dest / f"{src.meta.doc_id}{suffix}"
        path.replace(final)
        meta = replace(src.meta, last_verified=dt.date.today().isoformat())  # the day we fetched it
        report.outcomes.append(ing.ingest_path(final, meta))
        if on_doc:
            on_doc(report.outcomes[-1])
    return report
