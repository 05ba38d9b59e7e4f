"""Policies: the embedded tiny causal LM, its tokenizer, pretraining, and scoring.

Importing this package changes no global state: transformers' logging is
quieted only around rigorlab's own calls (policy/quiet.py).
"""
