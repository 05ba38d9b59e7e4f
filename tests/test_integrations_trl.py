"""rigorlab's k1-in-reward, MARA and diagnostics inside a real TRL GRPOTrainer run on the tiny model."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from rigorlab.integrations.trl.kl import sequence_k1


def test_k1_in_the_reward_is_the_unbiased_reverse_kl_gradient():
    """Exact expectation over a categorical policy: E[grad log pi * (-beta k1)] = -beta grad KL(pi || ref)."""
    gen = torch.Generator().manual_seed(0)
    theta = torch.randn(6, generator=gen, dtype=torch.float64, requires_grad=True)
    ref = torch.log_softmax(torch.randn(6, generator=gen, dtype=torch.float64), 0)
    beta = 0.3
    logp = torch.log_softmax(theta, 0)
    kl = (logp.exp() * (logp - ref)).sum()
    (grad_kl,) = torch.autograd.grad(kl, theta, retain_graph=True)
    # score-function gradient with the penalty as a (detached) reward, summed exactly over outcomes
    penalty = -beta * sequence_k1(logp.detach()[:, None], ref[:, None], torch.ones(6, 1, dtype=torch.float64))
    surrogate = (logp.exp().detach() * penalty * logp).sum()
    (grad_pg,) = torch.autograd.grad(surrogate, theta)
    assert torch.allclose(grad_pg, -beta * grad_kl, atol=1e-12)
    assert grad_kl.abs().max() > 1e-2


@pytest.fixture(scope="module")
def tiny():
    from conftest import FAST

    from rigorlab.config import load_config
    from rigorlab.rl.trainer import resolve_reference

    return str(resolve_reference(load_config(None, FAST)))


def test_grpo_trainer_with_k1_penalty_and_diagnostics(tiny, tmp_path):
    """TRL's advantages with the penalty equal rigorlab's trainer's (kl k1, placement reward) on the
    same batch; the diagnostics and the periodic pass@k land in trainer.state.log_history."""
    pytest.importorskip("trl")
    datasets = pytest.importorskip("datasets")
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    from rigorlab.integrations.trl import CollapseDiagnostics, KLRewardPenalty, MARAReward, TaskCorrectness, task_dataset
    from rigorlab.policy.sampling import forward_logprobs, gather_tokens
    from rigorlab.rl.advantages import token_advantages
    from rigorlab.rl.batch import TokenBatch
    from rigorlab.rl.objective import advantages_with_penalties
    from rigorlab.rl.regularisers import KLRegulariser
    from rigorlab.rl.trainer import _token_cov

    torch.manual_seed(0)
    ref = AutoModelForCausalLM.from_pretrained(tiny)
    policy = AutoModelForCausalLM.from_pretrained(tiny)
    with torch.no_grad():                       # a policy that differs from its reference, so k1 != 0
        gen = torch.Generator().manual_seed(1)
        for p in policy.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=gen))
    initial = copy.deepcopy(policy)

    class Recording(GRPOTrainer):          # test instrumentation only: keep what TRL computed
        rec_out: list = []
        rec_rewards: list = []

        def _calculate_rewards(self, *a, **k):
            out = super()._calculate_rewards(*a, **k)
            self.rec_rewards.append(out.detach().clone())
            return out

        def _generate_and_score_completions(self, *a, **k):
            out = super()._generate_and_score_completions(*a, **k)
            self.rec_out.append({key: v.detach().clone() for key, v in out.items() if torch.is_tensor(v)})
            return out

    beta, G = 0.2, 4
    correct = TaskCorrectness("pairs")
    penalty = KLRewardPenalty(beta, ref_model=ref)
    mara = MARAReward(TaskCorrectness("pairs"), beta=beta, ref_model=ref)
    diag = CollapseDiagnostics(task="pairs", verifier=correct, eval_every=1, eval_prompts=4, eval_samples=4,
                               ks=(1, 4), eval_max_new_tokens=6)
    args = GRPOConfig(output_dir=str(tmp_path / "trl"), use_cpu=True, bf16=False, per_device_train_batch_size=8,
                      num_generations=G, max_completion_length=6, max_steps=2, report_to=[], logging_steps=1,
                      save_strategy="no", seed=0, beta=0.0, reward_weights=[1.0, 1.0, 0.0, 0.0])
    trainer = Recording(model=policy, args=args, reward_funcs=[correct, penalty, mara, diag.probe],
                        train_dataset=datasets.Dataset.from_list(task_dataset("pairs", 16, seed=0)),
                        processing_class=AutoTokenizer.from_pretrained(tiny))
    penalty.bind(trainer)
    mara.bind(trainer)
    diag.bind(trainer)
    trainer.train()

    out, rewards = trainer.rec_out[0], trainer.rec_rewards[0]          # the first batch: policy == initial
    pids, pmask, cids = out["prompt_ids"], out["prompt_mask"], out["completion_ids"]
    cmask = out["completion_mask"].float()
    with torch.no_grad():
        logp = gather_tokens(forward_logprobs(initial, pids, pmask, cids, cmask, 1.0), cids) * cmask
        ref_logp = gather_tokens(forward_logprobs(ref, pids, pmask, cids, cmask, 1.0), cids) * cmask
    assert torch.allclose(rewards[:, 1], -beta * sequence_k1(logp, ref_logp, cmask), atol=1e-4)
    assert rewards[:, 1].abs().max() > 1e-2                       # the penalty is not trivially 0

    batch = TokenBatch(logp=logp, old_logp=logp, advantages=torch.zeros_like(logp), mask=cmask, num_generations=G,
                       ref_logp=ref_logp, max_completion_length=6)
    adv, _ = advantages_with_penalties(rewards[:, 0], batch, True, [KLRegulariser("reverse", "k1", "reward")],
                                       {"beta": beta})
    assert torch.allclose(out["advantages"], adv[:, 0], atol=1e-3, rtol=1e-3)
    without = token_advantages(rewards[:, 0], G, True, cmask)[:, 0]
    assert (out["advantages"] - without).abs().max() > 1e-2       # the penalty moved the advantages

    # MARA's change: zero outside the good-enough samples, anchored groups shifted by beta * ref log-prob gaps
    mara_delta = rewards[:, 2].numpy()
    good = rewards[:, 0].numpy() >= 1.0
    assert np.allclose(mara_delta[~good], 0.0)
    ref_seq = ref_logp.sum(1).numpy()
    for g in range(len(good) // G):
        sl = slice(g * G, (g + 1) * G)
        if good[sl].any():
            z = np.flatnonzero(good[sl])[np.argmax(ref_seq[sl][good[sl]])]
            expected = beta * (ref_seq[sl][z] - ref_seq[sl]) * good[sl]
            assert np.allclose(mara_delta[sl], expected, atol=1e-4)

    history = trainer.state.log_history
    logged = [h for h in history if "rigorlab/answers/entropy" in h]
    assert len(logged) == 2
    assert all({"rigorlab/answers/distinct", "rigorlab/answers/coverage", "rigorlab/cov_logp_adv",
                "rigorlab/repetition/ngram_rate", "kl_reward/k1_mean"} <= set(h) for h in logged)
    expected_cov = _token_cov(logp, token_advantages(rewards[:, 0], G, True, cmask), cmask)
    assert logged[0]["rigorlab/cov_logp_adv"] == pytest.approx(expected_cov, abs=1e-5)
    evals = [h for h in history if "rigorlab/eval/pass@1" in h]
    assert [h["step"] for h in evals] == [1, 2]
    assert all(0 <= h["rigorlab/eval/pass@1"] <= h["rigorlab/eval/pass@4"] <= 1 for h in evals)
