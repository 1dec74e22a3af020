package io.sparkprop.spark.session;

import io.sparkprop.core.Warmup;
import java.util.Map;
import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.PluginContext;
import org.apache.spark.api.plugin.SparkPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Spark plugin ({@code spark.plugins}, Spark's own hook for code that runs when an executor
 * starts) that warms the training step's kernels up on each executor while the driver is still
 * starting or loading data: {@link Warmup#run} on a daemon thread, so the JVM's first training
 * round does not run its kernels interpreted and load the native BLAS (a cold JVM's first MNIST
 * round went from 510 to 346 ms, docs/benchmarks.md §11). In local mode the executor is the
 * driver's JVM, so the driver's own steps are warm too.
 *
 * <p>The command line's session sets it ({@link SparkSettings#TUNED}) unless {@code spark.plugins}
 * is set already ({@code --conf spark.plugins=} turns it off); a user's session adds it with
 * {@code --conf spark.plugins=io.sparkprop.spark.session.WarmupPlugin} (the job jar must be on the
 * executors' class path when they start, as {@code spark-submit}'s application jar is). It runs
 * {@link Warmup#DEFAULT_STEPS} steps and changes no result: the warm-up has its own network and
 * arrays, and compiled code computes the same bits as interpreted code.
 */
public final class WarmupPlugin implements SparkPlugin {

    private static final Logger LOG = LoggerFactory.getLogger(WarmupPlugin.class);

    @Override
    public DriverPlugin driverPlugin() {
        return null;
    }

    @Override
    public ExecutorPlugin executorPlugin() {
        return new ExecutorPlugin() {
            @Override
            public void init(PluginContext ctx, Map<String, String> extraConf) {
                int steps = Warmup.DEFAULT_STEPS;
                LOG.info("Warming the training step's kernels up on executor {} ({} steps on a thread of their own)",
                        ctx.executorID(), steps);
                Thread thread = new Thread(() -> {
                    try {
                        long nanos = Warmup.run(steps);
                        LOG.info("Warmed the training step's kernels up on executor {}: {} steps in {} ms",
                                ctx.executorID(), steps, nanos / 1_000_000);
                    } catch (RuntimeException | LinkageError e) {
                        // Only speed is at stake: training runs the same code cold.
                        LOG.warn("The warm-up of the training step's kernels failed on executor {}; training runs"
                                + " them cold", ctx.executorID(), e);
                    }
                }, "sparkprop-warmup");
                thread.setDaemon(true);
                thread.start();
            }
        };
    }
}
