/**
 * The Spark driver program, a generic runner of a `tandem-spark-job/1` document (spark-job.ts): it registers
 * the inputs, runs each statement with spark.sql, writes each step that later steps read as Parquet under the
 * document's workDir (an output straight into outputDir) and reads it back as the step's table, and deletes a
 * step's files as soon as no later step reads them. Kept as a string so the one source serves both the local
 * run (written next to the job) and the cluster (the operator's ConfigMap), and the image needs no Python
 * file of ours. One JSON line per step goes to stdout (the runner's progress).
 *
 * Why Parquet rather than a local checkpoint (as before): a checkpoint kept every step's rows as JVM objects in
 * the block managers, and unpersisting the DataFrame never freed them (the blocks belong to the checkpoint's
 * RDD, which the temp view kept alive), so the heap filled, blocks went to disk and the collector ran all the
 * time; and a checkpoint's statistics are the planner's estimates, so every join was planned as a sort-merge
 * join. Parquet files cut the lineage the same way, cost little to write, live outside the heap, are deleted
 * for real, and give the planner their true size (small tables are broadcast from the start).
 */
export const SPARK_DRIVER_FILE = 'tandem_train.py';

export const SPARK_DRIVER_PY = `"""Tandem's training job on Spark: runs the SQL statements of a tandem-spark-job/1 document."""
import json
import os
import sys
import time

from pyspark.sql import SparkSession


def main(path):
    with open(path, encoding="utf-8") as f:
        job = json.load(f)
    if job.get("format") != "tandem-spark-job/1":
        raise SystemExit("unsupported job format %r in %s" % (job.get("format"), path))
    spark = SparkSession.builder.appName("tandem-train").getOrCreate()
    jvm = spark.sparkContext._jvm
    hadoop = spark.sparkContext._jsc.hadoopConfiguration()

    def delete(location):
        p = jvm.org.apache.hadoop.fs.Path(location)
        p.getFileSystem(hadoop).delete(p, True)

    for name, source in job["inputs"].items():
        spark.read.parquet(source).createOrReplaceTempView(name)
    outputs = set(job["outputs"])
    written = {}
    for step in job["steps"]:
        started = time.time()
        frame = spark.sql(step["sql"])
        rows = None
        if not step["view"]:
            # Written once and read back: later plans start from these files, not from every step before.
            where = job["outputDir"] if step["name"] in outputs else job["workDir"]
            location = "%s/%s" % (where, step["name"])
            frame.write.mode("overwrite").parquet(location)
            frame = spark.read.parquet(location)
            rows = frame.count()
            written[step["name"]] = location
        frame.createOrReplaceTempView(step["name"])
        for name in step["release"]:
            spark.catalog.dropTempView(name)
            delete(written.pop(name))
        print(json.dumps({"step": step["name"], "rows": rows, "seconds": round(time.time() - started, 3)}), flush=True)
    delete(job["workDir"])
    print(json.dumps({"step": "done"}), flush=True)
    spark.stop()


if __name__ == "__main__":
    # On a cluster the path names the run through an environment variable ($SPARK_APP_NAME).
    main(os.path.expandvars(sys.argv[1]))
`;
