#!/usr/bin/env python3
"""Check horod's Grafana dashboard and Prometheus rules against a live horod.

Used by tests/system/95-monitoring.sh. Subcommands:

  lint DASH.json
      The dashboard's structure: a uid, a title, the datasource and
      instance variables, every panel with a unique id, a place on the
      24-column grid that overlaps no other, the ${datasource} datasource,
      targets with unique refIds and an expression; and the panels the
      operators need (by title). Exit 1 with one line per problem.
  rulesfile DASH.json OUT.yml
      Every panel expression, its variables replaced, as a recording rule
      in OUT.yml, so that `promtool check rules OUT.yml` checks them as
      PromQL.
  names FILE...
      The metric names (horod_*) the dashboards and rule files use, one a
      line, sorted.
  exported SCRAPE FILE...
      Every metric name FILE... uses must be a family of the scrape
      (Prometheus text in SCRAPE), and every reason="..." or reason=~"..."
      matcher must match a reason the scrape has. Exit 1 with the misses.
  query URL DASH.json
      Every panel expression evaluated by the Prometheus at URL: it must
      succeed and return at least one series. Exit 1 with the failures.

Variables are replaced as Grafana would: $instance by .*, $__rate_interval
by RATE (--rate, default 30s).
"""
import argparse
import json
import re
import sys
import urllib.parse
import urllib.request

GRID_WIDTH = 24  # Grafana's grid columns
QUERY_TIMEOUT = 10  # s: one Prometheus query

# Panels the operators need, by a word of their title (the list).
REQUIRED_TITLES = [
    "Requests by outcome",
    "Requests by path: worker vs XDP",
    "XDP share",
    "Guard drops by reason",
    "Sync state",
    "Offset",
    "Root distance served",
    "Sources' reach",
]

METRIC_RE = re.compile(r"\b(horod_[a-z0-9_]+)\b")
REASON_RE = re.compile(r'reason\s*(=~|!~|=|!=)\s*"([^"]*)"')


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def panels_of(dash):
    """Every panel, rows' nested panels included, rows themselves excluded."""
    out = []
    for p in dash.get("panels", []):
        if p.get("type") == "row":
            out.extend(p.get("panels", []))
        else:
            out.append(p)
    return out


def substitute(expr, rate):
    return expr.replace("$__rate_interval", rate).replace("$instance", ".*")


def exprs(dash, rate):
    """(panel title, refId, expression) for every target."""
    out = []
    for p in panels_of(dash):
        for t in p.get("targets", []):
            out.append((p.get("title", "?"), t.get("refId", "?"), substitute(t.get("expr", ""), rate)))
    return out


def cmd_lint(args):
    dash = load(args.dash)
    bad = []
    for key in ("uid", "title", "schemaVersion", "panels"):
        if not dash.get(key):
            bad.append(f"no {key}")
    names = {v.get("name") for v in dash.get("templating", {}).get("list", [])}
    for v in ("datasource", "instance"):
        if v not in names:
            bad.append(f"no ${v} variable")
    ids = set()
    cells = {}
    titles = []
    for p in dash.get("panels", []) + [q for r in dash.get("panels", []) for q in r.get("panels", [])]:
        pid = p.get("id")
        title = p.get("title", "?")
        if pid in ids:
            bad.append(f"panel '{title}': id {pid} used twice")
        ids.add(pid)
        g = p.get("gridPos", {})
        x, y, w, h = g.get("x"), g.get("y"), g.get("w"), g.get("h")
        if None in (x, y, w, h) or x < 0 or w < 1 or h < 1 or x + w > GRID_WIDTH:
            bad.append(f"panel '{title}': gridPos {g} is off the {GRID_WIDTH}-column grid")
            continue
        for cx in range(x, x + w):
            for cy in range(y, y + h):
                if (cx, cy) in cells:
                    bad.append(f"panel '{title}' overlaps '{cells[(cx, cy)]}' at {cx},{cy}")
                    break
                cells[(cx, cy)] = title
            else:
                continue
            break
        if p.get("type") == "row":
            continue
        titles.append(title)
        if p.get("datasource", {}).get("uid") != "${datasource}":
            bad.append(f"panel '{title}': datasource should be ${{datasource}}")
        targets = p.get("targets", [])
        if not targets:
            bad.append(f"panel '{title}': no targets")
        refs = [t.get("refId") for t in targets]
        if len(set(refs)) != len(refs):
            bad.append(f"panel '{title}': refIds {refs} not unique")
        for t in targets:
            if not t.get("expr", "").strip():
                bad.append(f"panel '{title}' {t.get('refId')}: empty expression")
            if "$instance" not in t.get("expr", ""):
                bad.append(f"panel '{title}' {t.get('refId')}: not filtered by $instance")
    for want in REQUIRED_TITLES:
        if want not in titles:
            bad.append(f"no panel titled '{want}'")
    for b in bad:
        print(b)
    print(f"dashcheck: {len(titles)} panels, {len(bad)} problems")
    return 1 if bad else 0


def cmd_rulesfile(args):
    dash = load(args.dash)
    lines = ["groups:", "  - name: dashboard", "    rules:"]
    for i, (title, ref, e) in enumerate(exprs(dash, args.rate)):
        lines.append(f"      - record: dashboard:panel{i}:{ref}")
        lines.append("        expr: " + json.dumps(e))
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"dashcheck: {len(lines) // 2 - 1} expressions in {args.out}")
    return 0


def used_text(paths):
    """The PromQL text of dashboards (their expressions) and rule files (whole)."""
    text = []
    for p in paths:
        if p.endswith(".json"):
            text.extend(e for _, _, e in exprs(load(p), "1m"))
        else:
            with open(p, encoding="utf-8") as f:
                text.append(f.read())
    return "\n".join(text)


def cmd_names(args):
    for n in sorted(set(METRIC_RE.findall(used_text(args.files)))):
        print(n)
    return 0


def scrape_families(path):
    fams, reasons = set(), set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("# TYPE "):
                fams.add(line.split()[2])
            m = re.search(r'\{reason="([^"]*)"\}', line)
            if m and not line.startswith("#"):
                reasons.add(m.group(1))
    return fams, reasons


def cmd_exported(args):
    fams, reasons = scrape_families(args.scrape)
    text = used_text(args.files)
    bad = []
    names = sorted(set(METRIC_RE.findall(text)))
    for n in names:
        if n not in fams:
            bad.append(f"metric {n} is used but not exported")
    matchers = sorted(set(REASON_RE.findall(text)))
    for op, val in matchers:
        if op in ("=", "!="):
            hit = val in reasons
        else:
            hit = any(re.fullmatch(val, r) for r in reasons)
        if not hit:
            bad.append(f'matcher reason{op}"{val}" matches no reason exported')
    for b in bad:
        print(b)
    print(f"dashcheck: {len(names)} metrics and {len(matchers)} reason matchers used, "
          f"{len(bad)} not exported")
    return 1 if bad else 0


def cmd_query(args):
    dash = load(args.dash)
    bad = 0
    n = 0
    for title, ref, e in exprs(dash, args.rate):
        n += 1
        url = args.url.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": e})
        try:
            with urllib.request.urlopen(url, timeout=QUERY_TIMEOUT) as r:
                ans = json.load(r)
        except Exception as exc:  # HTTP 400 carries PromQL errors
            body = getattr(exc, "read", lambda: b"")().decode(errors="replace")
            print(f"'{title}' {ref}: query failed: {exc} {body[:200]}")
            bad += 1
            continue
        res = ans.get("data", {}).get("result", [])
        if ans.get("status") != "success" or not res:
            print(f"'{title}' {ref}: no series ({ans.get('status')}): {e}")
            bad += 1
    print(f"dashcheck: {n} expressions evaluated, {bad} failed or empty")
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rate", default="30s", help="what $__rate_interval becomes")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("lint")
    p.add_argument("dash")
    p.set_defaults(fn=cmd_lint)
    p = sub.add_parser("rulesfile")
    p.add_argument("dash")
    p.add_argument("out")
    p.set_defaults(fn=cmd_rulesfile)
    p = sub.add_parser("names")
    p.add_argument("files", nargs="+")
    p.set_defaults(fn=cmd_names)
    p = sub.add_parser("exported")
    p.add_argument("scrape")
    p.add_argument("files", nargs="+")
    p.set_defaults(fn=cmd_exported)
    p = sub.add_parser("query")
    p.add_argument("url")
    p.add_argument("dash")
    p.set_defaults(fn=cmd_query)
    args = ap.parse_args()
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
