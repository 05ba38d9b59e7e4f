"""GRPO-family training: rollout, rewards, advantages, losses, regularisers, controllers.

Each variant is a small registered component; `trainer.GRPOTrainer.train_step` composes them.
Usable without the rest of rigorlab: the components take plain tensors.
"""
