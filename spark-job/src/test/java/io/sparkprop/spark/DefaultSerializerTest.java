package io.sparkprop.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.esotericsoftware.kryo.Kryo;
import io.sparkprop.core.DataBlock;
import io.sparkprop.spark.ml.MlpClassificationModel;
import io.sparkprop.spark.ml.MlpClassifier;
import io.sparkprop.spark.report.EvaluationMetrics;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.spark.SparkConf;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.serializer.JavaSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import scala.reflect.ClassTag$;

/**
 * sparkprop under Spark's default (Java) serializer, as a session built the ordinary way uses it
 * (issue 13, item 1). The whole kind: every class sparkprop ships between JVMs is registered with
 * Kryo ({@link SparkpropKryoRegistrator}), so every such class must be Java-serializable too; and
 * the estimator fits, evaluates and transforms in a session with no {@code spark.serializer} set.
 */
class DefaultSerializerTest {

    @Test
    void everyClassRegisteredForKryoIsJavaSerializable() {
        Kryo kryo = new Kryo();
        kryo.setRegistrationRequired(false);
        new SparkpropKryoRegistrator().registerClasses(kryo);
        List<Class<?>> ours = new ArrayList<>();
        for (int id = 0; id < kryo.getNextRegistrationId(); id++) {
            var registration = kryo.getRegistration(id);
            if (registration != null && registration.getType().getName().startsWith("io.sparkprop.")) {
                ours.add(registration.getType());
            }
        }
        assertTrue(ours.size() >= 7, "sparkprop's registered classes: " + ours);
        List<String> notSerializable = ours.stream().filter(c -> !Serializable.class.isAssignableFrom(c))
                .map(Class::getName).collect(Collectors.toList());
        assertEquals(List.of(), notSerializable, "registered for Kryo but not Java-serializable");
    }

    @Test
    void blocksRoundTripThroughJavaSerialization() {
        SerializerInstance java = new JavaSerializer(new SparkConf()).newInstance();
        DataBlock dense = new DataBlock(2, 3, 2, new double[] {1, 2, 3, 4, 5, 6}, new double[] {1, 0, 0, 1},
                new double[] {0.5, 2});
        DataBlock sparse = DataBlock.sparse(2, 3, 2, new int[] {0, 1, 3}, new int[] {2, 0, 1},
                new double[] {7, 8, 9}, new double[] {0, 1, 1, 0}, null);
        for (DataBlock block : List.of(dense, sparse)) {
            DataBlock back = java.deserialize(java.serialize(block, ClassTag$.MODULE$.apply(DataBlock.class)),
                    ClassTag$.MODULE$.apply(DataBlock.class));
            assertEquals(block.rows(), back.rows());
            assertArrayEquals(block.targets(), back.targets());
            assertArrayEquals(block.isSparse() ? block.values() : block.features(),
                    back.isSparse() ? back.values() : back.features());
        }
    }

    @Test
    void theEstimatorFitsEvaluatesAndTransformsInADefaultSession() {
        SparkTestSupport.stopShared();
        SparkSession spark = SparkSession.builder().master("local[2]").appName("default-serializer")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate();
        try {
            assertTrue(!spark.sparkContext().conf().contains("spark.serializer"), "a default session");
            List<Row> rows = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                double a = Math.sin(i * 1.7);
                double b = Math.cos(i * 0.9);
                rows.add(RowFactory.create(Vectors.dense(a, b), a + b > 0 ? 1.0 : 0.0));
            }
            StructType schema = new StructType().add("features", new VectorUDT()).add("label", DataTypes.DoubleType);
            Dataset<Row> df = spark.createDataFrame(rows, schema).repartition(2).cache();
            for (int localSteps : new int[] {64, 1}) {
                MlpClassificationModel model = new MlpClassifier().setLayers(new int[] {2, 8, 2}).setMaxIter(3)
                        .setSeed(1L).setBatchSize(16).setLocalSteps(localSteps).setValidationFraction(0.2).fit(df);
                assertEquals(3, model.history().size());
                EvaluationMetrics metrics = model.metrics(df);
                assertEquals(60, metrics.rows());
                assertEquals(60, model.transform(df).select("prediction").count());
            }
        } finally {
            spark.stop();
        }
    }
}
