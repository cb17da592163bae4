#!/usr/bin/env python3
"""Draw the C10K curve of bench/models.sh as one self-contained SVG.

usage: models_svg.py RESULTS.tsv OUT.svg [ACTIVE]

RESULTS.tsv has one line per run: proto, model, idle connections,
requests/s, server CPU µs per request (tab-separated). Four panels, one
line per model: requests/s (top) and server CPU per request (bottom)
against idle connections, echo on the left, HTTP on the right. The x axis
is logarithmic; N = 0 sits one decade left of the smallest N measured.
Plain SVG written by hand, as ipcbench's chart (src/apps/ipcbench/svg.c)
is: no library, no script, no external reference; written to a temporary
file and renamed over OUT."""
import math
import os
import sys
import tempfile

COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
          "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#393b79", "#ad494a"]
PW, PH = 430, 250          # one panel's plot area
ML, MT, GAPX, GAPY = 70, 70, 90, 90


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def nice_max(v):
    if v <= 0:
        return 1.0
    e = 10 ** math.floor(math.log10(v))
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * e >= v:
            return m * e
    return 10 * e


def human(v):
    if v >= 1e6:
        return "%gM" % (v / 1e6)
    if v >= 1e3:
        return "%gk" % (v / 1e3)
    return "%g" % v


def panel(out, x0, y0, title, series, models, xs, ymax, unit):
    lo = math.log10(min(n for n in xs if n > 0)) - 1 if any(n > 0 for n in xs) else 0
    hi = math.log10(max(xs)) if max(xs) > 0 else lo + 1
    hi = max(hi, lo + 1)

    def px(n):
        l = math.log10(n) if n > 0 else lo
        return x0 + (l - lo) / (hi - lo) * PW

    def py(v):
        return y0 + PH - v / ymax * PH

    out.append("<text x='%d' y='%d' font-size='13' font-weight='bold'>%s</text>"
               % (x0, y0 - 12, esc(title)))
    out.append("<rect x='%d' y='%d' width='%d' height='%d' fill='none' stroke='#999'/>"
               % (x0, y0, PW, PH))
    for i in range(6):
        v = ymax * i / 5
        y = py(v)
        out.append("<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='#e5e5e5'/>"
                   % (x0, y, x0 + PW, y))
        out.append("<text x='%d' y='%.1f' font-size='10' text-anchor='end'>%s</text>"
                   % (x0 - 5, y + 3, human(v) if unit != "µs" else "%g" % v))
    ticks = sorted(set([0] + [10 ** d for d in range(int(math.ceil(lo + 0.5)), int(hi) + 1)]
                       + list(xs)))
    for n in ticks:
        x = px(n)
        out.append("<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' stroke='#e5e5e5'/>"
                   % (x, y0, x, y0 + PH))
        out.append("<text x='%.1f' y='%d' font-size='10' text-anchor='middle'>%s</text>"
                   % (x, y0 + PH + 13, human(n)))
    # the break between 0 and the log axis
    xb = px(10 ** (lo + 0.5))
    out.append("<text x='%.1f' y='%d' font-size='11' text-anchor='middle' fill='#999'>//</text>"
               % (xb, y0 + PH + 4))
    out.append("<text x='%d' y='%d' font-size='11' text-anchor='middle'>idle connections "
               "(log scale)</text>" % (x0 + PW // 2, y0 + PH + 30))
    out.append("<text x='%d' y='%d' font-size='11' text-anchor='middle' "
               "transform='rotate(-90 %d %d)'>%s</text>"
               % (x0 - 50, y0 + PH // 2, x0 - 50, y0 + PH // 2, esc(unit)))
    for i, m in enumerate(models):
        pts = sorted(series.get(m, {}).items())
        if not pts:
            continue
        c = COLORS[i % len(COLORS)]
        if len(pts) > 1:
            out.append("<polyline fill='none' stroke='%s' stroke-width='2' points='%s'/>"
                       % (c, " ".join("%.1f,%.1f" % (px(n), py(v)) for n, v in pts)))
        for n, v in pts:
            out.append("<circle cx='%.1f' cy='%.1f' r='3.5' fill='%s'><title>%s, %s idle: "
                       "%s %s</title></circle>"
                       % (px(n), py(v), c, esc(m), human(n),
                          "%.0f" % v if unit != "µs" else "%.2f" % v, esc(unit)))


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: models_svg.py RESULTS.tsv OUT.svg [ACTIVE]")
    active = sys.argv[3] if len(sys.argv) > 3 else "50"
    rps, cpu, models, xs = {}, {}, [], set()
    with open(sys.argv[1]) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) < 5:
                continue
            proto, model, n, r, c = p[0], p[1], int(p[2]), float(p[3]), float(p[4])
            if model not in models:
                models.append(model)
            xs.add(n)
            rps.setdefault(proto, {}).setdefault(model, {})[n] = r
            cpu.setdefault(proto, {}).setdefault(model, {})[n] = c
    if not xs:
        sys.exit("models_svg.py: no results in %s" % sys.argv[1])
    xs = sorted(xs)
    width = ML + 2 * PW + GAPX + 40
    legend_rows = (len(models) + 5) // 6
    height = MT + 2 * PH + GAPY + 60 + legend_rows * 18
    out = ["<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
           "font-family='sans-serif'>" % (width, height),
           "<rect width='100%' height='100%' fill='white'/>",
           "<text x='10' y='22' font-size='15' font-weight='bold'>Server models: %s active "
           "keep-alive connections while N idle ones are open</text>" % esc(active)]
    for col, proto, label in ((0, "echo", "echo, 64 B"), (1, "http", "HTTP GET, 1 KiB")):
        x0 = ML + col * (PW + GAPX)
        r = rps.get(proto, {})
        c = cpu.get(proto, {})
        rmax = nice_max(max([v for s in r.values() for v in s.values()] or [1]))
        cmax = nice_max(max([v for s in c.values() for v in s.values()] or [1]))
        panel(out, x0, MT, "%s: requests/s" % label, r, models, xs, rmax, "requests/s")
        panel(out, x0, MT + PH + GAPY, "%s: server CPU per request" % label, c, models, xs,
              cmax, "µs")
    ly = MT + 2 * PH + GAPY + 50
    for i, m in enumerate(models):
        x = ML + (i % 6) * 150
        y = ly + (i // 6) * 18
        out.append("<rect x='%d' y='%d' width='14' height='4' fill='%s'/>"
                   "<text x='%d' y='%d' font-size='11'>%s</text>"
                   % (x, y - 4, COLORS[i % len(COLORS)], x + 19, y, esc(m)))
    out.append("<text x='10' y='%d' font-size='10' fill='#666'>generated by bench/models.sh "
               "(make bench-models); hover a point for its value; missing points: the "
               "model cannot hold that many (docs/bench-models.md says why)</text>"
               % (height - 8))
    out.append("</svg>")
    d = os.path.dirname(os.path.abspath(sys.argv[2]))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".models-svg.")
    try:
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(out) + "\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, sys.argv[2])
    except BaseException:
        os.unlink(tmp)
        raise


if __name__ == "__main__":
    main()
