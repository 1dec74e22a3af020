package io.sparkprop.spark.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.spark.SparkTestSupport;
import io.sparkprop.spark.cli.TrainCommand;
import io.sparkprop.spark.config.JobConfig;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A finished run leaves its curves, its confusion heatmap and a self-contained report.html. */
class RunReportTest {

    @TempDir
    static Path dir;
    static Path run;

    @BeforeAll
    static void train() throws Exception {
        Path csv = io.sparkprop.spark.train.FaultPolicyTestAccess.writeCsv(dir.resolve("train.csv"), 400, 3);
        run = dir.resolve("run");
        TrainCommand.run(SparkTestSupport.spark(), JobConfig.defaults().withOverrides(List.of("data.format=csv",
                "data.train=" + csv, "data.partitions=2", "data.validation-fraction=0.25", "model.layers=6,12,3",
                "model.hidden-activation=tanh", "train.epochs=4", "train.batch-size=20", "train.learning-rate=0.05")),
                run.toString());
    }

    @Test
    void thePicturesArePngsOfTheDocumentedSizes() throws Exception {
        assertSize(RunReport.LOSS_PNG, RunReport.CHART_WIDTH, RunReport.CHART_HEIGHT);
        assertSize(RunReport.METRIC_PNG, RunReport.CHART_WIDTH, RunReport.CHART_HEIGHT);
        BufferedImage heatmap = assertSize(RunReport.CONFUSION_PNG, RunReport.HEATMAP_SIZE, RunReport.HEATMAP_SIZE);
        // The heatmap's cells are coloured: some pixels are neither white nor grey.
        int coloured = 0;
        for (int y = 0; y < heatmap.getHeight(); y += 4) {
            for (int x = 0; x < heatmap.getWidth(); x += 4) {
                int rgb = heatmap.getRGB(x, y);
                int r = (rgb >> 16) & 0xFF;
                int b = rgb & 0xFF;
                if (b - r > 60) {
                    coloured++;
                }
            }
        }
        assertTrue(coloured > 100, "blue heatmap cells: " + coloured);
    }

    @Test
    void theHtmlHoldsTheConfigTheMetricsTheCurvesAndEveryEpoch() throws Exception {
        String html = Files.readString(run.resolve(RunReport.HTML));
        assertTrue(html.startsWith("<!DOCTYPE html>"), html.substring(0, 40));
        Matcher images = Pattern.compile("<img id=\"(\\w+)\" alt=\"[^\"]+\" src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"")
                .matcher(html);
        int count = 0;
        while (images.find()) {
            BufferedImage image = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(images.group(2))));
            assertTrue(image != null && image.getWidth() > 0, images.group(1));
            count++;
        }
        assertEquals(3, count, "loss, metric and confusion pictures inline");
        assertTrue(html.contains("validation accuracy") && html.contains("local SGD, 64 steps per exchange")
                && html.contains("float64 products"), html);
        assertTrue(html.contains("train.learning-rate = 0.05"), "the config is shown");
        // A classifier's table has its accuracy and no empty RMSE column (a new user met one).
        assertTrue(table(html, "epochs").contains("<th>val accuracy</th>")
                && !table(html, "epochs").contains("RMSE"), table(html, "epochs"));
        Matcher rows = Pattern.compile("<tr><td>(\\d+)</td>").matcher(table(html, "epochs"));
        int epochs = 0;
        while (rows.find()) {
            epochs++;
            assertEquals(epochs, Integer.parseInt(rows.group(1)));
        }
        assertEquals(4, epochs);
    }

    /**
     * Each epoch's median cost of an exchange: 300 training rows in batches of 20 are 15 steps, one
     * local-SGD round an epoch (64 steps per exchange), on 2 partitions: 1 stage, 2 tasks, no
     * shuffle, and bytes both ways.
     */
    @Test
    void theHtmlHoldsEachEpochsCostPerExchange() throws Exception {
        String html = Files.readString(run.resolve(RunReport.HTML));
        assertTrue(html.contains("<h2>Cost per exchange</h2>"), "the section is there");
        Matcher rows = Pattern.compile("<tr><td>(\\d+)</td><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td>"
                + "<td>([^<]+)</td><td>([^<]+)</td><td>(\\d+)</td><td>(\\d+)</td>").matcher(table(html, "exchanges"));
        int epochs = 0;
        while (rows.find()) {
            epochs++;
            assertEquals(epochs, Integer.parseInt(rows.group(1)));
            for (int bytes = 2; bytes <= 4; bytes++) {
                assertTrue(rows.group(bytes).matches("[1-9]\\d* B|\\d+\\.\\d (KiB|MiB)"), "bytes into and out of the driver: "
                        + rows.group());
            }
            assertEquals("0 B", rows.group(5), "no shuffle on 2 partitions");
            assertEquals("0 B", rows.group(6));
            assertEquals("1", rows.group(7), "stages");
            assertEquals("2", rows.group(8), "tasks");
        }
        assertEquals(4, epochs);
    }

    /** The rows of the report's table {@code id}. */
    @Test
    void theEpochTableHasTheTasksColumnsAndACellForEachHeader() {
        // A classifier: accuracy; a regressor: RMSE and MAE; no validation data: neither, nor a val
        // loss. Every row has as many cells as the header.
        double nan = Double.NaN;
        List<io.sparkprop.spark.train.EpochMetrics> classifier = List.of(
                new io.sparkprop.spark.train.EpochMetrics(0, 5, 0.9, 0.8, 0.7, nan, nan, 100, 1, 1, null));
        List<io.sparkprop.spark.train.EpochMetrics> regressor = List.of(
                new io.sparkprop.spark.train.EpochMetrics(0, 5, 0.9, 0.8, nan, 0.5, 0.4, 100, 1, 1, null));
        List<io.sparkprop.spark.train.EpochMetrics> none = List.of(
                new io.sparkprop.spark.train.EpochMetrics(0, 5, 0.9, nan, nan, nan, nan, 100, 1, 1, null));
        String[][] expected = {
            {"val loss", "val accuracy"}, {"val loss", "val RMSE", "val MAE"}, {}};
        List<List<io.sparkprop.spark.train.EpochMetrics>> histories = List.of(classifier, regressor, none);
        for (int h = 0; h < 3; h++) {
            String html = RunReport.html(new RunReport.Content("t", "c", histories.get(h), java.util.Map.of(), null),
                    java.util.Map.of());
            String epochs = table(html, "epochs");
            for (String column : new String[] {"val loss", "val accuracy", "val RMSE", "val MAE"}) {
                assertEquals(List.of(expected[h]).contains(column), epochs.contains("<th>" + column + "</th>"),
                        column + " in " + epochs);
            }
            String[] rows = epochs.split("</tr>");
            int headers = rows[0].split("<th>", -1).length - 1;
            for (int r = 1; r < rows.length; r++) {
                if (rows[r].contains("<td>")) {
                    assertEquals(headers, rows[r].split("<td>", -1).length - 1, "cells of row " + r + ": " + epochs);
                }
            }
        }
    }

    private static String table(String html, String id) {
        int start = html.indexOf("<table id=\"" + id + "\">");
        assertTrue(start >= 0, "no table " + id);
        return html.substring(start, html.indexOf("</table>", start));
    }

    /**
     * The page opens in headless Chromium (Debian's chromium, installed by
     * scripts/install-test-deps, which .ci/run calls) without errors, and its screenshot shows the
     * plots: a page whose pictures failed to load has hardly any coloured pixels. Without Chromium
     * the test is skipped, unless SPARKPROP_REQUIRE_CHROMIUM=1 (as .ci/run sets) makes that a failure.
     */
    @Test
    void theReportOpensInHeadlessChromiumAndShowsThePlots() throws Exception {
        Path chromium = Path.of("/usr/bin/chromium");
        boolean required = "1".equals(System.getenv("SPARKPROP_REQUIRE_CHROMIUM"));
        assertTrue(Files.isExecutable(chromium) || !required, "SPARKPROP_REQUIRE_CHROMIUM=1 but " + chromium
                + " is missing: run scripts/install-test-deps");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(chromium),
                "Debian's chromium is not installed (scripts/install-test-deps)");
        Path shot = dir.resolve("screenshot.png");
        Process p = new ProcessBuilder(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + dir.resolve("chromium-profile"), "--enable-logging=stderr",
                "--v=0", "--window-size=1100,2600", "--screenshot=" + shot,
                run.resolve(RunReport.HTML).toUri().toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "chromium did not finish");
        assertEquals(0, p.exitValue(), log);
        for (String problem : List.of("CONSOLE", "Uncaught", "Failed to load", "ERR_FILE_NOT_FOUND")) {
            assertTrue(!log.contains(problem), "chromium reported '" + problem + "':\n" + log);
        }
        BufferedImage page = ImageIO.read(shot.toFile());
        assertEquals(1100, page.getWidth());
        int coloured = 0;
        for (int y = 0; y < page.getHeight(); y += 2) {
            for (int x = 0; x < page.getWidth(); x += 2) {
                int rgb = page.getRGB(x, y);
                if ((rgb & 0xFF) - ((rgb >> 16) & 0xFF) > 60) {
                    coloured++;
                }
            }
        }
        // Measured on an MNIST report: about 7,400 such pixels (in this sampling) with the pictures, 0 without.
        assertTrue(coloured > 2000, "blue plot pixels on the page: " + coloured);
    }

    private static BufferedImage assertSize(String name, int width, int height) throws Exception {
        BufferedImage image = ImageIO.read(run.resolve(name).toFile());
        assertTrue(image != null, name + " is not a readable PNG");
        assertEquals(width, image.getWidth(), name);
        assertEquals(height, image.getHeight(), name);
        return image;
    }
}
