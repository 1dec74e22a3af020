package io.sparkprop.spark.report;

import io.sparkprop.core.EvaluationSums;
import io.sparkprop.core.Loss;
import java.util.Locale;

/**
 * Metrics of a model on a data set. Classification: accuracy, and per class (softmax) or per
 * label (sigmoid) precision, recall, F1 and support, with the confusion counts; regression:
 * RMSE, MAE and R². Fields that do not apply are NaN or empty. All counts are weighted.
 *
 * @param perClass  {@code {precision, recall, f1, support}} per class or label
 * @param confusion softmax: K x K {@code [true][predicted]}; sigmoid: per label
 *                  {@code {tn, fp, fn, tp}}
 */
public record EvaluationMetrics(long rows, double loss, double accuracy, double rmse, double mae, double r2,
                                double[][] perClass, double[] confusion, boolean multiLabel) {

    /** The metrics of evaluation sums for a network with {@code loss}. */
    public static EvaluationMetrics of(EvaluationSums sums, Loss loss) {
        boolean classification = loss != Loss.MSE;
        return new EvaluationMetrics(sums.rows(), sums.meanLoss(), classification ? sums.accuracy() : Double.NaN,
                classification ? Double.NaN : sums.rmse(), classification ? Double.NaN : sums.mae(), sums.r2(),
                sums.perClass(), sums.confusion(), loss == Loss.BINARY_CROSS_ENTROPY);
    }

    /**
     * One JSON object; fields that do not apply to the task are left out. A value that is not
     * finite (the loss of a diverged model) is {@code null}, as JSON has no NaN or infinity; weighted
     * counts (support, confusion) that are whole are written as integers at any size.
     */
    public String toJson() {
        StringBuilder sb = new StringBuilder("{\"rows\":").append(rows).append(",\"loss\":").append(json(loss));
        if (!Double.isNaN(accuracy)) {
            sb.append(",\"accuracy\":").append(json(accuracy));
        }
        if (!Double.isNaN(rmse)) {
            sb.append(",\"rmse\":").append(json(rmse)).append(",\"mae\":").append(json(mae));
            sb.append(",\"r2\":").append(json(r2));
        }
        if (perClass.length > 0) {
            sb.append(multiLabel ? ",\"per_label\":[" : ",\"per_class\":[");
            for (int c = 0; c < perClass.length; c++) {
                double[] m = perClass[c];
                sb.append(c == 0 ? "" : ",").append(String.format(Locale.ROOT,
                        "{\"%s\":%d,\"precision\":%s,\"recall\":%s,\"f1\":%s,\"support\":%s}",
                        multiLabel ? "label" : "class", c, json(m[0]), json(m[1]), json(m[2]), count(m[3])));
            }
            sb.append("],\"confusion\":[");
            int width = multiLabel ? 2 : perClass.length;
            int matrices = multiLabel ? perClass.length : 1;
            for (int k = 0; k < matrices; k++) {
                sb.append(k == 0 ? "" : ",").append(multiLabel ? "[" : "");
                for (int t = 0; t < width; t++) {
                    sb.append(t == 0 ? "[" : ",[");
                    for (int p = 0; p < width; p++) {
                        sb.append(p == 0 ? "" : ",").append(count(confusion[(k * width + t) * width + p]));
                    }
                    sb.append(']');
                }
                sb.append(multiLabel ? "]" : "");
            }
            sb.append(']');
        }
        return sb.append('}').toString();
    }

    /** A JSON number, or {@code null} when not finite. */
    private static String json(double value) {
        return Double.isFinite(value) ? Double.toString(value) : "null";
    }

    /** A weighted count: an integer when whole (not {@code 1.2E7}), else as {@link #json}. */
    private static String count(double value) {
        return value == Math.rint(value) && Math.abs(value) < 0x1p53 ? Long.toString((long) value) : json(value);
    }

    /** The human-readable report {@code evaluate} prints. */
    public String toText() {
        StringBuilder sb = new StringBuilder();
        if (Double.isNaN(accuracy)) {
            sb.append(String.format(Locale.ROOT, "%d rows: RMSE %.4f, MAE %.4f, R² %.4f, loss %.4f%n", rows, rmse,
                    mae, r2, loss));
            return sb.toString();
        }
        sb.append(String.format(Locale.ROOT, "%d rows: accuracy %.2f%%, loss %.4f%n%n", rows, 100 * accuracy, loss));
        sb.append(String.format(Locale.ROOT, "%-7s %10s %10s %10s %10s%n", multiLabel ? "label" : "class",
                "precision", "recall", "f1", "support"));
        for (int c = 0; c < perClass.length; c++) {
            double[] m = perClass[c];
            sb.append(String.format(Locale.ROOT, "%-7d %10.4f %10.4f %10.4f %10.0f%n", c, m[0], m[1], m[2], m[3]));
        }
        if (!multiLabel && perClass.length > 0) {
            int k = perClass.length;
            sb.append(String.format(Locale.ROOT, "%nconfusion matrix (rows: true class, columns: predicted)%n"));
            sb.append(String.format(Locale.ROOT, "%7s", ""));
            for (int p = 0; p < k; p++) {
                sb.append(String.format(Locale.ROOT, " %7d", p));
            }
            sb.append(System.lineSeparator());
            for (int t = 0; t < k; t++) {
                sb.append(String.format(Locale.ROOT, "%7d", t));
                for (int p = 0; p < k; p++) {
                    sb.append(String.format(Locale.ROOT, " %7.0f", confusion[t * k + p]));
                }
                sb.append(System.lineSeparator());
            }
        }
        return sb.toString();
    }
}
