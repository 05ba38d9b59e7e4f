"""Collapse diagnostics: diversity, coverage and repetition of any set of model outputs.

Every metric is one function on plain lists / numpy arrays (docs/theory.md section 8):

- text:       distinct_n, ngram_diversity_score, compression_ratio,
              self_repetition_score, self_bleu, homogenization_rougel,
              ngram_vendi_score (the first four with the `diversity`
              package's definitions)
- embedding:  mean_pairwise_cosine_distance, remote_clique, chamfer_distance,
              embedding_vendi_score, embed (optional extra)
- answers:    distinct_answers, answer_entropy, coverage, no_answer_rate
- passk:      pass_at_k, pass_at_k_curve
- paths:      path_signature, near_duplicate_clusters (MinHash LSH)
- repetition: repetition_profile, find_loops, repeated_ngram_rate, ...
- stats:      bootstrap_ci (clustered by prompt), paired_difference

Pairwise metrics return an `Estimate` (exact, or sampled with a stated bound).
"""

from rigorlab.metrics._estimate import Estimate
from rigorlab.metrics.answers import answer_entropy, coverage, distinct_answers, no_answer_rate
from rigorlab.metrics.errors import MetricInputError
from rigorlab.metrics.passk import pass_at_k, pass_at_k_curve
from rigorlab.metrics.stats import bootstrap_ci, paired_difference
from rigorlab.metrics.text import (
    compression_ratio,
    distinct_n,
    homogenization_rougel,
    ngram_diversity_score,
    ngram_vendi_score,
    self_bleu,
    self_repetition_score,
)

__all__ = [
    "Estimate", "MetricInputError",
    "answer_entropy", "coverage", "distinct_answers", "no_answer_rate",
    "pass_at_k", "pass_at_k_curve", "bootstrap_ci", "paired_difference",
    "compression_ratio", "distinct_n", "homogenization_rougel", "ngram_diversity_score",
    "ngram_vendi_score", "self_bleu", "self_repetition_score",
]
