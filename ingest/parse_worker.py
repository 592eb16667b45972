"""Parse one file in a separate, killable process with time and memory limits.

Usage (internal): python -m ingest.parse_worker PATH DISPLAY_NAME MAX_PAGES MAX_CHARS MEMORY_MB [CPU_S]
Prints one JSON object to stdout: the loader result, or {"error": "..."}.
"""
from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
MAX_NAME_CHARS = 200
_NAME_UNSAFE = re.compile(r"[\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _limit_memory(mb: int) -> None:
    try:
        import resource

        limit = mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # Windows or a hard limit already lower
        pass


def _limit_cpu(seconds: int) -> None:
    """A second line of defence behind the parent's wall-clock timeout."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 5))
    except (ImportError, ValueError, OSError):
        pass


def safe_name(display_name: str) -> str:
    """The uploader's file name only picks the loader (by extension) and appears in messages: drop
    control and bidi-override characters, NULs and lone surrogates (which cannot be passed as an
    argument at all) and shorten it, keeping the extension."""
    name = _NAME_UNSAFE.sub("", display_name).replace("\\", "/").rsplit("/", 1)[-1].strip()
    if len(name) > MAX_NAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:16] if dot else ""
        name = stem[:MAX_NAME_CHARS - len(ext) - 1] + ("." + ext if ext else "")
    return name or "upload"


def _parse(path: str, name: str, max_pages: int, max_chars: int) -> dict[str, Any]:
    # Imported inside main's handlers, so that a memory limit too low even for the loaders' imports
    # ends as the same "needs too much memory" message as a file that needs too much.
    from ingest.loaders import LoadError, load_bytes

    try:
        return load_bytes(name, Path(path).read_bytes(), max_pages=max_pages, max_chars=max_chars)
    except LoadError as exc:
        return {"error": str(exc)}


def main(argv: list[str]) -> int:
    path, name, max_pages, max_chars, mem = argv[1], argv[2], int(argv[3]), int(argv[4]), int(argv[5])
    _limit_memory(mem)
    if len(argv) > 6:
        _limit_cpu(int(argv[6]))
    try:
        out = _parse(path, name, max_pages, max_chars)
    except MemoryError:
        out = {"error": "This file needs too much memory to read. Upload a smaller or simpler file."}
    except RecursionError:
        out = {"error": "This file is nested too deeply to read. Upload a simpler copy."}
    except Exception as exc:  # a loader bug must still end as a message, not a traceback
        print(f"parse worker: {type(exc).__name__}: {exc}", file=sys.stderr)
        out = {"error": f"This file could not be read ({type(exc).__name__}). Try another copy, or "
                        "save it again as PDF or text."}
    sys.stdout.write(json.dumps(out))
    return 0


class ParseFailed(Exception):
    pass


def parse_in_worker(path: Path, display_name: str, *, timeout_s: float, memory_mb: int,
                    max_pages: int, max_chars: int) -> dict[str, Any]:
    """Run the worker; any crash, kill or timeout becomes a ParseFailed with a plain message."""
    cpu_s = max(1, int(timeout_s) + 1)
    cmd = [sys.executable, "-m", "ingest.parse_worker", str(path), safe_name(display_name),
           str(max_pages), str(max_chars), str(memory_mb), str(cpu_s)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parents[1]),
                                                                      os.environ.get("PYTHONPATH")]))}
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout_s, env=env, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ParseFailed(f"Reading this file took longer than {timeout_s:g} s and was stopped. The "
                          "file may be damaged or built to hang readers; try another copy.") from None
    if proc.returncode != 0:
        log.warning("parse worker for %r exited with %s: %s", safe_name(display_name), proc.returncode,
                    proc.stderr[-2000:].decode("utf-8", "replace"))
        raise ParseFailed("This file could not be processed (the reader crashed or ran out of memory). "
                          "Try another copy, or save it again as PDF or text.")
    try:
        out = json.loads(proc.stdout)
    except ValueError:
        raise ParseFailed("This file could not be processed (unreadable reader output).") from None
    if "error" in out:
        raise ParseFailed(out["error"])
    return out


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
