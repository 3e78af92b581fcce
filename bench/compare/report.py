#!/usr/bin/env python3
"""Turns compare.py's results into the table on stdout, bench/results/compare.md
(machine, versions, commands, every figure as median with min and max, the goals
of issues 9 and 13 checked) and bench/results/compare.png (throughput, CPU per
million records and peak RSS per system). Reads and writes files only."""

import argparse
import datetime
import json
import os
import platform
import re
import statistics


def fmt(s, digits=0, scale=1.0):
    if not s:
        return "n/a"
    f = f"{{:,.{digits}f}}"
    med, lo, hi = (s[k] * scale for k in ("median", "min", "max"))
    return f"{f.format(med)} ({f.format(lo)}-{f.format(hi)})"


def med(case, field):
    s = case.get("summary", {}).get(field) if case else None
    return s["median"] if s else None


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    osname = ""
    if os.path.exists("/etc/os-release"):
        with open("/etc/os-release") as f:
            m = re.search(r'PRETTY_NAME="([^"]+)"', f.read())
            osname = m.group(1) if m else ""
    return f"{os.cpu_count()} x {model}, {mem_kib / 1048576:.0f} GiB, {osname}, Linux {platform.release()}"


def transforms_floor(path):
    """CPU-seconds per million messages of the jansson floor and of the transform,
    for the partner-guide envelope line of bench_transforms."""
    text = open(path).read() if path and os.path.exists(path) else ""
    m = re.search(r"partner-guide envelope.*?\|\s+([\d.]+) msg/s.*?floor\s+([\d.]+) msg/s", text)
    if not m:
        return None, None, text
    return 1e6 / float(m.group(2)), 1e6 / float(m.group(1)), text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--transforms", default="")
    ap.add_argument("--command", default="bench/compare/run.sh")
    ap.add_argument("--load-before", default="")
    ap.add_argument("--load-after", default="")
    ap.add_argument("--kafka-note", default="")
    ap.add_argument("--version", action="append", default=[])
    args = ap.parse_args()
    data = json.load(open(args.results))
    cases = data["cases"]
    records = data["records"]
    floor_cpu, transform_cpu, transforms_text = transforms_floor(args.transforms)

    def find(**want):
        for c in cases.values():
            if all(c["meta"].get(k) == v for k, v in want.items()):
                return c
        return None

    broker = "kafka" if data.get("kafka") else "dev"
    kcat = find(system="kcat", broker=broker)
    peer0 = find(system="benthos", latency_ms=0)
    peer300 = find(system="benthos", latency_ms=300)
    sink0 = find(system="sink", broker=broker, accounts=1, members=1, latency_ms=0, tuned=False)
    sink300 = find(system="sink", broker=broker, accounts=1, members=1, latency_ms=300, tuned=False)
    dev_kcat = find(system="kcat", broker="dev", topic="bench.seed")
    dev0 = find(system="sink", broker="dev", topic="bench.seed", latency_ms=0, tuned=False)
    dev300 = find(system="sink", broker="dev", topic="bench.seed", latency_ms=300, tuned=False)

    # ---- the table ------------------------------------------------------------
    head = ("| system | broker | records/s | CPU s / M records | peak RSS MiB | upload p50 ms | upload p99 ms "
            "| % of ceiling | cores busy | emulator CPU s / M | runs |")
    rows = [head, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for c in cases.values():
        meta, s = c["meta"], c.get("summary", {})
        if meta["system"] == "ingest":
            continue
        fails = len(c.get("failures", []))
        runs = f"{len(c['runs'])}" + (f" ({fails} failed)" if fails else "")
        rows.append(f"| {meta['label']} | {meta['broker']} | {fmt(s.get('rate'))} | {fmt(s.get('cpu_per_m'), 1)} "
                    f"| {fmt(s.get('rss_mib'), 1)} | {fmt(s.get('p50_ms'), 0)} | {fmt(s.get('p99_ms'), 0)} "
                    f"| {fmt(s.get('ceiling_pct'), 1)} | {fmt(s.get('cores_busy'), 2)} "
                    f"| {fmt(s.get('emulator_cpu_per_m'), 1)} | {runs} |")
    ingest_rows = ["| target | connections | acknowledged req/s | p50 ms | p99 ms | non-2xx | peak RSS MiB | runs |",
                   "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    names = {"floor": "bare libmicrohttpd responder (floor)", "kafka": "talon-ingest -> Kafka 4.0",
             "dev": "talon-ingest -> kafka-dev-broker"}
    for c in cases.values():
        meta, s = c["meta"], c.get("summary", {})
        if meta["system"] != "ingest":
            continue
        ingest_rows.append(f"| {names[meta['target']]} | {meta['conns']} | {fmt(s.get('rate'))} "
                           f"| {fmt(s.get('p50_ms'), 2)} | {fmt(s.get('p99_ms'), 2)} | {fmt(s.get('non2xx'))} "
                           f"| {fmt(s.get('rss_mib'), 1)} | {len(c['runs'])} |")

    # ---- the goals -------------------------------------------------------------
    goals = []

    def goal(text, value, ok):
        goals.append(f"| {text} | {value} | {'met' if ok else 'MISSED' if ok is not None else 'n/a'} |")

    def ratio(a, b):
        return a / b if a is not None and b else None

    r = ratio(med(sink0, "rate"), med(peer0, "rate"))
    goal("13: throughput >= 3x the peer's (0 ms, 1 account, 1 member)", f"{r:.2f}x" if r else "n/a",
         r >= 3 if r else None)
    r = ratio(med(sink0, "cpu_per_m"), med(peer0, "cpu_per_m"))
    goal("13: CPU per record <= 1/3 of the peer's", f"{r:.2f}x" if r else "n/a", r <= 1 / 3 if r else None)
    r = ratio(med(sink0, "rss_mib"), med(peer0, "rss_mib"))
    goal("13: peak RSS <= 1/4 of the peer's", f"{r:.2f}x" if r else "n/a", r <= 0.25 if r else None)
    r = ratio(med(sink0, "rate"), med(kcat, "rate"))
    goal("13: >= half of kcat's raw read rate", f"{100 * r:.0f}%" if r else "n/a", r >= 0.5 if r else None)
    v = med(sink300, "ceiling_pct")
    goal("13: at 300 ms >= 90% of the 50,000 records/s ceiling", f"{v:.1f}%" if v else "n/a",
         v >= 90 if v else None)
    v = med(dev0, "rss_mib")
    goal("9: peak RSS < 43 MiB (dev broker, seed-shaped, 0 ms)", f"{v:.1f} MiB" if v else "n/a",
         v < 43 if v else None)
    v = med(dev0, "cpu_per_m")
    lim = 1.5 * floor_cpu if floor_cpu else None
    goal(f"9: CPU per record within 1.5x the jansson floor ({floor_cpu:.1f} s/M here)" if floor_cpu else
         "9: CPU per record within 1.5x the jansson floor", f"{v:.1f} s/M = {v / floor_cpu:.2f}x"
         if v and floor_cpu else "n/a", v <= lim if v and lim else None)
    v = med(dev300, "ceiling_pct")
    goal("9: at 300 ms >= 95% of the ceiling (dev broker)", f"{v:.1f}%" if v else "n/a", v >= 95 if v else None)
    r = ratio(med(dev0, "rate"), med(dev_kcat, "rate"))
    goal("9 (for scale): share of kcat's rate on the dev broker", f"{100 * r:.0f}%" if r else "n/a", None)

    loads = data.get("loads", [])
    load_text = (f"1-minute load average before the measured part {args.load_before.split()[0] if args.load_before else '?'}, "
                 f"after {args.load_after.split()[0] if args.load_after else '?'}; sampled before each run: "
                 f"median {statistics.median(loads):.2f}, min {min(loads):.2f}, max {max(loads):.2f}"
                 if loads else "")
    versions = "\n".join(f"* {v.split('=', 1)[0]}: {v.split('=', 1)[1] or 'n/a'}" for v in args.version)
    today = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    note = f"\n**Broker: {args.kafka_note}.**\n" if args.kafka_note else ""
    md = f"""# clevertap-sink beside the floor and a peer: one run

Generated by `bench/compare/run.sh` on {today}; {data['rounds']} interleaved rounds, every figure the
**median (min-max)** of the rounds. Only ratios inside this one run mean anything: the machine has 2 cores
shared by the broker, the emulator, the load generator and the program measured. What the figures
mean, where clevertap-sink misses a goal and why: [README.md](README.md).
{note}
## Machine, load, versions, commands

* Machine: {machine()}
* Load: {load_text}
{versions}
* Command: `{args.command}`
* Read-ahead for kcat and clevertap-sink alike: {', '.join(f'`{k}={v}`' for k, v in data['read_ahead'].items())}

## Workload

{records:,} messages of one record each per topic, 6 partitions, lz4, keyed by identity over 100,000
profiles, with talon-ingest's headers (`clevertap-account`, `request-id`, `record-index`, `received-at`):
90% the CleverTap partner guide's Talon.One coupon event (`{{"type":"event","evtName":"Coupon Generated",...}}`),
10% Talon.One `CouponCreated` notifications (its documented example, one coupon each), turned into
`Coupon Created` events. One topic per account count (`bench.mix.a1`, `.a2`, `.a4`: the header spreads
profiles over the accounts). Issue 9's figures use `bench.seed` on kafka-dev-broker: partner-guide events only.
The target is `clevertap-emulator` (`--latency-ms 0` or `300`), 15 uploads in flight per account.

Drain throughput = records / (first upload seen by the emulator -> the group's committed offsets reach
every partition's end, polled every 100 ms by `bench-kafka watch`). CPU = user + system seconds of the
process(es) under test from start to the end of the drain (`/proc/PID/stat`), per million records. Peak
RSS = `VmHWM` (with 2 members: the larger). Upload latency: clevertap-sink's
`tcb_upload_request_seconds` histogram (quantiles interpolated inside buckets), Benthos's
`output_latency_ns`. Cores busy = the CPU seconds above over the seconds from launch to the end of the
drain (clevertap-sink's loop is one thread: near 1.0 per member, it is the limit). Emulator CPU: what
`clevertap-emulator` spent per million records (it validates every record), on the same 2 cores. Ceiling at 300 ms: accounts x 15 requests x 1000 records / 0.3 s
(50,000 records/s per account). The peer: Benthos 4.27.0, `kafka_franz` input (Sarama's `kafka` on the
dev broker), a Bloblang mapping to the same CleverTap records, `http_client` batching 1000 records as
`{{"d":[...]}}`, `max_in_flight: 15`, commits every second (bench/compare/benthos.yaml).

## Drains

{chr(10).join(rows)}

## Goals

| goal | this run | |
| --- | --- | --- |
{chr(10).join(goals)}

## talon-ingest

wrk, 2 threads, {data.get('ingest_seconds', '?')} s per run, keep-alive connections as listed, POST /1/upload with the partner guide's
one-record body, identity drawn from 100,000 profiles per request (bench/ingest/post.lua); a 200 from
talon-ingest means Kafka acknowledged the record (`acks=all`, idempotent producer).

{chr(10).join(ingest_rows)}

## The transform stage alone (bench_transforms, same run)

```
{transforms_text.strip()}
```
"""
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "compare.md"), "w") as f:
        f.write(md)
    print("\n".join(rows))
    print()
    print("\n".join(ingest_rows))
    print()
    print("| goal | this run | |\n| --- | --- | --- |\n" + "\n".join(goals))
    chart(cases, broker, os.path.join(args.out, "compare.png"))


def chart(cases, broker, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("no matplotlib: chart skipped")
        return
    picks = [("kcat (floor)", dict(system="kcat", broker=broker)),
             ("sink 1 acct", dict(system="sink", broker=broker, accounts=1, members=1, latency_ms=0, tuned=False)),
             ("sink 4 acct\n2 members", dict(system="sink", broker=broker, accounts=4, members=2, latency_ms=0, tuned=False)),
             ("Benthos\n4.27.0", dict(system="benthos", latency_ms=0))]
    found = []
    for label, want in picks:
        for c in cases.values():
            if all(c["meta"].get(k) == v for k, v in want.items()) and c.get("summary", {}).get("rate"):
                found.append((label, c["summary"]))
                break
    if not found:
        return
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.6), dpi=80)
    colors = {"kcat": "#999999", "sink": "#2a7ab9", "Benthos": "#d9822b"}
    for ax, (field, title) in zip(axes, [("rate", "records/s (drain, 0 ms)"),
                                         ("cpu_per_m", "CPU seconds per million records"),
                                         ("rss_mib", "peak RSS (MiB)")]):
        labels, values, lo, hi, cols = [], [], [], [], []
        for label, s in found:
            if not s.get(field):
                continue
            labels.append(label)
            values.append(s[field]["median"])
            lo.append(s[field]["median"] - s[field]["min"])
            hi.append(s[field]["max"] - s[field]["median"])
            cols.append(next(v for k, v in colors.items() if label.startswith(k)))
        ax.bar(range(len(values)), values, yerr=[lo, hi], color=cols, capsize=3)
        ax.set_xticks(range(len(values)))
        ax.set_xticklabels(labels, fontsize=8)
        ax.set_title(title, fontsize=10)
        for i, v in enumerate(values):
            ax.text(i, v, f"{v:,.0f}" if v >= 100 else f"{v:.1f}", ha="center", va="bottom", fontsize=8)
    fig.suptitle(f"Kafka ({'4.0, KRaft' if broker == 'kafka' else 'kafka-dev-broker'}) -> clevertap-emulator, "
                 "1M records; median of the rounds, bars min-max", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)


if __name__ == "__main__":
    main()
