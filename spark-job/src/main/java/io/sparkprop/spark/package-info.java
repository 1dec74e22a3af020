/**
 * The job's entry points: {@link io.sparkprop.spark.Main} (the command line under
 * {@code spark-submit} or {@code scripts/sparkprop}) and the Kryo registrator. The top layer:
 * nothing else in the job imports this package.
 */
package io.sparkprop.spark;
