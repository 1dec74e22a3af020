package io.sparkprop.spark.data;

import static io.sparkprop.spark.data.DataTestSupport.idxImages;
import static io.sparkprop.spark.data.DataTestSupport.idxLabels;
import static io.sparkprop.spark.data.DataTestSupport.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.DataBlock;
import io.sparkprop.spark.config.JobConfig;
import io.sparkprop.spark.config.TrainingConfig;
import io.sparkprop.spark.data.DataTestSupport.Opts;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code data.sparse = true}: every format loads into sparse blocks holding exactly the nonzeros
 * of the dense blocks the same load gives without it, row for row and partition for partition.
 */
class SparseLoadingTest {

    @TempDir
    Path dir;

    @Test
    void libsvmKeepsItsNonzerosAndDropsExplicitZeros() {
        Path file = write(dir.resolve("train.svm"), """
                1 1:10 3:-2 6:4
                0 2:11 4:0

                2 1:12 6:0.5
                1 1:13\t2:1  5:7
                0 6:1
                """);
        assertSameRows(new Opts(DataFormat.LIBSVM, file.toString(), 3).features(6).divisor(2), 2);
    }

    @Test
    void csvWithWeightsAndRegressionTargets() {
        StringBuilder text = new StringBuilder("x1,y,x2,x3,w\n");
        for (int i = 0; i < 30; i++) {
            text.append(i % 3 == 0 ? 0 : i).append(',').append(i * 0.5).append(',').append(i % 2 == 0 ? 0 : -i)
                    .append(",0,").append(i / 4.0).append('\n');
        }
        Path file = write(dir.resolve("data.csv"), text.toString());
        assertSameRows(new Opts(DataFormat.CSV, file.toString(), 1).kind(TargetKind.REGRESSION).label("y").weight("w"),
                3);
    }

    @Test
    void idxImagesBecomeSparse() {
        int n = 11;
        byte[] pixels = new byte[n * 4 * 4];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) (i % 3 == 0 ? 7 * i : 0);
        }
        byte[] labels = new byte[n];
        for (int i = 0; i < n; i++) {
            labels[i] = (byte) (i % 4);
        }
        Path images = write(dir.resolve("images-idx3-ubyte"), idxImages(2051, n, 4, 4, pixels));
        Path labelFile = write(dir.resolve("labels-idx1-ubyte"), idxLabels(2049, n, labels));
        assertSameRows(new Opts(DataFormat.IDX, images.toString(), 4).labels(labelFile.toString()).divisor(255), 3);
    }

    @Test
    void parquetDenseAndSparseVectorsWithWeights() {
        org.apache.spark.sql.types.StructType schema = new org.apache.spark.sql.types.StructType()
                .add("features", org.apache.spark.ml.linalg.SQLDataTypes.VectorType())
                .add("y", org.apache.spark.sql.types.DataTypes.LongType)
                .add("w", org.apache.spark.sql.types.DataTypes.DoubleType);
        List<org.apache.spark.sql.Row> rows = new java.util.ArrayList<>();
        for (int i = 0; i < 25; i++) {
            org.apache.spark.ml.linalg.Vector v = i % 2 == 0
                    ? org.apache.spark.ml.linalg.Vectors.dense(i, 0, i % 3 == 0 ? 0 : -i, 0, 0.5)
                    : org.apache.spark.ml.linalg.Vectors.sparse(5, new int[] {1, 3, 4}, new double[] {i, 0, 2});
            rows.add(org.apache.spark.sql.RowFactory.create(v, (long) (i % 3), i / 8.0));
        }
        String out = dir.resolve("vectors").toString();
        io.sparkprop.spark.SparkTestSupport.spark().createDataFrame(rows, schema).coalesce(1).write().parquet(out);
        assertSameRows(new Opts(DataFormat.PARQUET, out, 3).label("y").vector("features").weight("w"), 2);
    }

    @Test
    void standardizationIsRefusedWithSparseBlocksNamingTheKeys() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> TrainingConfig.from(JobConfig.defaults().withOverrides(List.of("model.layers=4,2",
                        "data.sparse=true", "data.scaling=standardize"))));
        assertTrue(e.getMessage().contains("data.scaling") && e.getMessage().contains("data.sparse = true"),
                e.getMessage());
    }

    private static void assertSameRows(Opts options, int partitions) {
        LoadedData dense = options.sparse(false).load(partitions);
        LoadedData sparse = options.sparse(true).load(partitions);
        try {
            List<DataBlock> denseBlocks = dense.blocks().collect();
            List<DataBlock> sparseBlocks = sparse.blocks().collect();
            assertEquals(denseBlocks.size(), sparseBlocks.size());
            assertEquals(dense.rows(), sparse.rows());
            long nonzeros = 0;
            for (int b = 0; b < denseBlocks.size(); b++) {
                DataBlock expected = denseBlocks.get(b).toSparse();
                DataBlock actual = sparseBlocks.get(b);
                assertTrue(actual.isSparse());
                assertEquals(expected.rows(), actual.rows(), "block " + b);
                assertEquals(expected.numFeatures(), actual.numFeatures());
                assertArrayEquals(expected.rowStart(), actual.rowStart(), "block " + b);
                assertArrayEquals(expected.columns(), actual.columns(), "block " + b);
                assertArrayEquals(expected.values(), actual.values(), "block " + b);
                assertArrayEquals(expected.targets(), actual.targets(), "block " + b);
                assertArrayEquals(expected.weights(), actual.weights(), "block " + b);
                nonzeros += actual.values().length;
            }
            assertTrue(nonzeros > 0 && nonzeros < dense.rows() * dense.numFeatures(), nonzeros + " nonzeros");
        } finally {
            dense.blocks().unpersist(false);
            sparse.blocks().unpersist(false);
        }
    }
}
