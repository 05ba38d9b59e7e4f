"""Build the trainer's components from a config: the one place names become objects."""

from __future__ import annotations

from dataclasses import dataclass

from rigorlab.config import TrainConfig
from rigorlab.rl.controllers import CONTROLLERS, Controller, Fixed
from rigorlab.rl.policy_loss import POLICY_LOSSES, PolicyLoss
from rigorlab.rl.regularisers import REGULARISERS, EntropyBonus, KLRegulariser, Regulariser
from rigorlab.rl.shapers import REWARD_SHAPERS, RewardShaper
from rigorlab.rl import count_bonus, cov_losses, mara  # noqa: F401 (registration)


@dataclass
class Components:
    policy_loss: PolicyLoss
    regularisers: list[Regulariser]
    controllers: dict[str, Controller]
    shapers: list[RewardShaper]


def _controller(cfg: TrainConfig, coef: str, initial: float) -> Controller:
    spec = cfg.controllers.get(coef)
    if spec is None:
        return Fixed(initial)
    return CONTROLLERS.build(spec.name, initial=initial, **spec.params)


def build_components(cfg: TrainConfig) -> Components:
    g = cfg.grpo
    loss_params = {"epsilon": g.epsilon, "epsilon_high": g.epsilon_high, **cfg.loss.params}
    policy_loss = POLICY_LOSSES.build(cfg.loss.name, **loss_params)
    regs: list[Regulariser] = []
    controllers: dict[str, Controller] = {}
    if g.beta > 0 or "beta" in cfg.controllers:
        regs.append(KLRegulariser(direction=g.kl.direction, estimator=g.kl.estimator, placement=g.kl.placement))
        controllers["beta"] = _controller(cfg, "beta", g.beta)
    if g.entropy_coef > 0 or "entropy_coef" in cfg.controllers:
        regs.append(EntropyBonus())
        controllers["entropy_coef"] = _controller(cfg, "entropy_coef", g.entropy_coef)
    for spec in cfg.regularisers:
        params = dict(spec.params)
        coef = float(params.pop("coef", 0.0))
        reg = REGULARISERS.build(spec.name, **params)
        regs.append(reg)
        controllers.setdefault(reg.coef_name, _controller(cfg, reg.coef_name, coef))
    unknown = set(cfg.controllers) - set(controllers)
    if unknown:
        from rigorlab.errors import UserError
        raise UserError(f"controllers: no regulariser uses coefficient {sorted(unknown)[0]!r} "
                        f"(known: {', '.join(sorted(controllers)) or 'none'})")
    shapers = [REWARD_SHAPERS.build(s.name, **s.params) for s in cfg.reward.shapers]
    return Components(policy_loss, regs, controllers, shapers)
