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
        assertTrue(html.contains("validation accuracy") && html.contains("local SGD, 64 steps per exchange"), html);
        assertTrue(html.contains("train.learning-rate = 0.05"), "the config is shown");
        Matcher rows = Pattern.compile("<tr><td>(\\d+)</td>").matcher(html);
        int epochs = 0;
        while (rows.find()) {
            epochs++;
            assertEquals(epochs, Integer.parseInt(rows.group(1)));
        }
        assertEquals(4, epochs);
    }

    private static BufferedImage assertSize(String name, int width, int height) throws Exception {
        BufferedImage image = ImageIO.read(run.resolve(name).toFile());
        assertTrue(image != null, name + " is not a readable PNG");
        assertEquals(width, image.getWidth(), name);
        assertEquals(height, image.getHeight(), name);
        return image;
    }
}
