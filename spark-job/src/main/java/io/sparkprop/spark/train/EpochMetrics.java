package io.sparkprop.spark.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One epoch's figures: the in-memory form of the training history everywhere (the trainer, the
 * checkpoints' state, the run report, the fitted models), printed on the console and written as
 * JSON only where a file is written ({@link #toJson}, {@link #fromJson}). Validation fields are
 * {@code NaN} when there is no validation set; accuracy is {@code NaN} for regression and RMSE/MAE
 * {@code NaN} for classification.
 *
 * @param trainLoss the weighted mean of the epoch's step objectives (L2 included), each measured on
 *                  its batch before that step's update
 * @param stepTimes the medians of this epoch's synchronous steps (or local-SGD rounds): where the
 *                  time went ({@link StepTimes}); {@code null} when none were recorded
 */
public record EpochMetrics(int epoch, long step, double trainLoss, double valLoss, double valAccuracy, double valRmse,
                           double valMae, double examplesPerSec, double epochSeconds, double elapsedSeconds,
                           StepTimes.Summary stepTimes) {

    /**
     * One JSON object without a line break: a line of {@code metrics.jsonl} or {@code history.jsonl},
     * or the metrics of an epoch in a checkpoint. {@code NaN} fields are left out, infinite ones
     * written as {@code null} ({@link MetricsJson} has the whole form).
     */
    public String toJson() {
        return MetricsJson.write(this);
    }

    /**
     * The metrics of one JSON object as {@link #toJson} writes it, in any key order and spacing,
     * unknown keys ignored: absent fields are {@code NaN}, {@code null} is {@code +Infinity}, and
     * the step times are {@code null} when there are none. Throws {@link IllegalArgumentException}
     * saying what is wrong and what was expected.
     */
    public static EpochMetrics fromJson(String json) {
        return MetricsJson.read(json);
    }

    /** The text of a {@code metrics.jsonl} or {@code history.jsonl} file: one {@link #toJson} line per epoch. */
    public static String toJsonLines(List<EpochMetrics> history) {
        StringBuilder text = new StringBuilder();
        for (EpochMetrics m : history) {
            text.append(m.toJson()).append('\n');
        }
        return text.toString();
    }

    /**
     * The epochs of a {@code metrics.jsonl} or {@code history.jsonl} file's {@code text}, one JSON
     * object per line ({@link #fromJson}), blank lines skipped. A malformed line throws
     * {@link IllegalArgumentException} naming {@code source} (the file) and the line's number.
     */
    public static List<EpochMetrics> fromJsonLines(String text, String source) {
        List<EpochMetrics> history = new ArrayList<>();
        List<String> lines = text.lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            try {
                history.add(fromJson(lines.get(i)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(source + " line " + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        return history;
    }

    /** The console line, for example {@code epoch 3/12 · step 1407 · train_loss 0.0712 · val_acc 97.81% ...}. */
    public String toConsole(int epochs, double etaSeconds) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "epoch %d/%d · step %d · train_loss %.4f",
                epoch + 1, epochs, step, trainLoss));
        if (!Double.isNaN(valLoss)) {
            sb.append(String.format(Locale.ROOT, " · val_loss %.4f", valLoss));
        }
        if (!Double.isNaN(valAccuracy)) {
            sb.append(String.format(Locale.ROOT, " · val_acc %.2f%%", 100 * valAccuracy));
        }
        if (!Double.isNaN(valRmse)) {
            sb.append(String.format(Locale.ROOT, " · val_rmse %.4f · val_mae %.4f", valRmse, valMae));
        }
        sb.append(String.format(Locale.ROOT, " · %.0f ex/s · %.1fs · ETA %s", examplesPerSec, epochSeconds,
                formatDuration(etaSeconds)));
        return sb.toString();
    }

    static String formatDuration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60)
                : String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
}
