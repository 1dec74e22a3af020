package io.sparkprop.spark;

import com.esotericsoftware.kryo.Kryo;
import org.apache.spark.serializer.KryoRegistrator;

/**
 * Registers every class sparkprop ships between JVMs with Kryo, so a cluster can run with
 * {@code spark.kryo.registrationRequired=true} (our tests do). Set
 * {@code spark.kryo.registrator=io.sparkprop.spark.SparkpropKryoRegistrator}.
 *
 * <p>Besides our own classes this registers the Spark SQL schema types that Spark's
 * {@code KryoSerializer} leaves out but Spark itself ships when it reads Parquet (schema
 * inference returns a {@code StructType} as a task result): the column types a Parquet schema
 * can hold and Spark ML's vector and matrix types; and the classes MLlib's evaluators shuffle when
 * they score our models.
 */
public final class SparkpropKryoRegistrator implements KryoRegistrator {

    /** Spark SQL and ML classes in Parquet schemas that Spark 4.1's own registrations miss. */
    private static final String[] SPARK_SCHEMA_CLASSES = {
        "org.apache.spark.sql.types.BooleanType$",
        "org.apache.spark.sql.types.ByteType$",
        "org.apache.spark.sql.types.ShortType$",
        "org.apache.spark.sql.types.FloatType$",
        "org.apache.spark.sql.types.BinaryType$",
        "org.apache.spark.sql.types.TimestampType$",
        "org.apache.spark.sql.types.TimestampNTZType$",
        "org.apache.spark.sql.types.NullType$",
        "org.apache.spark.sql.types.StringType",
        "org.apache.spark.sql.types.CharType",
        "org.apache.spark.sql.types.VarcharType",
        "org.apache.spark.sql.types.ArrayType",
        "org.apache.spark.sql.types.MapType",
        "org.apache.spark.ml.linalg.VectorUDT",
        "org.apache.spark.ml.linalg.MatrixUDT",
        "org.apache.spark.mllib.linalg.VectorUDT",
        "org.apache.spark.mllib.linalg.MatrixUDT",
    };

    /**
     * What MLlib's evaluators and summaries shuffle when they score sparkprop's models (model
     * selection, {@code summary()}, {@code evaluate}), and Spark 4.1's own registrations miss.
     */
    private static final String[] MLLIB_EVALUATION_CLASSES = {
        "org.apache.spark.mllib.evaluation.binary.BinaryLabelCounter",
        "[Lorg.apache.spark.mllib.evaluation.binary.BinaryLabelCounter;",
        // RegressionMetrics' summarizer (the regressor's summary): its buffer and its metric objects.
        "org.apache.spark.ml.stat.SummarizerBuffer",
        "org.apache.spark.ml.stat.SummaryBuilderImpl$ComputeL1$",
        "org.apache.spark.ml.stat.SummaryBuilderImpl$ComputeM2$",
        "org.apache.spark.ml.stat.SummaryBuilderImpl$ComputeM2n$",
        "org.apache.spark.ml.stat.SummaryBuilderImpl$ComputeMax$",
        "org.apache.spark.ml.stat.SummaryBuilderImpl$ComputeMean$",
        "org.apache.spark.ml.stat.SummaryBuilderImpl$ComputeMin$",
        "org.apache.spark.ml.stat.SummaryBuilderImpl$ComputeNNZ$",
        "org.apache.spark.ml.stat.SummaryBuilderImpl$ComputeWeightSum$",
        "org.apache.spark.ml.stat.SummaryBuilderImpl$Count$",
        "org.apache.spark.ml.stat.SummaryBuilderImpl$Max$",
        "org.apache.spark.ml.stat.SummaryBuilderImpl$Mean$",
        "org.apache.spark.ml.stat.SummaryBuilderImpl$Min$",
        "org.apache.spark.ml.stat.SummaryBuilderImpl$NormL1$",
        "org.apache.spark.ml.stat.SummaryBuilderImpl$NormL2$",
        "org.apache.spark.ml.stat.SummaryBuilderImpl$NumNonZeros$",
        "org.apache.spark.ml.stat.SummaryBuilderImpl$Std$",
        "org.apache.spark.ml.stat.SummaryBuilderImpl$Sum$",
        "org.apache.spark.ml.stat.SummaryBuilderImpl$Variance$",
    };

    @Override
    public void registerClasses(Kryo kryo) {
        kryo.register(byte[].class);
        kryo.register(double[].class);
        kryo.register(double[][].class);
        kryo.register(int[].class);
        kryo.register(long[].class);
        kryo.register(long[][].class);
        kryo.register(Object[].class);
        kryo.register(io.sparkprop.core.DataBlock.class);
        kryo.register(io.sparkprop.core.GradientAccumulator.class);
        kryo.register(io.sparkprop.core.TouchedRows.class);
        kryo.register(io.sparkprop.core.RowSparseSums.class);
        kryo.register(io.sparkprop.core.IndexedRows.class);
        kryo.register(io.sparkprop.core.EvaluationSums.class);
        for (Class<?> type : io.sparkprop.spark.train.DistributedTrainer.kryoClasses()) {
            kryo.register(type);
        }
        for (Class<?> type : io.sparkprop.spark.data.DataLoader.kryoClasses()) {
            kryo.register(type);
        }
        for (String name : concat(SPARK_SCHEMA_CLASSES, MLLIB_EVALUATION_CLASSES)) {
            try {
                kryo.register(Class.forName(name, false, kryo.getClassLoader()));
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException("Spark class " + name + " is missing: sparkprop needs Spark 4.1 with"
                        + " spark-sql and spark-mllib on the classpath", e);
            }
        }
    }

    private static String[] concat(String[] a, String[] b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
