"""rigorlab: rigour and transparency tools for RL-trained reasoning models."""

__version__ = "0.1.0"
