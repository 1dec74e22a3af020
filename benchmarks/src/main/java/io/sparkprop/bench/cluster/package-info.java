/**
 * The cluster test's check of the Spark ML estimators ({@code scripts/cluster-test}): fit and
 * transform on a real standalone cluster, with checksums compared against local mode.
 *
 * <p>A test harness: submitted beside the job jar with {@code --jars}, never part of it.
 */
package io.sparkprop.bench.cluster;
