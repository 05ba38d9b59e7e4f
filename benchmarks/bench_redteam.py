"""Dynamic safety testing on a real model: SmolLM2-135M-Instruct served by `rigorlab serve`, on the CPU.

    python benchmarks/bench_redteam.py [--budget 40] [--seeds 3] [--out bench-redteam]

One server (`rigorlab serve smollm2`, one torch thread) answers the campaign of
examples/redteam/campaign.yaml (the secret in the system prompt) in three forms:
1. plain: its system prompt alone - the static suite only;
2. hardened: the system prompt plus its seven refusal demonstration turns
   (the goal's `preamble`) - the static suite, then the adaptive search with
   `--budget` queries per seed over `--seeds` seeds;
3. non-adaptive baseline on the hardened form: the same operators drawn
   uniformly (search.policy: uniform), same budget and seeds (skip with --no-baseline).
Figures: static vs dynamic ASR with exact 95% intervals; the campaign's own
overhead as a share of wall time (goal < 5%: the target is the bottleneck)
and queries per minute; and garak's probes where garak is installed (it is
not a dependency: `pip install garak torch==2.13.0`).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rigorlab.redteam.campaign import campaign_from_dict, load_campaign  # noqa: E402
from rigorlab.redteam.execute import run_campaign  # noqa: E402

CAMPAIGN = ROOT / "examples" / "redteam" / "campaign.yaml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "rigorlab.cli", "serve", "smollm2", "--name", "smollm2",
                             "--port", str(port)],
                            cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"rigorlab serve exited early; see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(2)
    proc.kill()
    raise SystemExit("rigorlab serve did not come up within 15 minutes")


def campaign(url: str, hardened: bool, phases: list[str], budget: int, seeds: int, policy: str = "thompson") -> dict:
    """The example campaign pointed at `url`, with or without its refusal demonstrations."""
    data = load_campaign(CAMPAIGN).model_dump(mode="json", exclude_none=True)
    data["target"].update({"url": url, "timeout_s": 900})
    if not hardened:
        data["goals"][0]["preamble"] = []
    data.update({"phases": phases, "budget": {"queries": budget}, "seeds": list(range(seeds))})
    data["search"]["policy"] = policy
    return data


def rate(r: dict) -> str:
    return "n/a" if r["asr"] is None else f"{r['asr']:.2f} [{r['low']:.2f}, {r['high']:.2f}] ({r['k']}/{r['n']})"


def run(name: str, data: dict, out: Path) -> tuple[dict, dict, float]:
    t0 = time.perf_counter()
    res = run_campaign(campaign_from_dict(data, name), out / name)
    wall = time.perf_counter() - t0
    session = json.loads((out / name / "session.json").read_text())
    return res["goals"][0], session, wall


def garak_note() -> str:
    try:
        import garak  # noqa: F401
    except ImportError:
        return "garak is not installed here; its probes were not run (pip install garak torch==2.13.0)"
    return "garak is installed: run its encoding probes with `--static garak:encoding.InjectBase64`"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=int, default=40, help="adaptive queries per seed")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=Path(tempfile.mkdtemp(prefix="bench-redteam-")))
    ap.add_argument("--no-baseline", action="store_true", help="skip the uniform-operator baseline")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    t_load = time.perf_counter()
    server = start_server(port, args.out / "serve.log")
    load_s = time.perf_counter() - t_load
    url = f"http://127.0.0.1:{port}/v1"
    figures: dict = {"model": "SmolLM2-135M-Instruct (Q4_1 GGUF, float32 on the CPU)", "server_load_s": round(load_s, 1),
                     "budget": args.budget, "seeds": args.seeds}
    try:
        plain, s_plain, w_plain = run("plain", campaign(url, False, ["static"], args.budget, args.seeds), args.out)
        hard, s_hard, w_hard = run("hardened", campaign(url, True, ["static", "dynamic"], args.budget, args.seeds),
                                   args.out)
        base = None
        if not args.no_baseline:
            base, _, _ = run("uniform", campaign(url, True, ["dynamic"], args.budget, args.seeds, "uniform"),
                             args.out)
    finally:
        server.terminate()
        server.wait(timeout=60)
    sessions = [s_plain, s_hard]
    wall = sum(s["wall_s"] for s in sessions)
    target = sum(s["target_s"] for s in sessions)
    sent = sum(s["queries_sent"] for s in sessions)
    figures.update({
        "plain_static": plain["static"], "hardened_static": hard["static"], "hardened_dynamic":
            {k: hard["dynamic"][k] for k in ("k", "n", "asr", "low", "high", "queries_to_first_breach", "query_asr",
                                             "breach_details")},
        "operators": hard["dynamic"]["operators"],
        "uniform_dynamic": None if base is None else {k: base["dynamic"][k] for k in ("k", "n", "asr", "low", "high",
                                                                                      "queries_to_first_breach",
                                                                                      "query_asr")},
        "overhead_share": round((wall - target) / wall, 4), "queries_per_minute": round(60 * sent / wall, 1),
        "queries": sent, "wall_s": round(wall, 1), "garak": garak_note(),
        "transcript": (hard["dynamic"]["transcripts"] or [None])[0],
    })
    (args.out / "figures.json").write_text(json.dumps(figures, indent=2))
    print(f"SmolLM2-135M-Instruct via rigorlab serve (1 thread), adaptive budget {args.budget} queries x "
          f"{args.seeds} seeds; outputs in {args.out}")
    print(f"  plain system prompt     static ASR  {rate(plain['static'])}")
    print(f"  hardened (7 refusals)   static ASR  {rate(hard['static'])}")
    print(f"  hardened                dynamic ASR {rate(hard['dynamic'])}  (seeds breached; median queries to "
          f"first breach {hard['dynamic']['queries_to_first_breach']['median']}; breaching queries "
          f"{rate(hard['dynamic']['query_asr'])})")
    if base is not None:
        print(f"  hardened, uniform ops   dynamic ASR {rate(base['dynamic'])}  (breaching queries "
              f"{rate(base['dynamic']['query_asr'])})")
    print(f"  campaign overhead       {100 * figures['overhead_share']:.2f}% of wall time "
          f"(goal < 5%: ratio {figures['overhead_share'] / 0.05:.2f})")
    print(f"  throughput              {figures['queries_per_minute']} queries/minute ({sent} queries, "
          f"{wall:.0f} s; server load {load_s:.0f} s not counted)")
    print(f"  garak                   {figures['garak']}")


if __name__ == "__main__":
    main()
