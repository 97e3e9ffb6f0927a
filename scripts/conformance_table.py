"""Renders the devp2p suite results written by node/tests/support/geth.rs as docs/conformance.md."""
import json
import pathlib
import subprocess
import sys

SUITES = [
    ("discv4", "`devp2p discv4 test`"),
    ("eth", "`devp2p rlpx eth-test`"),
]


def main(results_dir: str) -> None:
    root = pathlib.Path(results_dir)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    out = [
        "# Conformance: go-ethereum's devp2p suites",
        "",
        "go-ethereum v1.17.10's `devp2p` conformance suites (the ones hive runs against every",
        "client) against `paxeer-p2p run`, on both runtimes. Regenerate this page with",
        "`bash scripts/conformance.sh` (it runs `node/tests/geth_discv4.rs` and",
        "`node/tests/geth_eth.rs`). geth 1.17 speaks eth/69 to eth/72 and we speak eth/68 to",
        "eth/70, so the eth suite runs on eth/70 (GetLargeReceipts pages block 14's more than",
        "10 MiB of receipts); the tests that need eth/71 or eth/72 are listed as not run, with",
        "the issue that brings them.",
        "",
        f"Generated at commit `{commit}`.",
        "",
    ]
    for key, title in SUITES:
        files = sorted(root.glob(f"{key}-*.json"))
        if not files:
            continue
        runtimes = [f.stem.split("-", 1)[1] for f in files]
        rows = {}
        order = []
        for rt, f in zip(runtimes, files):
            for r in json.loads(f.read_text()):
                name = r["test"]
                if name not in rows:
                    rows[name] = {}
                    order.append(name)
                cell = r["result"]
                if r.get("duration") and cell != "not run":
                    cell += f" ({r['duration']})"
                if r.get("why"):
                    cell += f": {r['why']}"
                rows[name][rt] = cell
        passed = {rt: sum(1 for n in order if rows[n].get(rt, "").startswith("pass")) for rt in runtimes}
        out.append(f"## {title}")
        out.append("")
        out.append(", ".join(f"{rt}: {passed[rt]}/{len(order)} pass" for rt in runtimes))
        out.append("")
        out.append("| test | " + " | ".join(runtimes) + " |")
        out.append("|---|" + "---|" * len(runtimes))
        for name in order:
            out.append(f"| {name} | " + " | ".join(rows[name].get(rt, "") for rt in runtimes) + " |")
        out.append("")
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "target/conformance")
