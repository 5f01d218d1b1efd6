"""Time the eight jobs at SCALE=1 and SCALE=10, each job a fresh Spark application (JVM start included).

    make bench-jobs                      # or: python benchmarks/bench_jobs.py --scales 1 10

Prints, per job: seconds and input rows per second at each scale, and the SCALE=10 / SCALE=1 time
ratio. Targets (issue #2, 2 cores): all eight jobs at SCALE=1 in at most 180 s in total, and a
10x ratio of at most 3 per job.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from lineage_audit.runner import JOBS, check_java, run_job
from lineage_audit.sample_data import generate

TOTAL_TARGET_S = 180.0
RATIO_TARGET = 3.0


def measure(scale: float, workdir: Path) -> dict[str, tuple[float, int]]:
    """Generate data at ``scale`` and run every job once; returns job -> (seconds, input rows)."""
    data_dir = workdir / f"scale-{scale:g}"
    started = time.perf_counter()
    generate(data_dir, scale=scale)
    print(f"SCALE={scale:g}: data generated in {time.perf_counter() - started:.1f} s", flush=True)
    results = {}
    for job in JOBS:
        result = run_job(job, data_dir, extra_env={"PYTHONUNBUFFERED": "1"})
        if not result.ok:
            raise SystemExit(f"{job} failed at SCALE={scale:g} (exit {result.exit_code})")
        rows = sum(result.summary["rows_in"].values()) if result.summary else 0
        results[job] = (result.seconds, rows)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs=2, default=(1.0, 10.0), metavar=("SMALL", "LARGE"))
    parser.add_argument("--workdir", type=Path, default=None, help="where to generate data (default: a temp dir)")
    args = parser.parse_args()
    check_java()
    small, large = args.scales
    with tempfile.TemporaryDirectory(prefix="bench-jobs-") as tmp:
        workdir = args.workdir or Path(tmp)
        runs = {scale: measure(scale, workdir) for scale in (small, large)}

    header = (f"{'job':<22}{f's@{small:g}':>9}{f'rows/s@{small:g}':>14}"
              f"{f's@{large:g}':>9}{f'rows/s@{large:g}':>14}{'ratio':>8}")
    print("\n" + header + "\n" + "-" * len(header))
    worst_ratio = 0.0
    for job in JOBS:
        (s1, r1), (s2, r2) = runs[small][job], runs[large][job]
        ratio = s2 / s1
        worst_ratio = max(worst_ratio, ratio)
        print(f"{job:<22}{s1:>9.1f}{r1 / s1:>14,.0f}{s2:>9.1f}{r2 / s2:>14,.0f}{ratio:>8.2f}")
    total_small = sum(s for s, _ in runs[small].values())
    total_large = sum(s for s, _ in runs[large].values())
    print("-" * len(header))
    print(f"{'total':<22}{total_small:>9.1f}{'':>14}{total_large:>9.1f}{'':>14}{total_large / total_small:>8.2f}")
    print(f"\ncores: {os.cpu_count()}  python: {sys.version.split()[0]}")
    print(f"target: all jobs at SCALE={small:g} <= {TOTAL_TARGET_S:.0f} s -> "
          f"{'met' if total_small <= TOTAL_TARGET_S else 'MISSED'} ({total_small:.1f} s)")
    print(f"target: each {large / small:g}x ratio <= {RATIO_TARGET:g} -> "
          f"{'met' if worst_ratio <= RATIO_TARGET else 'MISSED'} (worst {worst_ratio:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
