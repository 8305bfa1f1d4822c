#!/usr/bin/env python3
"""Turn bench/compare's measurements into bench/results/lo/ (or veth/): a markdown table
(medians over the repetitions, ratios against chronyd and the floor, the
issue's goals judged), summary.json, the plot data and two SVG plots
(answered rate and RTT p99 against offered rate, every server on one plot,
drawn by gnuplot), and optionally the table into README.md between the
markers <!-- bench:begin --> and <!-- bench:end -->.

With --precision (bench/compare --precision): the precision table from
the rate ramps (arrival - T3 at the client's interface per step, per
server and mode, medians over the repetitions, the precision goals
judged) and the precision plots (arrival - T3 mean, minimum and standard
deviation against the offered rate, every server), into
bench/results/precision/ and the README's bench-precision section."""

import argparse
import json
import os
import statistics
import subprocess
import sys

ORDER = ["horod", "horod-mmsg", "horod-xdp", "horod-2w", "chronyd", "ntpd", "floor"]
PREC_ORDER = [
    "horod", "horod-mmsg", "horod-stamp", "horod-xleave", "horod-xdp", "chronyd", "chronyd-xleave"
]
LOSS_MAX = 0.01  # the "sustained" criterion: < 1 % loss
GEN_SHORT = 0.97  # a step offering < 97 % of its rate is generator-limited
REF_RATE = 56953  # the step the issue quotes the mean at ("57k/s")
LABEL = {
    "horod-xleave": "horod, interleaved clients (RFC 9769)",
    "chronyd-xleave": "chronyd 4.3 (-x), interleaved clients",
    "horod": "horod (io uring, 1 worker)",
    "horod-xdp": "horod, answers in XDP (guard serve on)",
    "horod-mmsg": "horod (io mmsg, 1 worker)",
    "horod-stamp": "horod (io uring, 1 worker), transmit times at egress (guard stamp on)",
    "horod-2w": "horod (2 workers on both CPUs, shared with the load)",
    "chronyd": "chronyd 4.3 (-x)",
    "ntpd": "ntpsec ntpd 1.2.2",
    "floor": "floor (recvmmsg/sendmmsg responder)",
}


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def load(path):
    out = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    out.append(json.loads(line))
    return out


def per_reply_us(p, field):
    n = p.get("answered", 0)
    return p[field] / n * 1e6 if n else None


def summarize(points, summary):
    servers = [s for s in ORDER if any(x.get("server") == s for x in points + summary)]
    res = {}
    for s in servers:
        pts = [p for p in points if p.get("server") == s]
        sm = [x for x in summary if x.get("server") == s]
        skipped = [x["skipped"] for x in sm if "skipped" in x]
        reps = sorted({p["rep"] for p in pts})
        r = {"label": LABEL.get(s, s), "reps": len(reps)}
        if not reps:
            r["skipped"] = skipped[0] if skipped else "no data"
            res[s] = r
            continue
        sat, sat_cpu, sat_busy, sat_all, half = [], [], [], [], []
        for rep in reps:
            rp = [p for p in pts if p["rep"] == rep]
            rates = [p.get("valid_rate", 0) for p in rp if p["kind"] in ("step", "saturation", "bisect")]
            sat.append(max(rates) if rates else None)
            sp = [p for p in rp if p["kind"] == "saturation"]
            if sp:
                sat_cpu.append(per_reply_us(sp[0], "proc_cpu_s"))
                sat_busy.append(per_reply_us(sp[0], "busy_cpu_s"))
                if "all_cpu_s" in sp[0]:
                    sat_all.append(per_reply_us(sp[0], "all_cpu_s"))
            hp = [p for p in rp if p["kind"] == "half"]
            if hp:
                half.append(hp[0])
        r["saturation"] = med(sat)
        r["sustained"] = med([x.get("sustained") for x in sm if "sustained" in x])
        r["generator_limited"] = any(x.get("generator_limited") for x in sm)
        r["cpu_us_sat"] = med(sat_cpu)
        r["busy_us_sat"] = med(sat_busy)
        r["all_us_sat"] = med(sat_all)
        r["half_rate"] = med([h.get("rate") for h in half])
        r["cpu_us_half"] = med([per_reply_us(h, "proc_cpu_s") for h in half])
        r["busy_us_half"] = med([per_reply_us(h, "busy_cpu_s") for h in half])
        r["all_us_half"] = med([per_reply_us(h, "all_cpu_s") for h in half if "all_cpu_s" in h])
        r["offset_med_us"] = med([h.get("offset_us", {}).get("p50") for h in half])
        r["offset_abs_p99_us"] = med([h.get("offset_us", {}).get("abs_p99") for h in half])
        r["residence_p50_us"] = med([h.get("residence_us", {}).get("p50") for h in half])
        r["residence_p99_us"] = med([h.get("residence_us", {}).get("p99") for h in half])
        r["rtt_p99_half_us"] = med([h.get("rtt_us", {}).get("p99") for h in half])
        r["loss_half"] = med([h.get("loss") for h in half])
        r["invalid"] = sum(p.get("invalid", 0) for p in pts)
        # Plot data: per offered step, medians over the repetitions.
        steps = {}
        for p in pts:
            if p["kind"] == "step":
                steps.setdefault(p["rate"], []).append(p)
        r["steps"] = [
            {
                "rate": rate,
                "offered": med([p.get("offered_rate") for p in ps]),
                "valid_rate": med([p.get("valid_rate") for p in ps]),
                "rtt_p99_us": med([p.get("rtt_us", {}).get("p99") for p in ps]),
                "loss": med([p.get("loss") for p in ps]),
            }
            for rate, ps in sorted(steps.items())
        ]
        res[s] = r
    return res


def k(x):
    return "—" if x is None else f"{x / 1000:.0f}k"


def f(x, nd=2):
    return "—" if x is None else f"{x:.{nd}f}"


def ratio(a, b):
    return None if a is None or not b else a / b


def table(res, meta):
    lines = []
    lines.append("| server | saturation (replies/s) | sustained, < 1 % loss | CPU µs/reply at saturation (process / server CPU busy / all CPUs busy, load included) | at 50 % of chronyd's rate: CPU µs/reply (process / all CPUs) | offset median / p99 abs (µs) | residence p50 / p99 (µs) |")
    lines.append("|---|---|---|---|---|---|---|")
    for s in ORDER:
        if s not in res:
            continue
        r = res[s]
        if "skipped" in r:
            lines.append(f"| {r['label']} | skipped: {r['skipped']} | | | | | |")
            continue
        sus = k(r["sustained"]) + (" (≥, load-limited)" if r["generator_limited"] else "")
        lines.append(
            f"| {r['label']} | {k(r['saturation'])} | {sus} | {f(r['cpu_us_sat'])} / {f(r['busy_us_sat'])} / {f(r.get('all_us_sat'))} "
            f"| {f(r['cpu_us_half'])} / {f(r.get('all_us_half'))} (at {k(r['half_rate'])}/s) | {f(r['offset_med_us'])} / {f(r['offset_abs_p99_us'])} "
            f"| {f(r['residence_p50_us'], 1)} / {f(r['residence_p99_us'], 1)} |"
        )
    lines.append("")
    c, fl = res.get("chronyd"), res.get("floor")
    ok = lambda b: "—" if b is None else ("met" if b else "**not met**")
    live = lambda r: r is not None and "skipped" not in r
    rows = []
    for hn in ("horod", "horod-xdp"):
        h = res.get(hn)
        if not live(h):
            continue
        for other, name in ((c, "chronyd"), (fl, "floor")):
            if live(other):
                rows.append(
                    f"| {hn} / {name} | {f(ratio(h['saturation'], other['saturation']))} | "
                    f"{f(ratio(h['sustained'], other['sustained']))} | {f(ratio(h['cpu_us_sat'], other['cpu_us_sat']))} | "
                    f"{f(ratio(h.get('all_us_sat'), other.get('all_us_sat')))} | "
                    f"{f(ratio(h['cpu_us_half'], other['cpu_us_half']))} |"
                )
    if rows:
        lines.append("| ratio | saturation | sustained | CPU/reply at saturation (process) | CPU/reply at saturation (all CPUs) | CPU/reply at 50 % (process) |")
        lines.append("|---|---|---|---|---|---|")
        lines.extend(rows)
        lines.append("")

    def goals_of(h, cpu_key, cpu_name):
        g = []
        if live(fl) and fl.get("sustained"):
            rs = ratio(h["sustained"], fl["sustained"])
            g.append((f"{f(rs)}", ok(rs is not None and rs >= 1.0)))
            rc = ratio(h.get(cpu_key), fl.get(cpu_key))
            g.append((f"{f(rc)} ({cpu_name})", ok(rc is not None and rc <= 0.9)))
        else:
            g += [("—", "—"), ("—", "—")]
        if live(c) and c.get("sustained"):
            rs = ratio(h["sustained"], c["sustained"])
            g.append((f"{f(rs)}", ok(rs is not None and rs >= 1.4)))
        else:
            g.append(("—", "—"))
        om, op = h.get("offset_med_us"), h.get("offset_abs_p99_us")
        g.append((f(om), ok(om is not None and abs(om) <= 5)))
        g.append((f(op), ok(op is not None and op <= 20)))
        if live(c) and c.get("offset_abs_p99_us") is not None and om is not None:
            worse = abs(om) > abs(c["offset_med_us"]) or op > c["offset_abs_p99_us"]
            g.append((f"{f(om)} / {f(op)} vs {f(c['offset_med_us'])} / {f(c['offset_abs_p99_us'])}", ok(not worse)))
        else:
            g.append(("—", "—"))
        return g

    names = ["sustained ≥ 1.0× floor", "CPU/reply ≤ 0.9× floor (at saturation)", "sustained ≥ 1.4× chronyd",
             "\\|median offset\\| ≤ 5 µs at 50 %", "p99 \\|offset\\| ≤ 20 µs at 50 %",
             "timestamp error no worse than chronyd's"]
    cols = []
    if live(res.get("horod")):
        cols.append(("horod (workers)", goals_of(res["horod"], "cpu_us_sat", "process")))
    if live(res.get("horod-xdp")):
        # Its answers are made in softirq or NAPI context, not by a process: on
        # lo on the sender's CPU (count every CPU), on veth on the server's.
        if meta.get("net") == "veth":
            cols.append(("horod (XDP answers)", goals_of(res["horod-xdp"], "busy_us_sat", "server CPU busy")))
        else:
            cols.append(("horod (XDP answers)", goals_of(res["horod-xdp"], "all_us_sat", "all CPUs")))
    if cols:
        lines.append("| goal (issue 6) |" + "".join(f" {cn} | |" for cn, _ in cols))
        lines.append("|---|" + "---|---|" * len(cols))
        for i, gname in enumerate(names):
            lines.append(f"| {gname} |" + "".join(f" {g[i][0]} | {g[i][1]} |" for _, g in cols))
        lines.append("")
    lines.append(
        f"Measured {meta.get('date', '')}: medians of {meta.get('reps')} repetitions, {meta.get('duration_s')} s per point; server on CPU "
        f"{meta.get('server_cpus')}, load (horobench) on CPU {meta.get('load_cpus')}; "
        + ("veth pair between two namespaces, the server end's NAPI threaded on the server CPUs; " if meta.get("net") == "veth" else "namespace loopback; ")
        + f"kernel {meta.get('kernel')}; load average before/after: {meta.get('load_before')} / {meta.get('load_after')}"
        + (" (quick run)" if meta.get("quick") == "1" else "") + "."
    )
    if meta.get("ntpd_skip"):
        lines.append(f"ntpd skipped: {meta['ntpd_skip']}.")
    return "\n".join(lines) + "\n"


def plots(res, out):
    names = [s for s in ORDER if s in res and res[s].get("steps")]
    for s in names:
        with open(os.path.join(out, f"steps-{s}.dat"), "w") as fh:
            fh.write("# offered_rate valid_rate rtt_p99_us loss\n")
            for st in res[s]["steps"]:
                fh.write(f"{st['offered'] or 0:.0f} {st['valid_rate'] or 0:.0f} {st['rtt_p99_us'] or 0:.1f} {st['loss'] or 0:.5f}\n")
    if not names:
        return
    common = (
        "set terminal svg size 720,440 dynamic font 'sans,12'\n"
        "set key top left\nset grid\nset xlabel 'offered rate (requests/s)'\n"
        "set format x '%.0s%c'\n"
    )
    def plot(cmd_y):
        return ", ".join(
            f"'steps-{s}.dat' using 1:{cmd_y} with linespoints title \"{LABEL.get(s, s)}\"" for s in names
        )
    gp = common + (
        "set output 'answered.svg'\nset ylabel 'valid replies/s'\nset format y '%.0s%c'\n"
        f"plot x with lines dashtype 2 lc rgb 'gray' title 'offered', {plot(2)}\n"
        "set output 'rtt_p99.svg'\nset ylabel 'RTT p99 (µs)'\nset logscale y\nset format y '%g'\n"
        f"plot {plot(3)}\n"
    )
    with open(os.path.join(out, "plots.gp"), "w") as fh:
        fh.write(gp)
    subprocess.run(["gnuplot", "plots.gp"], cwd=out, check=True)


def update_readme(path, tbl, marker="bench", img="bench/results/lo"):
    begin, end = f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->"
    with open(path) as fh:
        text = fh.read()
    if begin not in text or end not in text:
        print(f"report: no bench markers in {path}: README not updated", file=sys.stderr)
        return
    a = text.index(begin) + len(begin)
    b = text.index(end)
    text = text[:a] + "\n" + tbl + f"\n![answered rate against offered rate]({img}/answered.svg)\n![RTT p99 against offered rate]({img}/rtt_p99.svg)\n\n" + text[b:]
    with open(path + ".tmp", "w") as fh:
        fh.write(text)
    os.replace(path + ".tmp", path)


def prec_stats(p, xleave):
    """The capture's figures of step point P for the row's mode."""
    c = p.get("capture", {})
    return c.get("interleaved_us" if xleave else "basic_us", {})


def prec_late(p):
    c = p.get("capture", {})
    return sum(c.get(m, {}).get("late", 0) for m in ("basic_us", "interleaved_us"))


def prec_summarize(points):
    res = {}
    for s in PREC_ORDER:
        pts = [p for p in points if p.get("server") == s and p.get("kind") == "precision"]
        if not pts:
            continue
        xl = s.endswith("-xleave")
        reps = sorted({p["rep"] for p in pts})
        per = []
        steps = {}
        for rep in reps:
            rp = sorted((p for p in pts if p["rep"] == rep), key=lambda p: p.get("step", 0))
            sus, ok = 0, []
            for p in rp:
                if p.get("loss", 1) < LOSS_MAX and p.get("offered_rate", 0) >= GEN_SHORT * p.get("rate", 0):
                    sus = p["rate"]
                    ok.append(p)
                else:
                    break
            mins = [prec_stats(p, xl).get("min") for p in rp]
            at_ref = [prec_stats(p, xl).get("mean") for p in ok if p.get("rate") == REF_RATE]
            per.append({
                "rep": rep,
                "ok_steps": {p["rate"]: prec_stats(p, xl) for p in ok},
                "sustained": sus,
                "limited": len(ok) == len(rp),
                "xl_share_min": min((p.get("interleaved_share", 0) for p in ok), default=None),
                "mean_ref": at_ref[0] if at_ref else None,
                "mean_med": med([prec_stats(p, xl).get("mean") for p in ok]),
                "sd_med": med([prec_stats(p, xl).get("sd") for p in ok]),
                "p99_med": med([prec_stats(p, xl).get("p99") for p in ok]),
                "min": min((m for m in mins if m is not None), default=None),
                "late": sum(prec_late(p) for p in rp),
                "replies": sum(p.get("valid", 0) for p in rp),
            })
            for p in rp:
                st = prec_stats(p, xl)
                steps.setdefault(p["rate"], []).append(st)
        r = {
            "label": LABEL.get(s, s), "reps": len(reps), "xleave": xl,
            "sustained": med([x["sustained"] for x in per]),
            "generator_limited": any(x["limited"] for x in per),
            "xl_share_min": min((x["xl_share_min"] for x in per if x["xl_share_min"] is not None), default=None),
            "mean_ref": med([x["mean_ref"] for x in per]),
            "mean_med": med([x["mean_med"] for x in per]),
            "sd_med": med([x["sd_med"] for x in per]),
            "p99_med": med([x["p99_med"] for x in per]),
            "min": min((x["min"] for x in per if x["min"] is not None), default=None),
            "late": sum(x["late"] for x in per),
            "replies": sum(x["replies"] for x in per),
            "per_rep": per,
            "steps": [
                {"rate": rate, "mean": med([x.get("mean") for x in sts]), "min": med([x.get("min") for x in sts]),
                 "sd": med([x.get("sd") for x in sts]), "p99": med([x.get("p99") for x in sts])}
                for rate, sts in sorted(steps.items())
            ],
        }
        res[s] = r
    return res


def common_med(a, b, key):
    """Medians of KEY over the steps both rows A and B sustained, per repetition, then over them."""
    va, vb = [], []
    for ra in a["per_rep"]:
        rb = next((x for x in b["per_rep"] if x["rep"] == ra["rep"]), None)
        if not rb:
            continue
        common = sorted(set(ra["ok_steps"]) & set(rb["ok_steps"]))
        ma = med([ra["ok_steps"][r].get(key) for r in common])
        mb = med([rb["ok_steps"][r].get(key) for r in common])
        if ma is not None and mb is not None:
            va.append(ma)
            vb.append(mb)
    return med(va), med(vb)


def prec_table(res, meta):
    lines = [
        "| server | sustained, < 1 % loss | interleaved replies (lowest share, sustained steps) | arrival − T3 mean at 57k/s (µs) | sd, median over sustained steps (µs) | p99, median (µs) | min, every step (µs) | late replies (arrival before T3) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in PREC_ORDER:
        r = res.get(s)
        if not r:
            continue
        sus = k(r["sustained"]) + ("/s (≥, the ramp's end)" if r["generator_limited"] else "/s")
        xl = "—" if not r["xleave"] else (f"{100 * r['xl_share_min']:.2f} %" if r["xl_share_min"] is not None else "—")
        lines.append(
            f"| {r['label']} | {sus} | {xl} | {f(r['mean_ref'])} | {f(r['sd_med'])} | {f(r['p99_med'])} | "
            f"{f(r['min'])} | {r['late']} of {r['replies']} |"
        )
    lines.append("")
    ok = lambda b: "—" if b is None else ("met" if b else "**not met**")
    h, hx, hd = res.get("horod"), res.get("horod-xleave"), res.get("horod-xdp")
    hs = res.get("horod-stamp")
    c, cx = res.get("chronyd"), res.get("chronyd-xleave")
    goals = []
    if hx:
        share = hx["xl_share_min"]
        goals.append(("interleaved: ≥ 99 % of replies interleaved at every step below saturation",
                      f"{100 * share:.2f} %" if share is not None else "—", ok(share is not None and share >= 0.99)))
        if cx and cx["sustained"]:
            q = hx["sustained"] / cx["sustained"]
            # The ramp's steps are ×1.5 apart, rounded to whole rates
            # (56953 / 37969 = 1.49998): one step above is 1.5×.
            goals.append(("interleaved: sustained rate ≥ 1.5× chronyd's",
                          f"{k(hx['sustained'])} vs {k(cx['sustained'])} ({q:.2f}×)", ok(q >= 1.5 - 1e-3)))
            ha, ca = common_med(hx, cx, "mean")
            if ha is not None:
                goals.append(("interleaved: arrival − kernel TX stamp ≤ chronyd's + 0.2 µs (mean, median over the steps both sustained)",
                              f"{f(ha)} vs {f(ca)}", ok(ha <= ca + 0.2)))
    for row, name in ((h, "basic, workers"), (hs, "basic, workers with guard stamp on"), (hd, "basic, XDP")):
        if not row:
            continue
        goals.append((f"{name}: min arrival − T3 ≥ 0 at every step (never late)",
                      f"{f(row['min'])} µs, {row['late']} late", ok(row["min"] is not None and row["min"] >= 0 and row["late"] == 0)))
        if c:
            ra, ca = common_med(row, c, "sd")
            if ra is not None:
                goals.append((f"{name}: sd no worse than chronyd basic's (median over the steps both sustained)",
                              f"{f(ra)} vs {f(ca)}", ok(ra <= ca)))
    if hs and c:
        sa, ca = common_med(hs, c, "mean")
        if sa is not None:
            goals.append(("basic, workers with guard stamp on: mean below chronyd's (median over the steps both sustained)",
                          f"{f(sa)} vs {f(ca)}", ok(sa < ca)))
    if hd and c:
        da, ca = common_med(hd, c, "mean")
        if da is not None:
            goals.append(("basic, XDP: mean below chronyd's (median over the steps both sustained)",
                          f"{f(da)} vs {f(ca)}", ok(da < ca)))
    if goals:
        lines.append("| goal (issue 15) | measured | |")
        lines.append("|---|---|---|")
        for g in goals:
            lines.append(f"| {g[0]} | {g[1]} | {g[2]} |")
        lines.append("")
    lines.append(
        f"Measured {meta.get('date', '')}: medians of {meta.get('reps')} repetitions; one ramp per server and repetition, "
        f"{meta.get('duration_s')} s per step, rates {meta.get('steps', '').replace(',', ', ')}/s from {meta.get('clients')} client "
        f"addresses (after two warm-up requests each); replies captured on the client's end of a veth pair with kernel receive stamps; "
        f"server on CPU {meta.get('server_cpus')} with the server end's NAPI thread, load on CPU {meta.get('load_cpus')}; "
        f"kernel {meta.get('kernel')}; load average before/after: {meta.get('load_before')} / {meta.get('load_after')}"
        + (" (quick run)" if meta.get("quick") == "1" else "") + ". "
        "For interleaved rows arrival − T3 is the arrival of a reply against the transmit time the next reply gives for it "
        "(the kernel's TX stamp); sustained is the highest step of the ramp with < 1 % loss before the first that lost more."
    )
    return "\n".join(lines) + "\n"


REAL_ORDER = ["horod", "horod-stamp", "horod-xdp", "chronyd"]


def real_summarize(points):
    """The real client's runs (kind realclient): per server and client mode, medians over the repetitions."""
    res = {}
    for s in REAL_ORDER:
        for mode in ("basic", "xleave"):
            pts = [p for p in points if p.get("kind") == "realclient" and p.get("server") == s and p.get("client") == mode]
            if not pts:
                continue
            key = "interleaved_us" if mode == "xleave" else "basic_us"
            caps = [p.get("capture", {}).get(key, {}) for p in pts]
            shares = [p["modes"].get("I", 0) / p["samples"] for p in pts if p.get("samples")]
            res[(s, mode)] = {
                "label": LABEL.get(s, s), "client": mode, "reps": len(pts),
                "samples": med([p.get("samples") for p in pts]),
                "xl_share": med(shares) if mode == "xleave" else None,
                "offset_median": med([p.get("offset_median_us") for p in pts]),
                "offset_p99": med([p.get("offset_abs_p99_us") for p in pts]),
                "delay_median": med([p.get("delay_median_us") for p in pts]),
                "wire_n": sum(c.get("n", 0) for c in caps),
                "wire_min": min((c["min"] for c in caps if c.get("min") is not None), default=None),
                "wire_mean": med([c.get("mean") for c in caps]),
                "wire_sd": med([c.get("sd") for c in caps]),
                "wire_p99": med([c.get("p99") for c in caps]),
                "wire_late": sum(c.get("late", 0) for c in caps),
            }
    return res


def real_table(res, meta):
    if not res:
        return ""
    lines = [
        "Real client: a chronyd 4.3 (-x) in the client namespace follows each server, polling every 1/64 s, "
        "basic and with `xleave`; its exchanges captured at the client's end of the veth (arrival − T3 per mode; "
        "interleaved: the arrival of a reply against the transmit time the next reply gives for it) and its own "
        "measurements (on one host the true offset is 0).",
        "",
        "| server | chronyd client | samples | interleaved samples | offset median (µs) | p99 \\|offset\\| (µs) | delay median (µs) | wire: arrival − T3 min / mean / sd / p99 (µs) | late at the wire |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (s, mode), r in res.items():
        xl = "—" if r["xl_share"] is None else f"{100 * r['xl_share']:.1f} %"
        lines.append(
            f"| {r['label']} | {mode} | {r['samples']:.0f} | {xl} | {f(r['offset_median'])} | {f(r['offset_p99'])} | "
            f"{f(r['delay_median'])} | {f(r['wire_min'])} / {f(r['wire_mean'])} / {f(r['wire_sd'])} / {f(r['wire_p99'])} | "
            f"{r['wire_late']} of {r['wire_n']} |"
        )
    lines.append("")
    return "\n".join(lines) + "\n"


def prec_plots(res, out):
    names = [s for s in PREC_ORDER if s in res and res[s].get("steps")]
    if not names:
        return
    for s in names:
        with open(os.path.join(out, f"prec-{s}.dat"), "w") as fh:
            fh.write("# rate mean_us min_us sd_us p99_us\n")
            for st in res[s]["steps"]:
                if st["mean"] is None:
                    continue
                fh.write(f"{st['rate']:.0f} {st['mean']:.3f} {st['min']:.3f} {st['sd']:.3f} {st['p99']:.3f}\n")
    common = (
        "set terminal svg size 720,440 dynamic font 'sans,12'\n"
        "set key top left\nset grid\nset xlabel 'offered rate (requests/s)'\nset logscale x\n"
        "set format x '%.0s%c'\n"
    )

    def plot(col):
        return ", ".join(
            f"'prec-{s}.dat' using 1:{col} with linespoints title \"{LABEL.get(s, s)}\"" for s in names
        )
    gp = common + (
        "set output 'precision.svg'\nset ylabel 'arrival − T3, mean (µs)'\n"
        f"plot {plot(2)}\n"
        "set output 'precision_min.svg'\nset ylabel 'arrival − T3, minimum (µs; < 0: late)'\n"
        f"plot 0 with lines dashtype 2 lc rgb 'gray' notitle, {plot(3)}\n"
        "set output 'precision_sd.svg'\nset ylabel 'arrival − T3, standard deviation (µs)'\n"
        f"plot {plot(4)}\n"
    )
    with open(os.path.join(out, "plots.gp"), "w") as fh:
        fh.write(gp)
    subprocess.run(["gnuplot", "plots.gp"], cwd=out, check=True)


def prec_update_readme(path, tbl, marker, img):
    begin, end = f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->"
    with open(path) as fh:
        text = fh.read()
    if begin not in text or end not in text:
        print(f"report: no {marker} markers in {path}: README not updated", file=sys.stderr)
        return
    a = text.index(begin) + len(begin)
    b = text.index(end)
    text = (text[:a] + "\n" + tbl + f"\n![arrival − T3 mean against offered rate]({img}/precision.svg)\n"
            f"![arrival − T3 minimum against offered rate]({img}/precision_min.svg)\n"
            f"![arrival − T3 standard deviation against offered rate]({img}/precision_sd.svg)\n\n" + text[b:])
    with open(path + ".tmp", "w") as fh:
        fh.write(text)
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", required=True)
    ap.add_argument("--summary", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--meta", nargs="*", default=[])
    ap.add_argument("--readme")
    ap.add_argument("--marker", default="bench")
    ap.add_argument("--img", default="bench/results/lo")
    ap.add_argument("--precision", action="store_true")
    a = ap.parse_args()
    meta = dict(m.split("=", 1) for m in a.meta)
    if a.precision:
        pts = load(a.points)
        res = prec_summarize(pts)
        real = real_summarize(pts)
        os.makedirs(a.out, exist_ok=True)
        tbl = prec_table(res, meta)
        rt = real_table(real, meta)
        if rt:
            tbl += "\n" + rt
        with open(os.path.join(a.out, "table.md"), "w") as fh:
            fh.write(tbl)
        with open(os.path.join(a.out, "summary.json"), "w") as fh:
            json.dump({"meta": meta, "servers": res,
                       "real_client": [dict(server=k[0], **v) for k, v in real.items()]}, fh, indent=1)
        prec_plots(res, a.out)
        if a.readme:
            prec_update_readme(a.readme, tbl, a.marker, a.img)
        sys.stdout.write(tbl)
        return
    res = summarize(load(a.points), load(a.summary))
    os.makedirs(a.out, exist_ok=True)
    tbl = table(res, meta)
    with open(os.path.join(a.out, "table.md"), "w") as fh:
        fh.write(tbl)
    with open(os.path.join(a.out, "summary.json"), "w") as fh:
        json.dump({"meta": meta, "servers": res}, fh, indent=1)
    plots(res, a.out)
    if a.readme:
        update_readme(a.readme, tbl, a.marker, a.img)
    sys.stdout.write(tbl)


if __name__ == "__main__":
    main()
