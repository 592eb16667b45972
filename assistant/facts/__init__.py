"""Facts: sourced, dated records of the rules a worker acts on (corpus/facts/*.yaml).

``model`` loads and checks the records and renders one as a sentence; ``match`` picks the records
that answer a question (place, kind of work, what is asked, date) and composes the direct answer.
"""
from .model import (ASKS, KINDS, WORKER_TYPES, Evidence, Fact, FactError, Rendered, Value,  # noqa: F401
                    check_evidence, check_figures, conflicting_figures, due_figures, format_date, load_facts, markdown_sections, numbers,
                    parse_fact, plain, render, render_value)
