"""What does each of the study's seven barriers cost a child, in days?

Shapley values over all 128 on/off combinations of the barriers, with common
random numbers; writes, under out/barrier-attribution/, `attribution.csv`,
`attribution.png` and `summary.md`. 128 x reps runs: a few minutes on two cores.

Usage: .venv/bin/python experiments/barrier_attribution.py [--reps 5] [--scheduler ADDR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import collabsim
from collabsim.plots import plot_attribution

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--scheduler", default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "barrier-attribution")
    args = parser.parse_args()
    result = collabsim.attribute(
        ROOT / "scenarios" / "jakarta-baseline.toml",
        args.reps,
        seed=args.seed,
        out=args.out,
        workers=args.workers,
        scheduler=args.scheduler,
    )
    result.table.to_csv(args.out / "attribution.csv", index=False)
    plot_attribution(result.table, args.out / "attribution.png")
    lines = [
        "# What each barrier costs (Jakarta baseline)",
        "",
        f"Shapley values over the 128 on/off combinations, {args.reps} replications "
        f"(root seed {args.seed}); 95% confidence intervals across replications.",
        "",
        "| barrier | output | days | 95% CI |",
        "|---|---|---|---|",
    ]
    for _, r in result.table.sort_values(["output", "days"], ascending=[True, False]).iterrows():
        lines.append(
            f"| {r['barrier']} | {r['output']} | {r['days']:.2f} "
            f"| {r['ci_low']:.2f} .. {r['ci_high']:.2f} |"
        )
    lines.append("")
    for output, total in result.totals.items():
        lines.append(f"- {output}: all barriers on minus all off = {total:.2f} days (the sum).")
    lines += ["", "![attribution](attribution.png)", ""]
    (args.out / "summary.md").write_text("\n".join(lines))
    print(f"Wrote {args.out}/summary.md")


if __name__ == "__main__":
    main()
