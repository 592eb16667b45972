"""Parse one file in a separate, killable process with time and memory limits.

Usage (internal): python -m ingest.parse_worker PATH DISPLAY_NAME MAX_PAGES MAX_CHARS MEMORY_MB
Prints one JSON object to stdout: the loader result, or {"error": "..."}.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def _limit_memory(mb: int) -> None:
    try:
        import resource

        limit = mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # Windows or a hard limit already lower
        pass


def main(argv: list[str]) -> int:
    path, name, max_pages, max_chars, mem = argv[1], argv[2], int(argv[3]), int(argv[4]), int(argv[5])
    _limit_memory(mem)
    from ingest.loaders import LoadError, load_bytes

    try:
        data = Path(path).read_bytes()
        out: dict[str, Any] = load_bytes(name, data, max_pages=max_pages, max_chars=max_chars)
    except LoadError as exc:
        out = {"error": str(exc)}
    except MemoryError:
        out = {"error": "This file needs too much memory to read. Upload a smaller or simpler file."}
    sys.stdout.write(json.dumps(out))
    return 0


class ParseFailed(Exception):
    pass


def parse_in_worker(path: Path, display_name: str, *, timeout_s: float, memory_mb: int,
                    max_pages: int, max_chars: int) -> dict[str, Any]:
    """Run the worker; any crash, kill or timeout becomes a ParseFailed with a plain message."""
    cmd = [sys.executable, "-m", "ingest.parse_worker", str(path), display_name, str(max_pages),
           str(max_chars), str(memory_mb)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parents[1]),
                                                                      os.environ.get("PYTHONPATH")]))}
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout_s, env=env, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ParseFailed(f"Reading this file took longer than {timeout_s:.0f} s and was stopped. The "
                          "file may be damaged or built to hang readers; try another copy.") from None
    if proc.returncode != 0:
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
