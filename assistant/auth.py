"""Library accounts: hashed passwords from the environment or Streamlit secrets, and sign-in
throttling that survives restarts (kept in the catalog). No account is needed to ask questions."""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import time
from dataclasses import dataclass
from typing import Callable

from .catalog import Catalog
from .errors import ConfigError

log = logging.getLogger("gigrights.auth")
ITERATIONS = 600_000           # PBKDF2-SHA256 work factor (OWASP 2023 guidance)
FREE_FAILURES = 3              # failed attempts before back-off starts
BASE_LOCK_S = 2.0              # first lock; doubles with each further failure
MAX_LOCK_S = 900.0             # never lock an account for more than 15 minutes at a time
ROLES = ("editor", "reviewer")


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    b64 = base64.b64encode
    return f"pbkdf2_sha256${iterations}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, encoded: str) -> bool:
    try:
        algo, iters, salt, digest = encoded.split("$")
        if algo != "pbkdf2_sha256":
            return False
        want = base64.b64decode(digest)
        got = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iters))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(want, got)


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    password_hash: str


def parse_accounts(spec: str | None) -> dict[str, Account]:
    """``name:role:hash`` entries separated by ';' or newlines (GIGRIGHTS_LIBRARY_USERS)."""
    out: dict[str, Account] = {}
    for raw in (spec or "").replace("\n", ";").split(";"):
        raw = raw.strip()
        if not raw:
            continue
        parts = raw.split(":", 2)
        if len(parts) != 3 or parts[1] not in ROLES or not parts[2].startswith("pbkdf2_sha256$"):
            raise ConfigError("GIGRIGHTS_LIBRARY_USERS entries must look like name:reviewer:HASH or "
                              "name:editor:HASH; make a HASH with `gigrights users hash`.")
        out[parts[0]] = Account(parts[0], parts[1], parts[2])
    return out


# A dummy hash so that unknown user names cost the same time as known ones.
_DUMMY = hash_password("not-a-real-password", salt=b"0" * 16)


class SignIn:
    def __init__(self, accounts: dict[str, Account], catalog: Catalog,
                 clock: Callable[[], float] = time.time) -> None:
        self.accounts = accounts
        self.catalog = catalog
        self.clock = clock

    def attempt(self, name: str, password: str) -> tuple[Account | None, str]:
        """(account, "") on success; (None, message for the person) otherwise."""
        key = (name or "").strip().lower()[:80]
        failures, locked_until = self.catalog.login_state(key)
        wait = locked_until - self.clock()
        if wait > 0:
            log.warning("sign-in refused while locked: user=%r", key)
            return None, f"Too many failed attempts. Try again in {int(wait) + 1} seconds."
        account = self.accounts.get((name or "").strip())
        ok = verify_password(password or "", account.password_hash if account else _DUMMY)
        if ok and account is not None:
            self.catalog.record_login(key, True)
            self.catalog.audit(account.name, "sign_in")
            return account, ""
        failures += 1
        lock = 0.0 if failures < FREE_FAILURES else min(MAX_LOCK_S, BASE_LOCK_S * 2 ** (failures - FREE_FAILURES))
        self.catalog.record_login(key, False, self.clock() + lock)
        self.catalog.audit(key or "(blank)", "sign_in_failed", detail=f"failures={failures}")
        log.warning("failed sign-in: user=%r failures=%d lock=%.0fs", key, failures, lock)
        return None, "Wrong user name or password." + (f" Wait {int(lock)} seconds before trying again."
                                                        if lock else "")
