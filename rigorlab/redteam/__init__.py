"""Dynamic safety testing: targets, goals, static suites and adaptive campaigns."""
