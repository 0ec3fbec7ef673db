"""A simulated campaign with fewer agents than its transfers need: abandoned transfers with and
without the agent pacing loop (voicebot.campaign.agent_pacing). Pure simulation, seeded.

    .venv/bin/python bench/handoff_sim.py [--agents 3] [--hours 8] [--seeds 5]

A robot call rings 6 s and is answered 60% of the time; a conversation lasts 35 s and ends in a
transfer 30% of the time; an agent talks 90 s and wraps up 15 s. A transfer nobody takes within
2 s of the bridging line is abandoned (the callee waits up to 30 s, then hangs up).
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass, field

from voicebot.campaign.agent_pacing import AgentPacing, QueueView, TransferHistory

RING, ANSWER_RATE, TALK, TRANSFER_RATE = 6, 0.6, 35, 0.3
AGENT_TALK, WRAP, LIMIT, PATIENCE = 90, 15, 2, 30


@dataclass
class Result:
    transfers: int = 0
    abandoned: int = 0
    conversations: int = 0
    rates_by_hour: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.abandoned / self.transfers if self.transfers else 0.0


def simulate(agents: int, hours: float, seed: int, paced: bool, fixed: int = 10, rate: float = 1.0) -> Result:
    rng = random.Random(seed)
    pacing = AgentPacing()
    busy_until = [0] * agents  # second each agent is free again
    calls: list[int] = []  # second each robot call ends (ring + talk), with its fate decided below
    fates: dict[int, list[bool]] = {}  # end second -> [transfer?] per call ending then
    waiting: list[int] = []  # second each waiting callee joined the queue
    result, taken = Result(), 0
    hour_transfers = hour_abandoned = 0
    for now in range(int(hours * 3600)):
        # robot calls ending now: some transfer
        for transfer in fates.pop(now, []):
            if transfer:
                waiting.append(now)
        calls = [end for end in calls if end > now]
        # agents take waiting callees, first come first served; the rest wait or give up
        still = []
        for joined in waiting:
            free = next((i for i, t in enumerate(busy_until) if t <= now), None)
            if free is not None:
                busy_until[free] = now + AGENT_TALK + WRAP
                result.transfers += 1
                hour_transfers += 1
                if now - joined > LIMIT:
                    result.abandoned += 1
                    hour_abandoned += 1
                else:
                    taken += 1
            elif now - joined >= PATIENCE:
                result.transfers += 1
                result.abandoned += 1
                hour_transfers += 1
                hour_abandoned += 1
            else:
                still.append(joined)
        waiting = still
        # the dialer: places calls up to its room, at most `rate` a second
        if paced:
            history = TransferHistory(
                result.conversations,
                result.transfers + len(waiting),
                result.abandoned,
                taken,
                result.rate if result.transfers else None,
            )
            pacing.update(history)
            view = QueueView(available=sum(1 for t in busy_until if t <= now), waiting=len(waiting))
            room = pacing.room(view, history, len(calls))
        else:
            room = max(0, fixed - len(calls))
        for _ in range(min(room, int(rate))):
            answered = rng.random() < ANSWER_RATE
            end = now + RING + (TALK if answered else 0)
            calls.append(end)
            if answered:
                result.conversations += 1
                fates.setdefault(end, []).append(rng.random() < TRANSFER_RATE)
        if now % 3600 == 3599:
            result.rates_by_hour.append(hour_abandoned / hour_transfers if hour_transfers else 0.0)
            hour_transfers = hour_abandoned = 0
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=3)
    parser.add_argument("--hours", type=float, default=8)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    for paced in (False, True):
        runs = [simulate(args.agents, args.hours, seed, paced) for seed in range(args.seeds)]
        rates = sorted(r.rate for r in runs)
        transfers = sum(r.transfers for r in runs) / len(runs)
        last = sorted(r.rates_by_hour[-1] for r in runs)
        print(
            f"{'paced to agents' if paced else 'fixed 10 calls '}: abandoned {rates[len(rates) // 2]:.1%} "
            f"(max {rates[-1]:.1%}) of {transfers:.0f} transfers/run, last hour {last[len(last) // 2]:.1%} "
            f"(max {last[-1]:.1%}); {args.agents} agents, {args.hours:g} h, {args.seeds} seeds"
        )


if __name__ == "__main__":
    main()
