#!/usr/bin/env python3
"""Draws the soak's RSS curve (tests/e2e/test_e2e_soak.c writes soak-rss.csv:
seconds, ingest_rss_kib, sink_rss_kib, records_sent, records_at_clevertap) into a
small PNG, with the records at CleverTap on a second axis. Needs matplotlib
(Debian: python3-matplotlib).

Usage: bench/soak/plot.py soak-rss.csv out.png
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    rows = list(csv.DictReader(open(sys.argv[1], newline="")))
    minutes = [float(r["seconds"]) / 60 for r in rows]
    ingest = [int(r["ingest_rss_kib"]) / 1024 for r in rows]
    sink = [int(r["sink_rss_kib"]) / 1024 for r in rows]
    delivered = [int(r["records_at_clevertap"]) / 1e6 for r in rows]
    fig, ax = plt.subplots(figsize=(8, 4), dpi=80)
    ax.plot(minutes, sink, label="clevertap-sink RSS")
    ax.plot(minutes, ingest, label="talon-ingest RSS")
    ax.axvline(minutes[-1] / 6, color="grey", linestyle=":", label="end of warm-up")
    ax.set_xlabel("minutes")
    ax.set_ylabel("RSS (MiB)")
    ax.set_ylim(bottom=0)
    ax2 = ax.twinx()
    ax2.plot(minutes, delivered, color="tab:green", alpha=0.4, label="records at CleverTap")
    ax2.set_ylabel("records at CleverTap (millions)")
    ax2.set_ylim(bottom=0)
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="center right", fontsize=8)
    ax.set_title("Soak: 1,200 records/s (80% of the emulator's ceiling), 5% of requests faulted")
    fig.tight_layout()
    fig.savefig(sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
