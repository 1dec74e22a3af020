/**
 * The backprop core: everything one process needs to compute a mini-batch's loss and gradient and
 * to update weights, with no Spark, Hadoop or Scala. A topology is an immutable spec
 * ({@link io.sparkprop.core.NetworkSpec}, {@link io.sparkprop.core.LayerSpec}) over one flat
 * parameter array; {@link io.sparkprop.core.Network} computes forward and backward passes into a
 * caller-owned {@link io.sparkprop.core.Workspace}; {@link io.sparkprop.core.GradientAccumulator}
 * is what crosses from workers to the driver; {@link io.sparkprop.core.EpochPlan} (with
 * {@link io.sparkprop.core.WindowPlan}, its bounded shuffle for chunked data) and
 * {@link io.sparkprop.core.SplitMix64} make every batch a function of the seed and positions.
 *
 * <p>Not here: data loading, files, distribution, configuration (the Spark job's packages).
 */
package io.sparkprop.core;
