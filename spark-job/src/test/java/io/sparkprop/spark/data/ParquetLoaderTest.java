package io.sparkprop.spark.data;

import static io.sparkprop.spark.data.DataTestSupport.assertFails;
import static io.sparkprop.spark.data.DataTestSupport.concat;
import static io.sparkprop.spark.data.DataTestSupport.d;
import static io.sparkprop.spark.data.DataTestSupport.uri;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sparkprop.spark.SparkTestSupport;
import io.sparkprop.spark.data.DataTestSupport.Opts;
import io.sparkprop.spark.data.DataTestSupport.Rows;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Parquet through Spark: numeric columns, vector and array columns, weights, and named errors. */
class ParquetLoaderTest {

    @TempDir
    Path dir;

    /** Writes {@code rows} as one Parquet file in {@code name}/ and returns that file. */
    private Path parquet(String name, StructType schema, Row... rows) {
        Path out = dir.resolve(name);
        SparkTestSupport.spark().createDataFrame(List.of(rows), schema).coalesce(1).write().parquet(out.toString());
        try (Stream<Path> files = Files.list(out)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".parquet")).findFirst().orElseThrow();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static final StructType NUMERIC = new StructType()
            .add("x1", DataTypes.DoubleType)
            .add("label", DataTypes.IntegerType)
            .add("x2", DataTypes.FloatType)
            .add("w", DataTypes.DoubleType)
            .add("x3", DataTypes.LongType);

    @Test
    void numericColumnsWithWeightAndDivisor() {
        parquet("num/a b", NUMERIC, RowFactory.create(2.0, 1, 4f, 0.5, 6L), RowFactory.create(8.0, 0, -2f, 2.0, 0L));
        parquet("num/b", NUMERIC, RowFactory.create(10.0, 2, 1f, 0.0, 3L));
        LoadedData data = new Opts(DataFormat.PARQUET, dir.resolve("num/*/*.parquet").toString(), 3).label("label")
                .weight("w").divisor(2).load(2);
        try {
            assertEquals(3, data.rows());
            assertEquals(3, data.numFeatures());
            assertEquals(2, data.sources().size());
            Rows rows = Rows.of(data);
            assertArrayEquals(concat(d(1, 2, 3), d(0, 1, 0), d(0.5)), rows.find(0, 1));
            assertArrayEquals(concat(d(4, -1, 0), d(1, 0, 0), d(2)), rows.find(0, 4));
            assertArrayEquals(concat(d(5, 0.5, 1.5), d(0, 0, 1), d(0)), rows.find(0, 5));
        } finally {
            data.blocks().unpersist(false);
        }
    }

    @Test
    void denseAndSparseVectorFeaturesWithInferredWidth() {
        StructType schema = new StructType().add("features", SQLDataTypes.VectorType()).add("y", DataTypes.LongType);
        parquet("vec", schema,
                RowFactory.create(Vectors.dense(1, 2, 3, 4), 0L),
                RowFactory.create(Vectors.sparse(4, new int[] {1, 3}, new double[] {5, 6}), 1L));
        LoadedData data = new Opts(DataFormat.PARQUET, dir.resolve("vec").toString(), 2).label("y")
                .vector("features").load(2);
        try {
            assertEquals(4, data.numFeatures());
            Rows rows = Rows.of(data);
            assertArrayEquals(concat(d(1, 2, 3, 4), d(1, 0)), rows.find(0, 1));
            assertArrayEquals(concat(d(0, 5, 0, 6), d(0, 1)), rows.find(1, 5));
        } finally {
            data.blocks().unpersist(false);
        }
    }

    @Test
    void arrayFeaturesAndArrayMultiLabels() {
        StructType schema = new StructType()
                .add("f", DataTypes.createArrayType(DataTypes.DoubleType))
                .add("tags", DataTypes.createArrayType(DataTypes.IntegerType));
        parquet("arr", schema,
                RowFactory.create(new Double[] {1.0, 2.0}, new Integer[] {1, 0, 1}),
                RowFactory.create(new Double[] {3.0, 4.0}, new Integer[] {0, 0, 0}));
        LoadedData data = new Opts(DataFormat.PARQUET, dir.resolve("arr").toString(), 3).kind(TargetKind.MULTI_LABEL)
                .label("tags").vector("f").features(2).load(1);
        try {
            Rows rows = Rows.of(data);
            assertArrayEquals(d(1, 2, 1, 0, 1), rows.find(0, 1));
            assertArrayEquals(d(3, 4, 0, 0, 0), rows.find(0, 3));
        } finally {
            data.blocks().unpersist(false);
        }
    }

    @Test
    void badRowNamesTheFileAndRowIndex() {
        Path file = parquet("bad", NUMERIC, RowFactory.create(1.0, 1, 1f, 1.0, 1L),
                RowFactory.create(2.0, 1, 1f, 1.0, 1L), RowFactory.create(Double.NaN, 1, 1f, 1.0, 1L));
        assertFails(() -> new Opts(DataFormat.PARQUET, dir.resolve("bad").toString(), 3).label("label").weight("w")
                .load(2), "Parquet file " + uri(file) + " row 2: column 'x1': expected a finite feature value but found NaN");
        Path labels = parquet("label", NUMERIC, RowFactory.create(1.0, 1, 1f, 1.0, 1L),
                RowFactory.create(2.0, 5, 1f, 1.0, 1L));
        assertFails(() -> new Opts(DataFormat.PARQUET, dir.resolve("label").toString(), 3).label("label").load(2),
                "Parquet file " + uri(labels) + " row 1: label column 'label': expected a class label in [0, 3) but"
                        + " found 5");
        LoadedData skipped = new Opts(DataFormat.PARQUET, dir.resolve("label").toString(), 3).label("label").skip()
                .load(2);
        try {
            assertEquals(1, skipped.rows());
            assertEquals(1, skipped.skippedRows());
        } finally {
            skipped.blocks().unpersist(false);
        }
    }

    @Test
    void missingColumnListsTheAvailableOnes() {
        parquet("cols", NUMERIC, RowFactory.create(1.0, 1, 1f, 1.0, 1L));
        String path = dir.resolve("cols").toString();
        assertFails(() -> new Opts(DataFormat.PARQUET, path, 3).label("target").load(2),
                "Parquet data at " + path + " has no column 'target'; available columns: x1, label, x2, w, x3");
        assertFails(() -> new Opts(DataFormat.PARQUET, path, 3).label("label").columns("x1", "x9").load(2),
                "Parquet data at " + path + " has no feature column 'x9' (the features by name: x1, x9,"
                        + " from data.feature-columns or else the model's recorded sparkprop.feature-columns);"
                        + " available columns: x1, label, x2, w, x3");
        assertFails(() -> new Opts(DataFormat.PARQUET, dir.resolve("none").toString(), 3).label("label").load(2),
                dir.resolve("none") + " does not exist");
    }
}
