"""Gig Rights Assistant: the read side (retrieval, answers) plus shared config and index access."""
