"""Real checkpoints: sample any local model, verify, and compare a base model with its RL-trained
version (docs/evaluate.md).

    problems.py  the built-in arithmetic set and a user's JSONL of problems
    verify.py    math-verify (as open-r1), numeric, exact, or a user's function
    sample.py    `rigorlab sample`: batched KV-cache sampling, resumable, deterministic per seed
    records.py   the sample file and its settings
    compare.py   `rigorlab compare`: pass@k crossover, diversity, length, repetition
    findings.py  one sentence per finding, worded by whether the intervals separate
    report.py    JSON, Markdown and self-contained HTML
"""
