"""Trust x sectoral ego: where does collaboration fall into the vicious cycle?

Runs experiments/trust-ego-grid.toml (a factorial sweep) and draws the median
handling time and the end-of-run shared motivation as heatmaps. Writes, under
out/trust-ego-grid/, `heatmap.png`, the sweep's tables and `summary.md`.

Usage: .venv/bin/python experiments/trust_ego_heatmap.py [--workers N] [--scheduler ADDR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from collabsim.experiments.sweep import load_experiment, sweep, write_sweep

HERE = Path(__file__).resolve().parent
FILE = HERE / "trust-ego-grid.toml"
TRUST, EGO = "dynamics.initial_trust", "barriers.sectoral_ego.intensity"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--scheduler", default=None)
    parser.add_argument("--out", type=Path, default=HERE.parent / "out" / "trust-ego-grid")
    args = parser.parse_args()
    exp, _ = load_experiment(FILE)
    result = sweep(FILE, out=args.out, workers=args.workers, scheduler=args.scheduler)
    write_sweep(result, exp.name, args.out, exp.design)

    panels = [("handling_days_median", "median handling time (days)", "viridis_r"),
              ("motivation_end", "shared motivation at the end", "viridis")]  # fmt: skip
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, (col, label, cmap) in zip(axes, panels, strict=True):
        grid = result.points.pivot_table(index=EGO, columns=TRUST, values=col)
        im = ax.imshow(grid.to_numpy(), origin="lower", cmap=cmap, aspect="auto")
        ax.set_xticks(range(len(grid.columns)), [f"{v:.1f}" for v in grid.columns])
        ax.set_yticks(range(len(grid.index)), [f"{v:.2f}" for v in grid.index])
        ax.set_xlabel("initial trust between sectors")
        ax.set_ylabel("sectoral ego (barrier intensity)")
        for (i, j), v in np.ndenumerate(grid.to_numpy()):
            ax.text(
                j, i, f"{v:.2f}" if v < 10 else f"{v:.0f}", ha="center", va="center", fontsize=8
            )
        ax.set_title(label)
        fig.colorbar(im, ax=ax)
    fig.suptitle(f"Trust x sectoral ego ({exp.replications} replications per cell)")
    fig.tight_layout()
    fig.savefig(args.out / "heatmap.png", dpi=110)

    p = result.points
    worst = p.loc[p["handling_days_median"].idxmax()]
    best = p.loc[p["handling_days_median"].idxmin()]
    lines = [
        "# Trust x sectoral ego",
        "",
        f"Full factorial, {len(p)} cells, {exp.replications} replications each "
        f"(root seed {exp.seed}, the same seeds in every cell).",
        "",
        *(
            f"- {label} cell: trust {r[TRUST]:.1f}, ego {r[EGO]:.2f}: median "
            f"{r['handling_days_median']:.1f} days, shared motivation {r['motivation_end']:.2f}."
            for label, r in (("Slowest", worst), ("Fastest", best))
        ),
        "",
        "![heatmap](heatmap.png)",
        "",
        "Cell values are means over replications; see points.csv for every output.",
        "",
    ]
    (args.out / "summary.md").write_text("\n".join(lines))
    print(f"Wrote {args.out}/summary.md")


if __name__ == "__main__":
    main()
