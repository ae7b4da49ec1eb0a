"""Turn a run's JSON into the Markdown results page: tables, ratios and the issue's targets."""

from __future__ import annotations

RF = "roboflow inference 1.8.3"
OURS = "visionhost"


def markdown(results: dict) -> str:
    rows = [row for row in results["rows"] if "error" not in row]
    machine = results["machine"]
    lines = [
        f"# Benchmark {results['started']}",
        "",
        f"Machine: {machine['cpu_model']}, {machine['cpus']} CPUs ({machine['flags']}), "
        f"{machine['memory_gb']} GB RAM, Linux {machine['kernel']}, Python {machine['python']}"
        f"{', virtualised' if machine['virtualised'] else ''}.",
        f"Settings: {results['settings']}.",
        "Other processes' share of the CPUs just before each model: "
        + ", ".join(
            f"{name} {busy:.0%}" for name, busy in results["background_busy_before_each_model"].items()
        )
        + " (the `other` column is the same during each point).",
        "",
        "Throughput is requests (images) per second; latencies in ms; `cpu/req` is the CPU time of the "
        "measured process (server tree, or the in-process bench) per request; `x raw` is throughput over "
        "the raw runtime's best configuration; `x RF` is throughput over Roboflow's server on the same "
        "route and concurrency.",
        "",
    ]
    for model in dict.fromkeys(row["model"] for row in rows):
        lines += model_table(model, [row for row in rows if row["model"] == model])
    lines += targets(rows)
    for row in results["rows"]:
        if "error" in row:
            lines.append(f"- {row['system']} on {row['model']} failed: {row['error'][:300]}")
    if results.get("soak"):
        lines += soak_section(results["soak"])
    return "\n".join(lines) + "\n"


def raw_best(rows: list[dict]) -> dict | None:
    """The raw runtime's best throughput, or None when every raw point failed."""
    raw = [row for row in rows if row["system"] == "raw onnxruntime" and row["rps"] > 0]
    return max(raw, key=lambda row: row["rps"]) if raw else None


def raw_latency(rows: list[dict]) -> dict | None:
    """The fastest single image: the raw configuration with one stream of batch 1 and the lowest p50."""
    single = [row for row in rows if row["system"] == "raw onnxruntime" and "s1b1" in row["route"]]
    return min(single, key=lambda row: row["p50_ms"]) if single else None


def ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.2f}" if denominator > 0 else ""


def find(rows: list[dict], system: str, route: str, concurrency: int) -> dict | None:
    for row in rows:
        if (row["system"], row["route"], row["concurrency"]) == (system, route, concurrency):
            return row
    return None


def model_table(model: str, rows: list[dict]) -> list[str]:
    best, fastest = raw_best(rows), raw_latency(rows)
    summary = (
        f"Raw runtime best: {best['rps']:.1f} images/s ({best['route']}: intra-op threads, sessions, batch); "
        f"fastest single image p50 {fastest['p50_ms']:.1f} ms."
        if best and fastest
        else "No raw runtime point succeeded (see the failures below)."
    )
    lines = [
        f"## {model}",
        "",
        summary,
        "",
        "| system | route | conc. | req/s | p50 | p95 | p99 | cpu/req ms | peak RSS MB | x raw | x RF "
        "| other |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        reference = find(rows, RF, row["route"], row["concurrency"])
        versus_rf = ratio(row["rps"], reference["rps"]) if reference and row["system"] != RF else ""
        lines.append(
            f"| {row['system']} | {row['route']} | {row['concurrency']} | {row['rps']:.2f} | "
            f"{row['p50_ms']:.1f} | {row['p95_ms']:.1f} | {row['p99_ms']:.1f} | "
            f"{row.get('cpu_per_request_ms', 0):.1f} | {row.get('peak_rss_mb', 0):.0f} | "
            f"{ratio(row['rps'], best['rps']) if best else ''} | {versus_rf} | "
            f"{row.get('foreign_cpu_pct', 0):.0f}% |"
        )
    return lines + [""]


def targets(rows: list[dict]) -> list[str]:
    lines = ["## Targets (issue 8)", "", "| target | measured | met |", "|---|---|---|"]
    for model in dict.fromkeys(row["model"] for row in rows):
        subset = [row for row in rows if row["model"] == model]
        fastest, best = raw_latency(subset), raw_best(subset)
        if fastest is None or best is None:
            lines.append(f"| {model}: every target | no raw runtime point to compare with | - |")
            continue
        floor = fastest["p50_ms"]
        for route in ("v2", "legacy"):
            single = find(subset, OURS, route, 1)
            if single:
                overhead = single["p50_ms"] - floor
                lines.append(
                    f"| {model} {route}: overhead at c=1 < 10 ms | {overhead:.1f} ms "
                    f"({single['p50_ms']:.1f} - raw {floor:.1f}) | {_mark(overhead < 10)} |"
                )
        for concurrency in (8, 16):
            ours = find(subset, OURS, "v2", concurrency)
            if ours:
                share = ours["rps"] / best["rps"]
                lines.append(
                    f"| {model} v2 c={concurrency}: >= raw best ({best['rps']:.1f}/s, {best['route']}) | "
                    f"{ours['rps']:.1f}/s = {share:.2f}x | {_mark(share >= 1.0)} |"
                )
            reference = find(subset, RF, "v2", concurrency)
            if ours and reference and reference["rps"] > 0:
                wanted = 1.1 if model.startswith("yolov8s") else 2.0 if _light(model) else None
                versus = ours["rps"] / reference["rps"]
                verdict = _mark(versus >= wanted) if wanted else "(no target)"
                lines.append(
                    f"| {model} v2 c={concurrency}: vs Roboflow{f' >= {wanted}x' if wanted else ''} | "
                    f"{ours['rps']:.1f} vs {reference['rps']:.1f}/s = {versus:.2f}x | {verdict} |"
                )
        batched, plain = find(subset, OURS, "v2", 16), find(subset, "visionhost no-batching", "v2", 16)
        if batched and plain and plain["rps"] > 0:
            lines.append(
                f"| {model} c=16 dynamic batching on vs off | {batched['rps']:.1f} vs "
                f"{plain['rps']:.1f}/s = {batched['rps'] / plain['rps']:.2f}x | (measured) |"
            )
    return lines + [""]


def soak_section(soak: dict) -> list[str]:
    samples = soak["rss_samples"]
    values = [rss for _, rss in samples]
    settled = values[len(values) // 10 :] or values
    lines = [
        f"## Memory over {soak['minutes']:g} minutes ({soak['model']}, v2 route, 4 clients)",
        "",
        f"{soak['load']['requests']} requests at {soak['load']['rps']:.1f}/s, "
        f"{soak['load']['errors']} errors. "
        f"Resident memory: first sample {values[0]:.0f} MB, min/max after the first tenth "
        f"{min(settled):.0f}/{max(settled):.0f} MB, last {values[-1]:.0f} MB.",
        "",
        "| minute | RSS MB |",
        "|---:|---:|",
    ]
    step = max(1, len(samples) // 12)
    for seconds, rss in samples[::step] + ([samples[-1]] if (len(samples) - 1) % step else []):
        lines.append(f"| {seconds / 60:.1f} | {rss:.0f} |")
    return lines + [""]


def _light(model: str) -> bool:
    return "320" in model or "cls" in model


def _mark(ok: bool) -> str:
    return "yes" if ok else "**no**"
