#!/usr/bin/env python3
"""Writes the demo's haystack: filler documents with a few planted needles.

usage: make_haystack.py OUT.jsonl [--docs 2000] [--seed 7]

Filler is lowercase words; each needle is a sentence naming an agent by a
code of four capital letters, and no two codes share a letter. The demo
model (msa-run make-model --preset demo) routes by capital letters and
digits, so a question naming a code selects that needle's document. Codes
use letters only because every document's wrapper carries its numeric id.
"""
import json
import random
import sys

WORDS = ("the of and to in is was for on that with as by at from it an be "
         "this which or are had not but have were their one all its also "
         "after first two new time other when into more city year years "
         "world river north south east west old small large early late "
         "people house water market road field stone light summer winter "
         "morning evening garden valley harbor bridge tower forest island "
         "village station library museum school church castle mountain").split()
CODES = ["QXZK", "MTBV", "RJDH", "WYLF", "NCGO", "SUEA"]
PLACES = ["under the red bench", "behind the old clock", "inside the blue vase",
          "beneath the bridge", "in the third drawer", "on the top shelf"]


def filler(rng, n_chars):
    words = []
    size = 0
    while size < n_chars:
        w = rng.choice(WORDS)
        words.append(w)
        size += len(w) + 1
    return " ".join(words)


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    out = args[0]
    docs = int(args[args.index("--docs") + 1]) if "--docs" in args else 2000
    seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 7
    rng = random.Random(seed)
    needle_docs = rng.sample(range(docs), len(CODES))
    with open(out, "w") as f:
        for i in range(docs):
            text = filler(rng, rng.randint(380, 660))
            doc_id = "doc-%04d" % i
            if i in needle_docs:
                k = needle_docs.index(i)
                words = text.split(" ")
                at = rng.randint(0, len(words))
                needle = "agent %s hid the key %s." % (CODES[k], PLACES[k])
                text = " ".join(words[:at] + [needle] + words[at:])
                doc_id = "needle-" + CODES[k]
            f.write(json.dumps({"id": doc_id, "text": text}) + "\n")


if __name__ == "__main__":
    main()
