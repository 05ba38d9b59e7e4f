"""One training run end to end: train, evaluate, the exact optimum, provenance, documents.

This layer sits above rl/ (training), theory/ (optima) and disclosure/
(provenance and documents) so that none of them imports another upward;
`rigorlab train` and every study run call `run_training` (docs/architecture.md).
"""
