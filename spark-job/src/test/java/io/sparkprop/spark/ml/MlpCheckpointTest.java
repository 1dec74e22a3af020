package io.sparkprop.spark.ml;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.spark.SparkTestSupport;
import io.sparkprop.spark.checkpoint.CheckpointStore;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The estimators' checkpoints: a fit resumes bit-exactly from the newest, refuses other data, and initialModel. */
class MlpCheckpointTest {

    @TempDir
    Path dir;

    @Test
    void aFitResumesFromItsNewestCheckpointBitExactly() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        Dataset<Row> train = MlpClassifierTest.vectors(spark, 400, 31).repartition(2).cache();
        String checkpoints = dir.resolve("ckpt").toUri().toString();
        MlpClassifier estimator = MlpClassifierTest.classifier().setMaxIter(4).setValidationFraction(0.25)
                .setCheckpointDir(checkpoints);
        MlpClassificationModel whole = estimator.fit(train);
        double[] uninterrupted = MlpClassifierTest.classifier().setMaxIter(4).setValidationFraction(0.25).fit(train)
                .weights().toArray();
        assertArrayEquals(uninterrupted, whole.weights().toArray(), "checkpoints do not change the result");

        // The store keeps the newest 3, the ends of epochs 2, 3 and 4. Keep only epoch 2's, as if
        // the driver had died during epoch 3.
        CheckpointStore store = CheckpointStore.open(checkpoints, new Configuration(), 3);
        List<CheckpointStore.Entry> entries = store.list();
        assertEquals(3, entries.size(), entries.toString());
        FileSystem fs = FileSystem.getLocal(new Configuration());
        long stepsPerEpoch = entries.get(0).globalStep() / 2;
        for (CheckpointStore.Entry e : entries) {
            if (e.globalStep() > 2 * stepsPerEpoch) {
                fs.delete(new org.apache.hadoop.fs.Path(e.uri()), true);
            }
        }
        assertEquals(2 * stepsPerEpoch, store.loadNewest().orElseThrow().state().globalStep());

        MlpClassificationModel resumed = estimator.fit(train);
        assertArrayEquals(uninterrupted, resumed.weights().toArray(), "resumed from epoch 2");
        assertEquals(4, resumed.history().size());
        for (int e = 0; e < 4; e++) {
            assertEquals(whole.history().get(e).trainLoss(), resumed.history().get(e).trainLoss(), "epoch " + (e + 1));
            assertEquals(whole.history().get(e).valLoss(), resumed.history().get(e).valLoss(), "epoch " + (e + 1));
            // Determinism makes a fresh fit end with the same weights; the timings tell that epochs 1
            // and 2 came from the checkpoint and only 3 and 4 ran again.
            assertEquals(e < 2, whole.history().get(e).epochSeconds() == resumed.history().get(e).epochSeconds(),
                    "epoch " + (e + 1) + " taken from the checkpoint");
        }

        // Other data (one label changed) or other layers are refused, naming the directory; the
        // checkpoints stay.
        Dataset<Row> other = MlpClassifierTest.vectors(spark, 400, 32).repartition(2);
        Exception data = assertThrows(IllegalArgumentException.class, () -> estimator.fit(other));
        assertTrue(data.getMessage().contains("other training data") && data.getMessage().contains("checkpointDir"),
                data.getMessage());
        Exception layers = assertThrows(IllegalArgumentException.class,
                () -> estimator.copy(new org.apache.spark.ml.param.ParamMap()).setLayers(new int[] {3, 9, 3})
                        .fit(train));
        assertTrue(layers.getMessage().contains("incompatible config") && layers.getMessage().contains("model.layers"),
                layers.getMessage());
        assertEquals(3, store.list().size());
    }

    @Test
    void initialModelStartsFromASavedModel() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        Dataset<Row> train = MlpClassifierTest.vectors(spark, 300, 33);
        MlpClassificationModel first = MlpClassifierTest.classifier().setMaxIter(2).fit(train);
        String saved = dir.resolve("first").toString();
        first.write().save(saved);
        MlpClassifier more = MlpClassifierTest.classifier().setMaxIter(1);
        double[] fromModel = more.copy(new org.apache.spark.ml.param.ParamMap()).setInitialModel(saved).fit(train)
                .weights().toArray();
        double[] fromWeights = more.copy(new org.apache.spark.ml.param.ParamMap()).setInitialWeights(first.weights())
                .fit(train).weights().toArray();
        assertArrayEquals(fromWeights, fromModel);
        // The model file inside the save path is the command line's format and works as well.
        double[] fromFile = more.copy(new org.apache.spark.ml.param.ParamMap())
                .setInitialModel(saved + "/" + FittedNetwork.MODEL_FILE).fit(train).weights().toArray();
        assertArrayEquals(fromWeights, fromFile);

        IllegalArgumentException layers = assertThrows(IllegalArgumentException.class,
                () -> MlpClassifierTest.classifier().setLayers(new int[] {3, 5, 3}).setInitialModel(saved).fit(train));
        assertTrue(layers.getMessage().contains("has layers [3, 16, 3] but layers is [3, 5, 3]"), layers.getMessage());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> MlpClassifierTest.classifier().setInitialModel(saved + "-nope").fit(train));
        assertTrue(missing.getMessage().contains(saved + "-nope") && missing.getMessage().contains("does not exist"),
                missing.getMessage());
        IllegalArgumentException both = assertThrows(IllegalArgumentException.class,
                () -> MlpClassifierTest.classifier().setInitialModel(saved).setInitialWeights(first.weights())
                        .fit(train));
        assertTrue(both.getMessage().contains("not both"), both.getMessage());
    }
}
