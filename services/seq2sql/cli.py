"""`malgeul eval sql` (execution accuracy on the dev sets) and `malgeul train seq2sql`."""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from pathlib import Path

from common.encoders import load_encoder
from common.matchdb import make_engine
from services.seq2sql.config import Seq2SqlSettings
from services.seq2sql.databases import Registered, build_assistant, default_annotations
from services.seq2sql.evaluation import SHOP_ANNOTATIONS, create_shop_sqlite, evaluate, load_dev, report
from services.seq2sql.readonly import ReadOnlyDatabase
from services.seq2sql.seed import seed_demo


def _settings(args: argparse.Namespace) -> Seq2SqlSettings:
    overrides = {k: v for k, v in {"slot_model": args.slot_model, "per_sketch": args.per_sketch,
                                    "epochs": args.epochs, "model_inputs": args.inputs}.items() if v is not None}
    return Seq2SqlSettings(**overrides)


def eval_sql(argv: list[str]) -> int:
    """Seed a scratch copy of the demo databases, build (or load) the models, print the scores."""
    parser = argparse.ArgumentParser(prog="malgeul eval sql")
    parser.add_argument("--database", choices=["matches", "shop", "both"], default="both")
    parser.add_argument("--slot-model", choices=["mlp", "knn"])
    parser.add_argument("--per-sketch", type=int)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--inputs", choices=["both", "embedding", "links"], help="ablations of the model inputs")
    parser.add_argument("--errors", action="store_true", help="print every wrong answer")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    settings = _settings(args)
    encoder = load_encoder(settings.encoder)
    work = Path(tempfile.mkdtemp(prefix="seq2sql-eval-"))
    names = ["matches", "shop"] if args.database == "both" else [args.database]
    for name in names:
        if name == "matches":
            url = f"sqlite:///{work / 'matches.sqlite'}"
            engine = make_engine(url)
            seed_demo(engine, force=True)
            engine.dispose()
            entry = Registered("matches", url, default_annotations(settings))
        else:
            path = create_shop_sqlite(work / "shop.sqlite")
            entry = Registered("shop", str(path), json.loads(SHOP_ANNOTATIONS.read_text(encoding="utf-8")))
        assistant = build_assistant(entry, settings, encoder)
        outcomes = evaluate(assistant, load_dev(name), ReadOnlyDatabase(entry.url))
        label = f"{name}/{settings.slot_model}" + ("" if settings.model_inputs == "both" else f"/{settings.model_inputs}")
        for line in report(label, outcomes, entry.meta.get("train_seconds")):
            print(line)
        if args.errors:
            for o in outcomes:
                if not o.correct:
                    print(f"  WRONG [{o.item.category}] {o.item.question}\n     got: {o.predicted}")
    return 0


def train(argv: list[str]) -> int:
    """Train (or load from cache) the match database model with the configured settings."""
    from services.seq2sql.databases import train_default_model

    train_default_model(Seq2SqlSettings())
    return 0


EVALS = {"sql": eval_sql}
TRAINERS = {"seq2sql": train}
