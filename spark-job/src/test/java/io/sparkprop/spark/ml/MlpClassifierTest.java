package io.sparkprop.spark.ml;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.SplitMix64;
import io.sparkprop.spark.SparkTestSupport;
import io.sparkprop.spark.report.EvaluationMetrics;
import io.sparkprop.spark.report.RunDirectory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Spark ML estimator: fit, transform, save, load, in a Pipeline, deterministic, with clear errors. */
class MlpClassifierTest {

    @TempDir
    Path dir;

    /** 3 numeric columns x0..x2 and a label in {0, 1, 2}: the arg-max of (x0, x1, x2) plus a little noise. */
    static Dataset<Row> columns(SparkSession spark, int rows, long seed) {
        SplitMix64 random = new SplitMix64(seed);
        List<Row> out = new ArrayList<>();
        for (int r = 0; r < rows; r++) {
            double a = random.nextDouble();
            double b = random.nextDouble();
            double c = random.nextDouble();
            double label = a > b && a > c ? 0 : b > c ? 1 : 2;
            out.add(RowFactory.create(a, b, c, label));
        }
        StructType schema = new StructType().add("x0", DataTypes.DoubleType).add("x1", DataTypes.DoubleType)
                .add("x2", DataTypes.DoubleType).add("label", DataTypes.DoubleType);
        return spark.createDataFrame(out, schema).coalesce(1); // no shuffle: a fixed row order
    }

    static Dataset<Row> vectors(SparkSession spark, int rows, long seed) {
        return new VectorAssembler().setInputCols(new String[] {"x0", "x1", "x2"}).setOutputCol("features")
                .transform(columns(spark, rows, seed)).select("features", "label");
    }

    static MlpClassifier classifier() {
        return new MlpClassifier().setLayers(new int[] {3, 16, 3}).setMaxIter(30).setBatchSize(32)
                .setStepSize(0.01).setSeed(7).setLocalSteps(4);
    }

    @Test
    void fitTransformSaveLoadRoundTrip() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        Dataset<Row> train = vectors(spark, 600, 1).cache();
        Dataset<Row> test = vectors(spark, 300, 2).cache();
        MlpClassificationModel model = classifier().setValidationFraction(0.2).fit(train);
        assertEquals(30, model.history().size());
        assertTrue(model.history().get(29).valAccuracy() > 0.8, model.history().get(29).toJson());
        Dataset<Row> predicted = model.transform(test);
        List<Row> rows = predicted.select("label", "prediction", "probability", "rawPrediction").collectAsList();
        long correct = rows.stream().filter(r -> r.getDouble(0) == r.getDouble(1)).count();
        assertTrue(correct > 0.85 * rows.size(), correct + " of " + rows.size());
        io.sparkprop.spark.report.EvaluationMetrics metrics = model.metrics(test);
        assertEquals(300, metrics.rows());
        assertEquals((double) correct / rows.size(), metrics.accuracy(), 1e-12, metrics.toJson());
        double support = 0;
        for (double[] perClass : metrics.perClass()) {
            support += perClass[3];
        }
        assertEquals(300, support, 1e-9, "per-class supports add up to the rows");
        for (Row r : rows) {
            Vector p = r.getAs(2);
            assertEquals(1.0, p.toArray()[0] + p.toArray()[1] + p.toArray()[2], 1e-12);
            assertEquals(p.argmax(), (int) r.getDouble(1));
        }

        String path = dir.resolve("model").toString();
        model.write().save(path);
        MlpClassificationModel loaded = MlpClassificationModel.load(path);
        assertArrayEquals(model.weights().toArray(), loaded.weights().toArray());
        assertEquals(model.uid(), loaded.uid());
        assertEquals(30, loaded.history().size());
        assertEquals(model.history().get(29).valAccuracy(), loaded.history().get(29).valAccuracy());
        List<Row> again = loaded.transform(test).select("prediction", "probability").collectAsList();
        for (int i = 0; i < rows.size(); i++) {
            assertEquals(rows.get(i).getDouble(1), again.get(i).getDouble(0));
            assertEquals((Vector) rows.get(i).getAs(2), (Vector) again.get(i).getAs(1));
        }
    }

    @Test
    void aPipelineWithAVectorAssemblerFitsSavesAndLoads() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        Dataset<Row> train = columns(spark, 600, 3);
        Dataset<Row> test = columns(spark, 200, 4);
        Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {
            new VectorAssembler().setInputCols(new String[] {"x0", "x1", "x2"}).setOutputCol("features"),
            classifier()});
        PipelineModel fitted = pipeline.fit(train);
        List<Row> before = fitted.transform(test).select("prediction").collectAsList();
        String path = dir.resolve("pipeline").toString();
        fitted.write().save(path);
        List<Row> after = PipelineModel.load(path).transform(test).select("prediction").collectAsList();
        assertEquals(before, after);
        // The unfitted pipeline, with our estimator's params, round-trips too.
        pipeline.write().save(dir.resolve("unfitted").toString());
        MlpClassifier reloaded = (MlpClassifier) Pipeline.load(dir.resolve("unfitted").toString()).getStages()[1];
        assertArrayEquals(new int[] {3, 16, 3}, reloaded.getOrDefault(reloaded.layers()));
        assertEquals(4, (Integer) reloaded.getOrDefault(reloaded.localSteps()));
    }

    @Test
    void theSameDataAndSeedGiveBitIdenticalWeights() {
        SparkSession spark = SparkTestSupport.spark();
        Dataset<Row> train = vectors(spark, 300, 5);
        assertArrayEquals(classifier().fit(train).weights().toArray(), classifier().fit(train).weights().toArray());
    }

    /**
     * {@code shuffle = window} on a DataFrame: the rows are cut into chunks of {@code chunkBytes}
     * (a row of 3 features and 3 classes is 8·(3 + 3 + 1) = 56 bytes, so 560 bytes give 10 rows),
     * the fit learns, repeats to the bit, and is a different run from partition mode.
     */
    @Test
    void theWindowShuffleFitsADataFrameInChunksReproducibly() {
        SparkSession spark = SparkTestSupport.spark();
        Dataset<Row> train = vectors(spark, 600, 1).cache();
        MlpClassifier window = classifier().setShuffle("window").setChunkBytes(560).setShuffleBuffer(2)
                .setValidationFraction(0.2);
        MlpClassificationModel model = window.fit(train);
        assertTrue(model.history().get(29).valAccuracy() > 0.8, model.history().get(29).toJson());
        assertArrayEquals(model.weights().toArray(), window.fit(train).weights().toArray());
        assertFalse(java.util.Arrays.equals(model.weights().toArray(),
                classifier().setValidationFraction(0.2).fit(train).weights().toArray()), "window is another order");
        assertEquals("window", model.getShuffle());
        assertEquals(560L, model.getChunkBytes());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> classifier().setShuffle("sliding"));
        assertTrue(bad.getMessage().contains("sliding"), bad.getMessage());
    }

    @Test
    void numPartitionsMergesNeighbouringPartitionsWithoutReordering() {
        SparkSession spark = SparkTestSupport.spark();
        Dataset<Row> six = vectors(spark, 300, 13).repartition(6).cache();
        six.count();
        double[] merged = classifier().setMaxIter(3).setNumPartitions(2).fit(six).weights().toArray();
        assertArrayEquals(classifier().setMaxIter(3).fit(six.coalesce(2)).weights().toArray(), merged);
        assertFalse(java.util.Arrays.equals(classifier().setMaxIter(3).fit(six).weights().toArray(), merged),
                "six partitions train differently from two");
        assertArrayEquals(classifier().setMaxIter(3).fit(six).weights().toArray(), classifier().setMaxIter(3).setNumPartitions(50).fit(six)
                .weights().toArray(), "more than the input has changes nothing");
    }

    @Test
    void earlyStoppingKeepsTheBestEpochAndInitialWeightsAreWhereTrainingStarts() {
        SparkSession spark = SparkTestSupport.spark();
        Dataset<Row> train = vectors(spark, 300, 6);
        // A min-delta nothing beats: epoch 1 stays the best and patience 1 stops after epoch 2, with
        // exactly the weights a 1-epoch fit ends with.
        MlpClassificationModel stopped = classifier().setValidationFraction(0.2).setEarlyStoppingMetric("val_loss")
                .setEarlyStoppingPatience(1).setEarlyStoppingMinDelta(1e9).fit(train);
        assertEquals(2, stopped.history().size());
        MlpClassificationModel oneEpoch = classifier().setValidationFraction(0.2).setMaxIter(1).fit(train);
        assertArrayEquals(oneEpoch.weights().toArray(), stopped.weights().toArray());
        IllegalArgumentException noValidation = assertThrows(IllegalArgumentException.class,
                () -> classifier().setEarlyStoppingMetric("val_loss").fit(train));
        assertTrue(noValidation.getMessage().contains("validationFraction"), noValidation.getMessage());

        // A learning rate of 1e-12 for one epoch leaves the given initial weights where they were.
        double[] start = oneEpoch.weights().toArray();
        double[] after = classifier().setInitialWeights(Vectors.dense(start)).setStepSize(1e-12).setMaxIter(1)
                .fit(train).weights().toArray();
        for (int i = 0; i < start.length; i++) {
            assertEquals(start[i], after[i], 1e-9, "weight " + i);
        }
        IllegalArgumentException wrongLength = assertThrows(IllegalArgumentException.class,
                () -> classifier().setInitialWeights(Vectors.dense(1, 2, 3)).fit(train));
        assertTrue(wrongLength.getMessage().contains("initialWeights holds 3 values"), wrongLength.getMessage());
    }

    @Test
    void validationIndicatorColChoosesTheValidationRows() {
        SparkSession spark = SparkTestSupport.spark();
        // Every 4th row is validation, with its label rotated (label + 1 mod 3): a model that never
        // trained on those rows (and learned the true rule) scores badly on them, and well on clean data.
        List<Row> rows = vectors(spark, 800, 8).collectAsList();
        List<Row> marked = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            boolean validation = i % 4 == 0;
            double label = rows.get(i).getDouble(1);
            marked.add(RowFactory.create(rows.get(i).get(0), validation ? (label + 1) % 3 : label, validation));
        }
        StructType schema = new StructType().add("features", new VectorUDT()).add("label", DataTypes.DoubleType)
                .add("isVal", DataTypes.BooleanType);
        Dataset<Row> data = spark.createDataFrame(marked, schema).coalesce(1);
        MlpClassificationModel model = classifier().setValidationIndicatorCol("isVal").fit(data);
        double valAccuracy = model.history().get(model.history().size() - 1).valAccuracy();
        assertTrue(valAccuracy < 0.2, "accuracy on the rotated validation rows: " + valAccuracy);
        List<Row> clean = model.transform(vectors(spark, 300, 9)).select("label", "prediction").collectAsList();
        long correct = clean.stream().filter(r -> r.getDouble(0) == r.getDouble(1)).count();
        assertTrue(correct > 0.85 * clean.size(), correct + " of " + clean.size());
        IllegalArgumentException both = assertThrows(IllegalArgumentException.class,
                () -> classifier().setValidationIndicatorCol("isVal").setValidationFraction(0.1).fit(data));
        assertTrue(both.getMessage().contains("not both"), both.getMessage());
    }

    @Test
    void sparseFeaturesTrainAWideModelFromSparseVectors() {
        SparkSession spark = SparkTestSupport.spark();
        // 100,000 features: feature 11 marks class 1, feature 99,000 class 0, plus 3 noise features.
        int width = 100_000;
        SplitMix64 random = new SplitMix64(41);
        List<Row> rows = new ArrayList<>();
        for (int r = 0; r < 240; r++) {
            int label = r % 2;
            int[] indices = {random.nextInt(10), 20 + random.nextInt(1000), label == 1 ? 11 : 99_000,
                99_500 + random.nextInt(400)};
            java.util.Arrays.sort(indices);
            double[] values = new double[4];
            for (int k = 0; k < 4; k++) {
                values[k] = indices[k] == 11 || indices[k] == 99_000 ? 1.0 : random.nextDouble();
            }
            rows.add(RowFactory.create(Vectors.sparse(width, indices, values), (double) label));
        }
        StructType schema = new StructType().add("features", new VectorUDT()).add("label", DataTypes.DoubleType);
        Dataset<Row> data = spark.createDataFrame(rows, schema).coalesce(2);
        MlpClassificationModel model = new MlpClassifier().setLayers(new int[] {width, 8, 2}).setSparse(true)
                .setMaxIter(15).setBatchSize(24).setStepSize(0.01).setLocalSteps(2).setSeed(3).fit(data);
        List<Row> scored = model.transform(data).select("features", "label", "prediction").collectAsList();
        for (Row r : scored) {
            assertEquals(r.getDouble(1), r.getDouble(2), "row " + r.get(0));
            assertEquals(model.predict(r.getAs(0)), r.getDouble(2));
        }
    }

    @Test
    void reportDirGetsTheCommandLinesReportAndAFitLeavesNothingCached() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        Dataset<Row> train = vectors(spark, 300, 12).cache();
        train.count();
        int cachedBefore = spark.sparkContext().getPersistentRDDs().size();
        Path report = dir.resolve("report");
        MlpClassificationModel model = classifier().setMaxIter(3).setValidationFraction(0.2)
                .setReportDir(report.toString()).fit(train);
        assertEquals(cachedBefore, spark.sparkContext().getPersistentRDDs().size(),
                "the fit's blocks and its hold-out split are unpersisted");
        assertTrue(java.nio.file.Files.readString(report.resolve(io.sparkprop.spark.report.RunDirectory.CONFIG))
                .contains("model.layers = 3,16,3"));
        assertEquals(3, java.nio.file.Files.readAllLines(report.resolve(io.sparkprop.spark.report.RunDirectory.METRICS))
                .size());
        for (String png : List.of(io.sparkprop.spark.report.RunReport.LOSS_PNG,
                io.sparkprop.spark.report.RunReport.METRIC_PNG, io.sparkprop.spark.report.RunReport.CONFUSION_PNG)) {
            assertTrue(javax.imageio.ImageIO.read(report.resolve(png).toFile()) != null, png + " decodes");
        }
        String html = java.nio.file.Files.readString(report.resolve(io.sparkprop.spark.report.RunReport.HTML));
        assertTrue(html.contains("validation accuracy") && html.contains(String.format(java.util.Locale.ROOT, "%.2f%%",
                100 * model.history().get(2).valAccuracy())), "the final validation accuracy is shown");
    }

    @Test
    void badLabelsAndWidthsAreNamed() {
        SparkSession spark = SparkTestSupport.spark();
        StructType schema = new StructType().add("features", new VectorUDT()).add("label", DataTypes.DoubleType);
        Dataset<Row> badLabel = spark.createDataFrame(List.of(RowFactory.create(Vectors.dense(1, 2, 3), 0.0),
                RowFactory.create(Vectors.dense(1, 2, 3), 5.0)), schema).coalesce(1);
        // The task's error, not Spark's wrapper with an executor stack trace: the row, the column, the values.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> classifier().fit(badLabel));
        assertTrue(e.getMessage().startsWith("Row 1 of partition 0, column 'label': expected a class index in [0, 3)"
                + " (the last layer's size) but found 5.0"), e.getMessage());
        Dataset<Row> badWidth = spark.createDataFrame(List.of(RowFactory.create(Vectors.dense(1, 2), 0.0)), schema)
                .coalesce(1);
        IllegalArgumentException w = assertThrows(IllegalArgumentException.class, () -> classifier().fit(badWidth));
        assertTrue(w.getMessage().startsWith("Row 0 of partition 0, column 'features': expected a features vector of"
                + " 3 values"), w.getMessage());
        Dataset<Row> notFinite = spark.createDataFrame(List.of(RowFactory.create(Vectors.dense(1, Double.NaN, 3), 0.0)),
                schema).coalesce(1);
        IllegalArgumentException n = assertThrows(IllegalArgumentException.class, () -> classifier().fit(notFinite));
        assertTrue(n.getMessage().startsWith("Row 0 of partition 0, column 'features': expected finite features but"
                + " found NaN at index 1"), n.getMessage());
        MlpClassificationModel model = classifier().setMaxIter(1).fit(vectors(spark, 30, 2));
        IllegalArgumentException m = assertThrows(IllegalArgumentException.class, () -> model.metrics(badLabel));
        assertTrue(m.getMessage().contains("column 'label'"), m.getMessage());
        IllegalArgumentException noLayers = assertThrows(IllegalArgumentException.class,
                () -> new MlpClassifier().fit(badWidth));
        assertTrue(noLayers.getMessage().contains("needs layers"), noLayers.getMessage());
    }

    @Test
    void dropoutTrainsButNeverPredicts() {
        SparkSession spark = SparkTestSupport.spark();
        Dataset<Row> train = vectors(spark, 300, 1).cache();
        MlpClassificationModel plain = classifier().setMaxIter(3).fit(train);
        MlpClassificationModel dropped = classifier().setMaxIter(3).setDropout(0.5).fit(train);
        assertFalse(java.util.Arrays.equals(plain.weights().toArray(), dropped.weights().toArray()),
                "setDropout takes effect in training");
        assertArrayEquals(dropped.weights().toArray(), classifier().setMaxIter(3).setDropout(0.5).fit(train)
                .weights().toArray(), 0.0, "dropout is seeded: a second fit is bit-identical");
        // No dropout when scoring: transform gives the deterministic forward pass, row by row.
        List<Row> first = dropped.transform(train).select("features", "rawPrediction").collectAsList();
        List<Row> second = dropped.transform(train).select("features", "rawPrediction").collectAsList();
        for (int r = 0; r < first.size(); r++) {
            Vector raw = (Vector) first.get(r).get(1);
            assertArrayEquals(raw.toArray(), ((Vector) second.get(r).get(1)).toArray(), 0.0);
            assertArrayEquals(dropped.predictRaw((Vector) first.get(r).get(0)).toArray(), raw.toArray(), 1e-12);
        }
    }

}
