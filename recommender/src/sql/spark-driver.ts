/**
 * The Spark driver program, a generic runner of a `tandem-spark-job/1` document (spark-job.ts): it registers
 * the inputs, runs each statement with spark.sql, checkpoints what later steps read (executors' memory, then
 * disk), releases what they no longer need, and writes the outputs as Parquet. Kept as a string so the one source serves both the local
 * run (written next to the job) and the cluster (the operator's ConfigMap), and the image needs no Python
 * file of ours. One JSON line per step goes to stdout (the runner's progress).
 */
export const SPARK_DRIVER_FILE = 'tandem_train.py';

export const SPARK_DRIVER_PY = `"""Tandem's training job on Spark: runs the SQL statements of a tandem-spark-job/1 document."""
import json
import os
import sys
import time

from pyspark import StorageLevel
from pyspark.sql import SparkSession


def main(path):
    with open(path, encoding="utf-8") as f:
        job = json.load(f)
    if job.get("format") != "tandem-spark-job/1":
        raise SystemExit("unsupported job format %r in %s" % (job.get("format"), path))
    spark = SparkSession.builder.appName("tandem-train").getOrCreate()
    for name, source in job["inputs"].items():
        spark.read.parquet(source).createOrReplaceTempView(name)
    kept = {}
    for step in job["steps"]:
        started = time.time()
        frame = spark.sql(step["sql"])
        rows = None
        if not step["view"]:
            # A local checkpoint computes the step once and cuts its lineage: later plans read the blocks
            # instead of growing with every step before (their plan strings alone exhaust the driver).
            frame = frame.localCheckpoint(eager=True, storageLevel=StorageLevel.MEMORY_AND_DISK)
            rows = frame.count()
            kept[step["name"]] = frame
        frame.createOrReplaceTempView(step["name"])
        for name in step["release"]:
            kept.pop(name).unpersist()
        print(json.dumps({"step": step["name"], "rows": rows, "seconds": round(time.time() - started, 3)}), flush=True)
    for name in job["outputs"]:
        spark.table(name).write.mode("overwrite").parquet("%s/%s" % (job["outputDir"], name))
    print(json.dumps({"step": "done"}), flush=True)
    spark.stop()


if __name__ == "__main__":
    # On a cluster the path names the run through an environment variable ($SPARK_APP_NAME).
    main(os.path.expandvars(sys.argv[1]))
`;
