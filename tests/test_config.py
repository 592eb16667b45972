"""Settings: where they come from, and that a developer's own settings never reach the tests."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from assistant.config import ENV_FILE_VAR, load_settings
from conftest import ROOT

LEAK = "http://leaked.example/v1"


def _dotenv(directory):
    (directory / ".env").write_text(f"GIGRIGHTS_LLM_BASE_URL={LEAK}\nGIGRIGHTS_LLM_MODEL=leaked-model\n")
    return directory / ".env"


def test_a_dotenv_in_the_working_directory_does_not_reach_the_tests(tmp_path, monkeypatch):
    _dotenv(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert load_settings().llm_base_url is None
    # The switch the test fixture sets is what keeps it out: without it the same .env is read...
    monkeypatch.delenv(ENV_FILE_VAR)
    s = load_settings()
    assert s.llm_base_url == LEAK and s.llm_model == "leaked-model"
    # ...and GIGRIGHTS_ENV_FILE may also name another file, read from anywhere.
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv(ENV_FILE_VAR, str(tmp_path / ".env"))
    assert load_settings().llm_model == "leaked-model"


def test_the_developers_environment_and_dotenv_do_not_reach_the_tests(tmp_path):
    """A pytest run started with GIGRIGHTS_LLM_BASE_URL exported and a .env in its working
    directory: the suite's fixtures (tests/conftest.py) remove both, for session fixtures and tests,
    and a test can still set a GIGRIGHTS_* variable itself."""
    _dotenv(tmp_path)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(f"""
        import os
        import pytest
        from assistant.config import load_settings

        @pytest.fixture(scope="session")
        def session_settings():
            return load_settings()

        def test_clean(session_settings):
            assert "GIGRIGHTS_LLM_BASE_URL" not in os.environ and "GIGRIGHTS_TOP_K" not in os.environ
            assert session_settings.llm_base_url is None and session_settings.top_k == 5
            assert load_settings().llm_base_url is None

        def test_a_test_can_set_its_own(monkeypatch):
            monkeypatch.setenv("GIGRIGHTS_TOP_K", "7")
            assert load_settings().top_k == 7
    """))
    env = {**os.environ, "GIGRIGHTS_LLM_BASE_URL": LEAK, "GIGRIGHTS_LLM_MODEL": "leaked-model",
           "GIGRIGHTS_TOP_K": "9", "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])}
    env.pop(ENV_FILE_VAR)  # as in a developer's shell
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "conftest", "-p", "no:cacheprovider",
                        "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path), "test_inner.py"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "2 passed" in r.stdout, r.stdout + r.stderr
