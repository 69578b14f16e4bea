"""The results as a PNG: throughput per scenario (with the baseline and the ratio targets),
and p50/p95/p99 latency per scenario (with the p99 targets). Pillow only, which the
project already depends on for QR codes and signatures."""

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1400, 620
PANEL_TOP, PANEL_BOTTOM = 90, 520
COLOURS = {"rps": (52, 101, 164), "baseline": (120, 120, 120), "p50": (115, 210, 22), "p95": (245, 121, 0), "p99": (204, 0, 0)}


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType
        return ImageFont.load_default()


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _axis(draw, left, right, top, bottom, top_value, unit, font):
    draw.line([(left, top), (left, bottom), (right, bottom)], fill=(0, 0, 0), width=1)
    for k in range(5):
        value = top_value * k / 4
        y = bottom - (bottom - top) * k / 4
        draw.line([(left - 4, y), (right, y)], fill=(225, 225, 225) if k else (0, 0, 0))
        draw.text((left - 8, y), f"{value:g}", fill=(0, 0, 0), font=font, anchor="rm")
    draw.text((left, top - 18), unit, fill=(0, 0, 0), font=font, anchor="lm")


def draw(results: dict, path: Path) -> None:
    font, small, title = _font(14), _font(12), _font(18)
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    d = ImageDraw.Draw(image)
    scenarios = {name: r for name, r in results["scenarios"].items() if not r.get("skipped")}
    machine = results["machine"]
    d.text(
        (20, 16),
        f"Tuckbox make bench ({results['profile']}): {machine['cores']} cores, {machine['memory_gib']} GiB, "
        f"{results['settings']['concurrency']} clients, {results['settings']['gunicorn_workers']} gunicorn sync workers, {results['generated_at']}",
        fill=(0, 0, 0),
        font=title,
    )
    d.text((20, 44), f"load average at start {machine['loadavg_at_start'][0]:.2f}, at end {machine.get('loadavg_at_end', [0])[0]:.2f}", fill=(90, 90, 90), font=small)

    # Throughput.
    left, right = 80, 660
    throughput = {name: r for name, r in scenarios.items() if r.get("ratio") is not None or name == "baseline"}
    top_value = _nice_max(max([r["rps"] for r in throughput.values()] + [1]))
    _axis(d, left, right, PANEL_TOP, PANEL_BOTTOM, top_value, "requests/s", font)
    slot = (right - left) / max(1, len(throughput))
    baseline = scenarios.get("baseline", {}).get("rps", 0)
    for k, (name, r) in enumerate(throughput.items()):
        x0 = left + k * slot + slot * 0.2
        x1 = left + (k + 1) * slot - slot * 0.2
        y = PANEL_BOTTOM - (PANEL_BOTTOM - PANEL_TOP) * r["rps"] / top_value
        d.rectangle([x0, y, x1, PANEL_BOTTOM], fill=COLOURS["baseline" if name == "baseline" else "rps"])
        label = f"{r['rps']:g}" + (f" ({r['ratio']:.2f}x)" if r.get("ratio") is not None else "")
        d.text(((x0 + x1) / 2, y - 4), label, fill=(0, 0, 0), font=small, anchor="mb")
        d.text(((x0 + x1) / 2, PANEL_BOTTOM + 8), name, fill=(0, 0, 0), font=small, anchor="mt")
    for ratio, dash in ((0.6, "0.6x baseline"), (0.5, "0.5x baseline")):
        if baseline:
            y = PANEL_BOTTOM - (PANEL_BOTTOM - PANEL_TOP) * baseline * ratio / top_value
            for x in range(left, right, 12):
                d.line([(x, y), (x + 6, y)], fill=(120, 120, 120))
            d.text((right + 4, y), dash, fill=(90, 90, 90), font=small, anchor="lm")

    # Latency, of the throughput scenarios (the invariant ones fire bursts: their latency is queueing by design).
    scenarios = throughput
    left, right = 800, 1380
    top_value = _nice_max(max([r["p99_ms"] or 0 for r in scenarios.values()] + [150]))
    _axis(d, left, right, PANEL_TOP, PANEL_BOTTOM, top_value, "latency ms (p50 / p95 / p99)", font)
    slot = (right - left) / max(1, len(scenarios))
    for k, (name, r) in enumerate(scenarios.items()):
        bar = slot * 0.6 / 3
        for j, key in enumerate(("p50", "p95", "p99")):
            value = r.get(f"{key}_ms") or 0
            x0 = left + k * slot + slot * 0.2 + j * bar
            y = PANEL_BOTTOM - (PANEL_BOTTOM - PANEL_TOP) * min(value, top_value) / top_value
            d.rectangle([x0, y, x0 + bar - 2, PANEL_BOTTOM], fill=COLOURS[key])
        d.text((left + k * slot + slot * 0.5, PANEL_BOTTOM - (PANEL_BOTTOM - PANEL_TOP) * min(r.get("p99_ms") or 0, top_value) / top_value - 4), f"{r.get('p99_ms')}", fill=(0, 0, 0), font=small, anchor="mb")
        d.text((left + k * slot + slot * 0.5, PANEL_BOTTOM + 8 + (14 if k % 2 else 0)), name, fill=(0, 0, 0), font=small, anchor="mt")
    for limit in (50, 150):
        y = PANEL_BOTTOM - (PANEL_BOTTOM - PANEL_TOP) * limit / top_value
        for x in range(left, right, 12):
            d.line([(x, y), (x + 6, y)], fill=(160, 0, 0))
        d.text((left + 4, y - 2), f"p99 target {limit} ms", fill=(160, 0, 0), font=small, anchor="lb")
    for j, key in enumerate(("p50", "p95", "p99")):
        d.rectangle([left + 20 + j * 90, 565, left + 34 + j * 90, 579], fill=COLOURS[key])
        d.text((left + 40 + j * 90, 572), key, fill=(0, 0, 0), font=small, anchor="lm")
    met = results.get("targets", {})
    d.text((20, 590), "targets: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in met.items()), fill=(0, 0, 0), font=small)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
