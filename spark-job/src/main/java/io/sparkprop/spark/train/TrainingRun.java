package io.sparkprop.spark.train;

import java.util.List;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.apache.spark.SparkException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A whole training run as the command line and the estimators do it: {@link DistributedTrainer#train}
 * from a start state, and after a failed Spark job (an executor lost more often than Spark's own
 * task retries allow, say) up to {@code train.max-job-retries} restarts from the newest checkpoint,
 * or from the start state when there is none.
 * Keeps the run's history, one {@link EpochMetrics} per epoch: an epoch run again after a restart
 * or rollback replaces its entry.
 */
public final class TrainingRun {

    private static final Logger LOG = LoggerFactory.getLogger(TrainingRun.class);

    /**
     * What the run ended with: the trainer's result and the whole run's history, epoch by epoch
     * (also the epochs before a resumed start, unlike {@code result.history()}); immutable.
     */
    public record Outcome(DistributedTrainer.Result result, List<EpochMetrics> history) {

        public Outcome {
            history = List.copyOf(history);
        }
    }

    /** Sees the run's progress. */
    public interface Listener {
        /** An epoch ended with {@code metrics}; {@code history} is the run's history up to it. */
        void epoch(EpochMetrics metrics, List<EpochMetrics> history);

        /** The run starts again from a checkpoint whose history is {@code history}. */
        default void restarted(List<EpochMetrics> history) {
        }
    }

    private TrainingRun() {
    }

    /**
     * Trains from {@code start} to the end, restarting at most {@code maxJobRetries} times after a
     * failed Spark job; any other failure, or one too many, is thrown. The trainer takes {@code
     * start}'s arrays ({@link DistributedTrainer#train(TrainingState, Supplier,
     * DistributedTrainer.Checkpoints, java.util.function.Consumer)}).
     *
     * @param origin gives the run's start again, in arrays of its own, for a restart or a rollback
     *               before any checkpoint was written
     */
    public static Outcome run(DistributedTrainer trainer, TrainingState start, Supplier<TrainingState> origin,
                              DistributedTrainer.Checkpoints checkpoints, int maxJobRetries, Listener listener) {
        TreeMap<Integer, EpochMetrics> history = new TreeMap<>();
        for (int attempt = 0; ; attempt++) {
            history.clear();
            for (EpochMetrics metrics : start.history()) {
                history.put(metrics.epoch(), metrics);
            }
            try {
                DistributedTrainer.Result result = trainer.train(start, origin, checkpoints, metrics -> {
                    history.tailMap(metrics.epoch(), true).clear();
                    history.put(metrics.epoch(), metrics);
                    listener.epoch(metrics, List.copyOf(history.values()));
                });
                return new Outcome(result, List.copyOf(history.values()));
            } catch (Exception e) {
                // Scala throws SparkException undeclared, so it arrives here as a checked Exception.
                if (!isSparkException(e) || attempt >= maxJobRetries) {
                    if (e instanceof RuntimeException runtime) {
                        throw runtime;
                    }
                    throw new IllegalStateException("Training failed: " + e.getMessage(), e);
                }
                // Without a checkpoint, from where the run started (not necessarily the seeded weights).
                start = checkpoints.latest().orElseGet(origin);
                LOG.warn("A Spark job failed ({}); retry {} of train.max-job-retries={} from global step {}",
                        e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse(""),
                        attempt + 1, maxJobRetries, start.globalStep());
                listener.restarted(start.history());
            }
        }
    }

    /** SparkException is checked in Scala's eyes, so Java sees it only as a Throwable. */
    private static boolean isSparkException(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SparkException) {
                return true;
            }
        }
        return false;
    }
}
