"""Dynamic safety testing: goals, detectors, static suites, mutation operators, adaptive search.

A campaign runs a static suite and an adaptive search against the same
target, goals and budget, and reports both attack success rates with exact
intervals and the transcripts that prove every breach. Targets (HTTP
endpoints, local models) live in `rigorlab.redteam.targets`.
"""
