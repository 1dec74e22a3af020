package io.sparkprop.spark.train;

import java.util.Locale;

/**
 * One epoch's figures, as written to {@code metrics.jsonl} and printed on the console. Validation
 * fields are {@code NaN} when there is no validation set; accuracy is {@code NaN} for regression
 * and RMSE/MAE {@code NaN} for classification.
 *
 * @param trainLoss the weighted mean of the epoch's step objectives (L2 included), each measured on
 *                  its batch before that step's update
 * @param stepTimes the medians of this epoch's synchronous steps (or local-SGD rounds): where the
 *                  time went ({@link StepTimes})
 */
public record EpochMetrics(int epoch, long step, double trainLoss, double valLoss, double valAccuracy, double valRmse,
                           double valMae, double examplesPerSec, double epochSeconds, double elapsedSeconds,
                           StepTimes.Summary stepTimes) {

    /** One JSON object (one line of {@code metrics.jsonl}); {@code NaN} fields are left out. */
    public String toJson() {
        StringBuilder sb = new StringBuilder("{");
        sb.append("\"epoch\":").append(epoch).append(",\"step\":").append(step);
        field(sb, "train_loss", trainLoss);
        field(sb, "val_loss", valLoss);
        field(sb, "val_accuracy", valAccuracy);
        field(sb, "val_rmse", valRmse);
        field(sb, "val_mae", valMae);
        field(sb, "examples_per_sec", examplesPerSec);
        field(sb, "epoch_seconds", epochSeconds);
        field(sb, "elapsed_seconds", elapsedSeconds);
        if (stepTimes != null && stepTimes.steps() > 0) {
            sb.append(',').append(stepTimes.toJsonFields());
        }
        return sb.append('}').toString();
    }

    /**
     * The metrics of one {@code metrics.jsonl} line, as {@link #toJson} wrote it; absent fields are
     * NaN (and the step times absent when the line has none). Throws naming the line when it is not
     * such a line.
     */
    public static EpochMetrics fromJson(String line) {
        java.util.regex.Matcher epoch = java.util.regex.Pattern.compile("^\\{\"epoch\":(\\d+),\"step\":(\\d+)")
                .matcher(line);
        if (!epoch.find()) {
            throw new IllegalArgumentException("Not a metrics.jsonl line (expected {\"epoch\":N,\"step\":M,...}): "
                    + line);
        }
        StepTimes.Summary times = line.contains("\"step_ms\":") ? new StepTimes.Summary((int) number(line, "sync_steps"),
                number(line, "broadcast_ms"), number(line, "compute_ms"), number(line, "exchange_ms"),
                number(line, "update_ms"), number(line, "step_ms")) : null;
        return new EpochMetrics(Integer.parseInt(epoch.group(1)), Long.parseLong(epoch.group(2)),
                number(line, "train_loss"), number(line, "val_loss"), number(line, "val_accuracy"),
                number(line, "val_rmse"), number(line, "val_mae"), number(line, "examples_per_sec"),
                number(line, "epoch_seconds"), number(line, "elapsed_seconds"), times);
    }

    private static double number(String line, String name) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"" + name + "\":(null|[-+0-9.eE]+|NaN|-?Infinity)")
                .matcher(line);
        if (!m.find()) {
            return Double.NaN;
        }
        return m.group(1).equals("null") ? Double.POSITIVE_INFINITY : Double.parseDouble(m.group(1));
    }

    private static void field(StringBuilder sb, String name, double value) {
        if (!Double.isNaN(value)) {
            sb.append(",\"").append(name).append("\":").append(Double.isInfinite(value) ? "null" : Double.toString(value));
        }
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
