/**
 * The distributed step: the driver's loop ({@link io.sparkprop.spark.train.DistributedTrainer}),
 * the executors' synchronous-step and local-SGD-round tasks, the partition-ordered aggregation
 * tree, evaluation over blocks, early stopping, fault policies, what each exchange costs (its
 * phase times, and bytes, stages and tasks from a {@code SparkListener}), and
 * {@link io.sparkprop.spark.train.TrainingRun} (restarts after failed Spark jobs).
 *
 * <p>Not here: reading data, checkpoint files, run directories or reports (the loop sees
 * checkpoints only through {@code DistributedTrainer.Checkpoints}).
 */
package io.sparkprop.spark.train;
