package io.sparkprop.spark.report;

import io.sparkprop.spark.report.RunDirectory;
import io.sparkprop.spark.train.EpochMetrics;
import io.sparkprop.spark.train.ExchangeCosts;
import io.sparkprop.spark.train.StepTimes;
import java.awt.Color;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * The pictures and the page of a finished run, written into its run directory:
 * <ul>
 *   <li>{@code loss.png}: training and validation loss per epoch;</li>
 *   <li>{@code metric.png}: the validation accuracy (classification) or RMSE and MAE
 *       (regression) per epoch, when there is validation data;</li>
 *   <li>{@code confusion.png}: for softmax classification with validation data, the final
 *       model's confusion matrix on it as a heatmap (rows: true class);</li>
 *   <li>{@code report.html}: one self-contained page (the pictures inline) with the effective
 *       config, the final metrics, the curves, the per-epoch table and the median time per step
 *       (or local-SGD round) split into compute, exchange, broadcast and driver update, and, when
 *       the history has them, the median cost of an exchange per epoch ({@link ExchangeCosts}:
 *       bytes into and out of the driver, shuffle bytes, stages, tasks, driver CPU and the split
 *       of the tasks' time).</li>
 * </ul>
 * Charts are drawn with XChart (headless AWT); nothing here needs a display.
 */
public final class RunReport {

    public static final String LOSS_PNG = "loss.png";
    public static final String METRIC_PNG = "metric.png";
    public static final String CONFUSION_PNG = "confusion.png";
    public static final String HTML = "report.html";

    /** Width and height of the curve charts, in pixels. */
    public static final int CHART_WIDTH = 800;
    public static final int CHART_HEIGHT = 450;
    /** Width and height of the confusion heatmap, in pixels. */
    public static final int HEATMAP_SIZE = 640;

    /**
     * What the report shows.
     *
     * @param title     the page's heading, e.g. the network
     * @param config    the effective configuration, as written to config.conf
     * @param history   every epoch's metrics, in order
     * @param finals    final metrics as label/value pairs, in display order
     * @param confusion the final model's confusion matrix on the validation data,
     *                  {@code [true][predicted]}, or {@code null}
     */
    public record Content(String title, String config, List<EpochMetrics> history, Map<String, String> finals,
                          double[][] confusion) {
    }

    private RunReport() {
    }

    /** Writes the pictures and the page into {@code run}; returns the file names written. */
    public static List<String> write(RunDirectory run, Content content) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Map<String, byte[]> pictures = new LinkedHashMap<>();
        List<EpochMetrics> history = content.history();
        pictures.put(LOSS_PNG, png(lossChart(history)));
        boolean validation = history.stream().anyMatch(m -> !Double.isNaN(m.valLoss()));
        if (validation) {
            pictures.put(METRIC_PNG, png(metricChart(history)));
        }
        if (content.confusion() != null && content.confusion().length > 1) {
            pictures.put(CONFUSION_PNG, png(confusionChart(content.confusion())));
        }
        List<String> written = new ArrayList<>();
        for (Map.Entry<String, byte[]> e : pictures.entrySet()) {
            run.write(e.getKey(), out -> out.write(e.getValue()));
            written.add(e.getKey());
        }
        run.writeText(HTML, html(content, pictures));
        written.add(HTML);
        return written;
    }

    private static byte[] png(org.knowm.xchart.internal.chartpart.Chart<?, ?> chart) throws IOException {
        return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
    }

    private static XYChart lossChart(List<EpochMetrics> history) {
        XYChart chart = new XYChartBuilder().width(CHART_WIDTH).height(CHART_HEIGHT).title("Loss per epoch")
                .xAxisTitle("epoch").yAxisTitle("loss").build();
        style(chart);
        addSeries(chart, "training (mean over the epoch's steps)", history, EpochMetrics::trainLoss);
        addSeries(chart, "validation (after the epoch)", history, EpochMetrics::valLoss);
        return chart;
    }

    private static XYChart metricChart(List<EpochMetrics> history) {
        boolean classification = history.stream().anyMatch(m -> !Double.isNaN(m.valAccuracy()));
        XYChart chart = new XYChartBuilder().width(CHART_WIDTH).height(CHART_HEIGHT)
                .title(classification ? "Validation accuracy per epoch" : "Validation error per epoch")
                .xAxisTitle("epoch").yAxisTitle(classification ? "accuracy (%)" : "error").build();
        style(chart);
        if (classification) {
            addSeries(chart, "validation accuracy", history, m -> 100 * m.valAccuracy());
        } else {
            addSeries(chart, "validation RMSE", history, EpochMetrics::valRmse);
            addSeries(chart, "validation MAE", history, EpochMetrics::valMae);
        }
        return chart;
    }

    private static void style(XYChart chart) {
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setMarkerSize(6);
    }

    private static void addSeries(XYChart chart, String name, List<EpochMetrics> history,
                                  java.util.function.ToDoubleFunction<EpochMetrics> value) {
        List<Double> x = new ArrayList<>();
        List<Double> y = new ArrayList<>();
        for (EpochMetrics m : history) {
            double v = value.applyAsDouble(m);
            if (Double.isFinite(v)) {
                x.add(m.epoch() + 1.0);
                y.add(v);
            }
        }
        if (!x.isEmpty()) {
            chart.addSeries(name, x, y);
        }
    }

    private static HeatMapChart confusionChart(double[][] confusion) {
        int k = confusion.length;
        HeatMapChart chart = new HeatMapChartBuilder().width(HEATMAP_SIZE).height(HEATMAP_SIZE)
                .title("Confusion matrix on the validation data").xAxisTitle("predicted class")
                .yAxisTitle("true class").build();
        chart.getStyler().setShowValue(k <= 20);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setHeatMapValueDecimalPattern("#");
        chart.getStyler().setRangeColors(new Color[] {new Color(0xF7FBFF), new Color(0x6BAED6), new Color(0x08306B)});
        chart.getStyler().setLegendVisible(false);
        int[] classes = new int[k];
        for (int c = 0; c < k; c++) {
            classes[c] = c;
        }
        // XChart's int[][] is heat[x index][y index]: x is the predicted class, y the true class
        // (class 0 at the bottom left: both axes count up from the origin).
        int[][] heat = new int[k][k];
        for (int t = 0; t < k; t++) {
            for (int p = 0; p < k; p++) {
                heat[p][t] = (int) Math.round(confusion[t][p]);
            }
        }
        chart.addSeries("confusion", classes, classes, heat);
        return chart;
    }

    static String html(Content content, Map<String, byte[]> pictures) {
        StringBuilder sb = new StringBuilder();
        sb.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>sparkprop run: ")
                .append(escape(content.title())).append("</title>\n<style>\n")
                .append("body{font-family:sans-serif;margin:2em;max-width:1100px;color:#222}")
                .append("table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;")
                .append("text-align:right}th{background:#f2f2f2}td.l,th.l{text-align:left}")
                .append("pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:12px}img{max-width:100%}\n")
                .append("</style>\n</head>\n<body>\n<h1>sparkprop run: ").append(escape(content.title()))
                .append("</h1>\n");
        sb.append("<h2>Final metrics</h2>\n<table id=\"final\">\n");
        for (Map.Entry<String, String> e : content.finals().entrySet()) {
            sb.append("<tr><th class=\"l\">").append(escape(e.getKey())).append("</th><td>")
                    .append(escape(e.getValue())).append("</td></tr>\n");
        }
        sb.append("</table>\n<h2>Learning curves</h2>\n");
        for (Map.Entry<String, byte[]> e : pictures.entrySet()) {
            if (e.getKey().equals(CONFUSION_PNG)) {
                sb.append("<h2>Confusion matrix</h2>\n");
            }
            sb.append("<p><img id=\"").append(e.getKey().replace(".png", "")).append("\" alt=\"")
                    .append(e.getKey()).append("\" src=\"data:image/png;base64,")
                    .append(Base64.getEncoder().encodeToString(e.getValue())).append("\"></p>\n");
        }
        sb.append("<h2>Time per step</h2>\n<p>Median milliseconds per synchronous step (or local-SGD round) in"
                + " each epoch: compute is the slowest partition's forward, backward and local updates; exchange"
                + " the rest of the Spark job (scheduling, task launch, results); broadcast the weights'"
                + " broadcast; update the driver's averaging or optimizer step.</p>\n");
        // The validation columns the run has: its loss, and accuracy for a classifier or RMSE and
        // MAE for a regressor; none without validation data.
        List<EpochMetrics> history = content.history();
        boolean valLoss = history.stream().anyMatch(m -> !Double.isNaN(m.valLoss()));
        boolean accuracy = history.stream().anyMatch(m -> !Double.isNaN(m.valAccuracy()));
        boolean rmse = history.stream().anyMatch(m -> !Double.isNaN(m.valRmse()));
        sb.append("<table id=\"epochs\">\n<tr><th>epoch</th><th>train loss</th>"
                + (valLoss ? "<th>val loss</th>" : "") + (accuracy ? "<th>val accuracy</th>" : "")
                + (rmse ? "<th>val RMSE</th><th>val MAE</th>" : "")
                + "<th>seconds</th><th>examples/s</th><th>exchanges</th><th>step ms</th>"
                + "<th>compute</th><th>exchange</th><th>broadcast</th><th>update</th></tr>\n");
        for (EpochMetrics m : history) {
            StepTimes.Summary t = m.stepTimes();
            sb.append("<tr><td>").append(m.epoch() + 1).append("</td>").append(cell("%.4f", m.trainLoss()));
            if (valLoss) {
                sb.append(cell("%.4f", m.valLoss()));
            }
            if (accuracy) {
                sb.append(cell("%.2f%%", 100 * m.valAccuracy()));
            }
            if (rmse) {
                sb.append(cell("%.4f", m.valRmse())).append(cell("%.4f", m.valMae()));
            }
            sb.append(cell("%.2f", m.epochSeconds())).append(cell("%.0f", m.examplesPerSec()));
            if (t != null) {
                sb.append("<td>").append(t.steps()).append("</td>").append(cell("%.1f", t.totalMs()))
                        .append(cell("%.1f", t.computeMs())).append(cell("%.1f", t.exchangeMs()))
                        .append(cell("%.1f", t.broadcastMs())).append(cell("%.1f", t.updateMs()));
            } else {
                sb.append("<td></td>".repeat(6));
            }
            sb.append("</tr>\n");
        }
        sb.append("</table>\n");
        exchangeTable(sb, content.history());
        sb.append("<h2>Configuration</h2>\n<pre>").append(escape(content.config())).append("</pre>\n");
        return sb.append("</body>\n</html>\n").toString();
    }

    /**
     * The median cost of an exchange in each epoch that has one ({@link ExchangeCosts}); nothing
     * when no epoch does (a history written before these figures existed).
     */
    private static void exchangeTable(StringBuilder sb, List<EpochMetrics> history) {
        if (history.stream().noneMatch(m -> m.stepTimes() != null && m.stepTimes().costs().known())) {
            return;
        }
        sb.append("<h2>Cost per exchange</h2>\n<p>Median per synchronous step (or local-SGD round) in each epoch:"
                + " the task results into the driver; one copy of what it broadcasts (the weights, of which the"
                + " broadcast column, and each stage's task binary; every executor fetches one); the shuffle of the"
                + " reduce-scatter or of the aggregation tree's levels (train.aggregation); the stages and tasks launched; the driver process's CPU time (in local mode the"
                + " tasks' too). The last four columns split the tasks' time: per stage the slowest task's scheduler"
                + " delay, deserialization, result serialization and fetch, and shuffle fetch wait, summed over the"
                + " stages. An empty cell is not known.</p>\n");
        sb.append("<table id=\"exchanges\">\n<tr><th>epoch</th><th>into driver</th><th>out of driver</th>"
                + "<th>broadcast</th><th>shuffle written</th><th>shuffle read</th><th>stages</th><th>tasks</th>"
                + "<th>driver CPU ms</th><th>scheduler delay ms</th><th>deserialize ms</th><th>result ms</th>"
                + "<th>shuffle wait ms</th></tr>\n");
        for (EpochMetrics m : history) {
            if (m.stepTimes() == null || !m.stepTimes().costs().known()) {
                continue;
            }
            ExchangeCosts c = m.stepTimes().costs();
            sb.append("<tr><td>").append(m.epoch() + 1).append("</td>").append(bytesCell(c.driverInBytes()))
                    .append(bytesCell(c.driverOutBytes())).append(bytesCell(c.broadcastBytes()))
                    .append(bytesCell(c.shuffleWriteBytes())).append(bytesCell(c.shuffleReadBytes()))
                    .append(cell(c.stages() == Math.rint(c.stages()) ? "%.0f" : "%.1f", c.stages()))
                    .append(cell(c.tasks() == Math.rint(c.tasks()) ? "%.0f" : "%.1f", c.tasks()))
                    .append(cell("%.1f", c.driverCpuMs())).append(cell("%.1f", c.schedulerDelayMs()))
                    .append(cell("%.1f", c.deserializeMs())).append(cell("%.1f", c.resultMs()))
                    .append(cell("%.1f", c.shuffleWaitMs())).append("</tr>\n");
        }
        sb.append("</table>\n");
    }

    private static String bytesCell(double bytes) {
        return Double.isFinite(bytes) ? "<td>" + ExchangeCosts.bytes(bytes) + "</td>" : "<td></td>";
    }

    private static String cell(String format, double v) {
        return Double.isFinite(v) ? "<td>" + String.format(Locale.ROOT, format, v) + "</td>" : "<td></td>";
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
