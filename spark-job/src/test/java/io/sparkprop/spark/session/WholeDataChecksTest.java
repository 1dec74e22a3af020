package io.sparkprop.spark.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.spark.SparkTestSupport;
import io.sparkprop.spark.cli.TrainCommand;
import io.sparkprop.spark.config.JobConfig;
import io.sparkprop.spark.ml.MlpClassifier;
import io.sparkprop.spark.report.RunDirectory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.Logger;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What is derived from the whole training data is checked before training (issue 13, item 4):
 * a standardization statistic that overflows names the CSV column; training labels of a single
 * class are refused; classes without training rows are named in a warning.
 */
class WholeDataChecksTest {

    @TempDir
    Path dir;

    private TrainCommand.Outcome train(String csv, String... overrides) throws Exception {
        Path data = Files.writeString(dir.resolve("train.csv"), csv);
        List<String> settings = new ArrayList<>(List.of("data.format=csv", "data.train=" + data, "data.partitions=2",
                "train.epochs=1", "train.batch-size=10"));
        settings.addAll(List.of(overrides));
        return TrainCommand.run(SparkTestSupport.spark(), JobConfig.defaults().withOverrides(settings),
                dir.resolve("run").toString());
    }

    @Test
    void aStandardizationStatisticThatOverflowsNamesTheCsvColumn() {
        StringBuilder csv = new StringBuilder("small,big,label\n");
        for (int r = 0; r < 20; r++) {
            csv.append(String.format(Locale.ROOT, "%d,%s,%d%n", r, r % 2 == 0 ? "1.5e307" : "1.6e307", r % 2));
        }
        // 10 x 1.5e307 + 10 x 1.6e307 = 3.1e308 > Double.MAX_VALUE (1.8e308): the sum, and so the mean, is Infinity.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> train(csv.toString(),
                "model.layers=2,4,2", "data.scaling=standardize"));
        assertTrue(e.getMessage().contains("feature 1 ('big')") && e.getMessage().contains("mean")
                && e.getMessage().contains("is Infinity") && e.getMessage().contains("20 training rows"),
                e.getMessage());
        assertFalse(Files.exists(dir.resolve("run").resolve(RunDirectory.MODEL)));
        assertTrue(Files.exists(dir.resolve("run").resolve(RunDirectory.FAILED)));
    }

    @Test
    void trainingLabelsOfASingleClassAreRefused() {
        StringBuilder csv = new StringBuilder("x1,x2,label\n");
        for (int r = 0; r < 20; r++) {
            csv.append(String.format(Locale.ROOT, "%.3f,%.3f,2%n", Math.sin(r), Math.cos(r)));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> train(csv.toString(),
                "model.layers=2,4,3"));
        assertTrue(e.getMessage().contains("data.label-column = label") && e.getMessage().contains("class 2 of 3")
                && e.getMessage().contains("nothing to tell apart"), e.getMessage());
    }

    /** Collects the events of one logger. */
    private static final class Captured extends AbstractAppender {
        final List<String> messages = new CopyOnWriteArrayList<>();

        Captured() {
            super("captured", null, null, true, Property.EMPTY_ARRAY);
        }

        @Override
        public void append(LogEvent event) {
            messages.add(event.getLevel() + " " + event.getMessage().getFormattedMessage());
        }
    }

    @Test
    void classesWithoutTrainingWeightAreNamedInAWarningAndTrainingGoesOn() {
        List<Row> rows = new ArrayList<>();
        for (int r = 0; r < 30; r++) {
            // Classes 0 and 2 of 4; class 3's rows all have weight 0, and class 1 has none.
            double label = r % 3 == 0 ? 3.0 : r % 2 == 0 ? 0.0 : 2.0;
            rows.add(RowFactory.create(Vectors.dense(Math.sin(r), Math.cos(r)), label, label == 3.0 ? 0.0 : 1.0));
        }
        Dataset<Row> df = SparkTestSupport.spark().createDataFrame(rows, new StructType()
                .add("features", new VectorUDT()).add("label", DataTypes.DoubleType).add("w", DataTypes.DoubleType))
                .coalesce(2);
        Logger logger = (Logger) LogManager.getLogger(TrainingSession.class);
        Captured captured = new Captured();
        captured.start();
        logger.addAppender(captured);
        try {
            new MlpClassifier().setLayers(new int[] {2, 4, 4}).setMaxIter(1).setWeightCol("w").fit(df);
        } finally {
            logger.removeAppender(captured);
            captured.stop();
        }
        List<String> warnings = captured.messages.stream().filter(m -> m.startsWith("WARN")).toList();
        assertEquals(1, warnings.size(), captured.messages.toString());
        assertTrue(warnings.get(0).contains("Classes [1, 3] of 4") && warnings.get(0).contains("labelCol 'label'")
                && warnings.get(0).contains("positive weight"), warnings.get(0));
    }
}
