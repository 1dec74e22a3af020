/**
 * The cost model of a training round at scale (issue 16): the measurements {@code scripts/bench-scale}
 * writes ({@link io.sparkprop.bench.scale.MeasurementFile}), how many stages, tasks and bytes a round
 * does at P partitions ({@link io.sparkprop.bench.scale.RoundStructure}), a non-negative linear model
 * of its time fitted to the measurements ({@link io.sparkprop.bench.scale.CostModel}), its check on a
 * held-out configuration, and the modeled throughput and scaling efficiency at 16, 64 and 256
 * executors ({@link io.sparkprop.bench.scale.ScalingReport}). docs/scaling.md describes the method.
 *
 * <p>No Spark here: it reads a file and does arithmetic. Not in the job jar users submit.
 */
package io.sparkprop.bench.scale;
