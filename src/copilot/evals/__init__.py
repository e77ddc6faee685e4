"""Evaluation runners (retrieval, answers, redaction); gold sets live in the top-level evals/ folder."""
