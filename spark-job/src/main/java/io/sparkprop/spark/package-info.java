/**
 * The job's entry points: {@link io.sparkprop.spark.Main} (the command line under
 * {@code spark-submit}: returns, or throws with the exit code), {@link io.sparkprop.spark.LocalLauncher}
 * ({@code scripts/sparkprop}'s: the same run ended with {@code System.exit(code)}), the command
 * line's grammar ({@code Arguments}, picocli) and the Kryo registrator. The top layer: nothing else
 * in the job imports this package.
 */
package io.sparkprop.spark;
