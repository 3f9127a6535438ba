"""The peer in `npm run evaluate -- --compare`: PyPI `implicit`, called as a data scientist would.

Reads one JSON request (argv[1]), fits the models it names with the real library, writes one JSON answer
(argv[2]). Item, basket and shopper indexes are Tandem's; lists never hold the query item itself.

Request: {"items": n, "n": depth, "threads": t, "seed": s,
          "baskets": {"indptr", "indices"}                 orders × items, binary (cross-sell models)
          "users": {"indptr", "indices", "data"}           shoppers × items, event weights (personal models)
          "als": {"baskets": {"factors", "iterations", "regularization", "alpha"}, "users": {…}},
          "knn": {"baskets": {"K", "K1", "B"}, "users": {…}},
          "similar": [item, …]       similar items from the basket models (cross-sell)
          "userSimilar": [item, …]   similar items from the shopper models (up-sell)
          "recommend": [user, …]}    recommendations from the shopper models (personal, nothing filtered)
"""

import json
import sys
import time

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

import implicit
from implicit.als import AlternatingLeastSquares
from implicit.nearest_neighbours import BM25Recommender, CosineRecommender


def matrix(m, rows, cols):
    data = m.get("data") or [1.0] * len(m["indices"])
    return sp.csr_matrix(
        (np.asarray(data, dtype=np.float32), np.asarray(m["indices"], dtype=np.int32), np.asarray(m["indptr"], dtype=np.int64)),
        shape=(rows, cols),
    )


def models(req, kind):
    """The three models, with the request's parameters for the `baskets` or the `users` matrix."""
    t = req["threads"]
    als = req["als"][kind]
    knn = req["knn"][kind]
    return {
        "bm25": lambda: BM25Recommender(K=knn["K"], K1=knn["K1"], B=knn["B"], num_threads=t),
        "cosine": lambda: CosineRecommender(K=knn["K"], num_threads=t),
        "als": lambda: AlternatingLeastSquares(
            factors=als["factors"],
            iterations=als["iterations"],
            regularization=als["regularization"],
            alpha=als["alpha"],
            num_threads=t,
            random_state=req["seed"],
        ),
    }


def similar(model, items, n):
    """Top-n similar items of each query item, the item itself dropped."""
    if not items:
        return []
    ids, _ = model.similar_items(np.asarray(items, dtype=np.int32), N=n + 1)
    return [[int(j) for j in row if j != q and j >= 0][:n] for q, row in zip(items, ids)]


def fit(make, X, key, seconds):
    """Fits a fresh model on X, recording how long it took under `key`."""
    t0 = time.perf_counter()
    m = make()
    m.fit(X, show_progress=False)
    seconds[key] = round(time.perf_counter() - t0, 3)
    return m


def main():
    with open(sys.argv[1]) as f:
        req = json.load(f)
    n_items, n = req["items"], req["n"]
    baskets = matrix(req["baskets"], len(req["baskets"]["indptr"]) - 1, n_items)
    users = matrix(req["users"], len(req["users"]["indptr"]) - 1, n_items)
    out = {"implicit": implicit.__version__, "similar": {}, "userSimilar": {}, "recommend": {}, "fitSeconds": {}}
    with threadpool_limits(req["threads"], "blas"):
        for name, make in models(req, "baskets").items():
            m = fit(make, baskets, "baskets:" + name, out["fitSeconds"])
            out["similar"][name] = similar(m, req["similar"], n)

        for name, make in models(req, "users").items():
            m = fit(make, users, "users:" + name, out["fitSeconds"])
            out["userSimilar"][name] = similar(m, req["userSimilar"], n)
            recs = []
            if req["recommend"]:
                uid = np.asarray(req["recommend"], dtype=np.int32)
                ids, _ = m.recommend(uid, users[uid], N=n, filter_already_liked_items=False)
                recs = [[int(j) for j in row if j >= 0] for row in ids]
            out["recommend"][name] = recs
    with open(sys.argv[2], "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
