"""rigorlab inside other trainers: `rigorlab.integrations.trl` for TRL's GRPOTrainer (the `trl` extra)."""
