package io.sparkprop.spark.report;

import io.sparkprop.core.DataBlock;
import io.sparkprop.core.EvaluationSums;
import io.sparkprop.core.Loss;
import io.sparkprop.spark.config.JobConfig;
import io.sparkprop.spark.config.TrainingConfig;
import io.sparkprop.spark.report.RunDirectory;
import io.sparkprop.spark.train.DistributedTrainer;
import io.sparkprop.spark.train.EpochMetrics;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A finished training's {@link RunReport}, for the command line and the estimators alike. */
public final class TrainingReport {

    private static final Logger LOG = LoggerFactory.getLogger(TrainingReport.class);

    private TrainingReport() {
    }

    /**
     * The run's report ({@link RunReport}): curves, the confusion heatmap of the final model on the
     * validation data, and report.html. A report that cannot be drawn (a JVM without fonts, say)
     * is logged and skipped: the model is already written.
     */
    public static void write(JavaSparkContext sc, RunDirectory run, TrainingConfig settings,
                             JavaRDD<DataBlock> validation, double[] params, DistributedTrainer.Result result,
                             List<EpochMetrics> history) {
        JobConfig config = settings.text();
        try {
            Map<String, String> finals = new LinkedHashMap<>();
            double[][] confusion = null;
            if (validation != null) {
                EvaluationSums sums = DistributedTrainer.evaluate(sc, settings.spec(), validation, params,
                        "report: final validation metrics");
                finals.put("validation rows", Long.toString(sums.rows()));
                finals.put("validation loss", String.format(Locale.ROOT, "%.4f", sums.meanLoss()));
                if (settings.spec().loss() == Loss.MSE) {
                    finals.put("validation RMSE", String.format(Locale.ROOT, "%.4f", sums.rmse()));
                    finals.put("validation MAE", String.format(Locale.ROOT, "%.4f", sums.mae()));
                    finals.put("validation R²", String.format(Locale.ROOT, "%.4f", sums.r2()));
                } else {
                    finals.put("validation accuracy", String.format(Locale.ROOT, "%.2f%%", 100 * sums.accuracy()));
                }
                double[] flat = sums.confusion();
                int k = settings.spec().outputSize();
                if (settings.spec().loss() == Loss.SOFTMAX_CROSS_ENTROPY && flat.length == k * k) {
                    confusion = new double[k][];
                    for (int t = 0; t < k; t++) {
                        confusion[t] = java.util.Arrays.copyOfRange(flat, t * k, (t + 1) * k);
                    }
                }
            }
            finals.put("epochs", Integer.toString(history.size()) + (result.stoppedEarly() ? " (stopped early)" : ""));
            if (result.bestEpoch() >= 0) {
                finals.put("model weights", "epoch " + (result.bestEpoch() + 1) + ", the best by "
                        + settings.stopping().metric());
            }
            finals.put("training seconds", String.format(Locale.ROOT, "%.1f",
                    history.stream().mapToDouble(EpochMetrics::epochSeconds).sum()));
            finals.put("parameters", Integer.toString(settings.spec().paramCount()));
            finals.put("exchange", settings.exchange().localSteps() == 1 ? "synchronous SGD"
                    : "local SGD, " + settings.exchange().localSteps() + " steps per exchange");
            finals.put("arithmetic", settings.optimization().precision().name().toLowerCase(Locale.ROOT) + " products"
                    + (settings.data().sparse() ? ", sparse input blocks" : ""));
            if (settings.model().dropout().isActive()) {
                finals.put("dropout", java.util.Arrays.toString(settings.model().dropout().rates())
                        + " on the hidden layers, while training only");
            }
            List<String> written = RunReport.write(run, new RunReport.Content(settings.spec().toString(),
                    config.render(), history, finals, confusion));
            LOG.info("Report written to {} ({})", run.file(RunReport.HTML), String.join(", ", written));
        } catch (Exception | LinkageError e) {
            LOG.warn("Could not write the run report into {}: {}", run.uri(), e.toString());
        }
    }

}
