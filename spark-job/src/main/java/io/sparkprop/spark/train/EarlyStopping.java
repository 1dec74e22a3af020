package io.sparkprop.spark.train;

import io.sparkprop.spark.config.TrainingConfig;
import java.util.List;
import java.util.Locale;

/**
 * Early stopping on a validation metric (or on the training loss, a convergence test): an epoch improves on the best so far when its value is
 * better by more than {@code minDelta} (lower for losses and errors, higher for accuracy); after
 * {@code patience} epochs in a row without improvement, training stops, and the best epoch's
 * weights become the result.
 *
 * <p>The tracking state (best value, best epoch, epochs without improvement) is a function of the
 * epochs' metrics, so it is rebuilt from a checkpoint's history by {@link #replay}; only the best
 * weights themselves are kept in the checkpoint.
 */
public final class EarlyStopping {

    /** The metrics early stopping can watch, by their {@code metrics.jsonl} names. */
    public enum Metric {
        VAL_LOSS("val_loss", false), VAL_ACCURACY("val_accuracy", true), VAL_RMSE("val_rmse", false),
        VAL_MAE("val_mae", false), TRAIN_LOSS("train_loss", false);

        private final String key;
        private final boolean higherIsBetter;

        Metric(String key, boolean higherIsBetter) {
            this.key = key;
            this.higherIsBetter = higherIsBetter;
        }

        public String key() {
            return key;
        }

        /** The metric by its key; throws naming the valid keys. */
        public static Metric of(String key) {
            for (Metric m : values()) {
                if (m.key.equals(key)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("Unknown early-stopping metric '" + key
                    + "'; expected val_loss, val_accuracy, val_rmse, val_mae or train_loss");
        }

        double of(EpochMetrics m) {
            return switch (this) {
                case VAL_LOSS -> m.valLoss();
                case VAL_ACCURACY -> m.valAccuracy();
                case VAL_RMSE -> m.valRmse();
                case VAL_MAE -> m.valMae();
                case TRAIN_LOSS -> m.trainLoss();
            };
        }
    }

    /** The tracker {@code rule} asks for, or {@code null} when it names no metric. */
    public static EarlyStopping of(TrainingConfig.Stopping rule) {
        return rule.metric() == null ? null : new EarlyStopping(Metric.of(rule.metric()), rule.patience(),
                rule.minDelta());
    }

    private final Metric metric;
    private final int patience;
    private final double minDelta;
    private int bestEpoch = -1;
    private double best = Double.NaN;
    private int epochsWithoutImprovement;

    public EarlyStopping(Metric metric, int patience, double minDelta) {
        if (patience < 1) {
            throw new IllegalArgumentException("Early-stopping patience must be at least 1 but got " + patience);
        }
        if (!(minDelta >= 0)) {
            throw new IllegalArgumentException("Early-stopping min-delta must be >= 0 but got " + minDelta);
        }
        this.metric = metric;
        this.patience = patience;
        this.minDelta = minDelta;
    }

    /** Forgets every epoch seen. */
    void reset() {
        bestEpoch = -1;
        best = Double.NaN;
        epochsWithoutImprovement = 0;
    }

    /**
     * Takes in one epoch's value of the metric; returns true when the epoch is the new best (the
     * first epoch always is). A NaN value never improves.
     */
    boolean observe(int epoch, double value) {
        boolean improved = !Double.isNaN(value) && (bestEpoch < 0
                || (metric.higherIsBetter ? value > best + minDelta : value < best - minDelta));
        if (improved) {
            best = value;
            bestEpoch = epoch;
            epochsWithoutImprovement = 0;
        } else {
            epochsWithoutImprovement++;
        }
        return improved;
    }

    boolean observe(EpochMetrics metrics) {
        return observe(metrics.epoch(), metric.of(metrics));
    }

    /** Rebuilds the tracking from the metrics of the completed epochs, in order. */
    void replay(List<EpochMetrics> history) {
        reset();
        for (EpochMetrics metrics : history) {
            observe(metrics);
        }
    }

    /** True when the last {@code patience} epochs brought no improvement. */
    boolean shouldStop() {
        return epochsWithoutImprovement >= patience;
    }

    /** The best epoch so far (0-based), or -1. */
    public int bestEpoch() {
        return bestEpoch;
    }

    public double best() {
        return best;
    }

    public Metric metric() {
        return metric;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "early stopping on %s (patience %d, min-delta %s)", metric.key, patience,
                minDelta);
    }
}
