package io.sparkprop.spark.data;

import static io.sparkprop.spark.data.DataTestSupport.assertFails;
import static io.sparkprop.spark.data.DataTestSupport.uri;
import static io.sparkprop.spark.data.DataTestSupport.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.DataBlock;
import io.sparkprop.spark.SparkTestSupport;
import io.sparkprop.spark.data.DataTestSupport.Opts;
import io.sparkprop.spark.data.DataTestSupport.Rows;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The blocks are a function of the files and the partition count: two loads give the same bits
 * in the same order, and 1, 3 and 7 partitions hold the same rows. Also with files cut into many
 * Hadoop splits, where rows are named by byte offset.
 */
class DeterminismTest {

    private static final String SPLIT_MAX = "mapreduce.input.fileinputformat.split.maxsize";

    @TempDir
    Path dir;

    /** Three CSV files of 60 rows each; row i has features (i, i*i mod 97, i/7) and label i mod 5. */
    private Opts csv() {
        for (int f = 0; f < 3; f++) {
            StringBuilder text = new StringBuilder("a,b,c,y\n");
            for (int i = 60 * f; i < 60 * (f + 1); i++) {
                text.append(i).append(',').append(i * i % 97).append(',').append(i / 7.0).append(',').append(i % 5)
                        .append('\n');
            }
            write(dir.resolve("csv/part-" + f + ".csv"), text.toString());
        }
        return new Opts(DataFormat.CSV, dir.resolve("csv").toString(), 5).label("y");
    }

    private static void assertSameBlocks(List<DataBlock> expected, List<DataBlock> actual) {
        assertEquals(expected.size(), actual.size());
        for (int p = 0; p < expected.size(); p++) {
            assertEquals(expected.get(p).rows(), actual.get(p).rows());
            assertArrayEquals(expected.get(p).features(), actual.get(p).features(), 0.0);
            assertArrayEquals(expected.get(p).targets(), actual.get(p).targets(), 0.0);
        }
    }

    @Test
    void sameFilesAndPartitionsGiveIdenticalBlocks() {
        Opts options = csv();
        LoadedData first = options.load(3);
        LoadedData second = options.load(3);
        try {
            List<DataBlock> a = Rows.of(first).blocks();
            List<DataBlock> b = Rows.of(second).blocks();
            assertSameBlocks(a, b);
            for (DataBlock block : a) {
                assertTrue(block.rows() >= 40 && block.rows() <= 80, "unbalanced block of " + block.rows() + " rows");
                for (int r = 1; r < block.rows(); r++) {
                    assertTrue(block.features()[r * 3] > block.features()[(r - 1) * 3], "rows must keep file order");
                }
            }
        } finally {
            first.blocks().unpersist(false);
            second.blocks().unpersist(false);
        }
    }

    @Test
    void partitionCountChangesTheLayoutNotTheRows() {
        Opts options = csv();
        List<String> one = null;
        for (int partitions : new int[] {1, 3, 7}) {
            LoadedData data = options.load(partitions);
            try {
                assertEquals(partitions, data.blocks().getNumPartitions());
                List<String> rows = Rows.of(data).multiset();
                assertEquals(180, rows.size());
                if (one == null) {
                    one = rows;
                } else {
                    assertEquals(one, rows);
                }
            } finally {
                data.blocks().unpersist(false);
            }
        }
    }

    @Test
    void manySplitsPerFileGiveTheSameBlocksAndByteOffsetErrors() {
        Opts options = csv();
        LoadedData whole = options.load(3);
        Configuration conf = SparkTestSupport.spark().sparkContext().hadoopConfiguration();
        String before = conf.get(SPLIT_MAX);
        conf.setLong(SPLIT_MAX, 256);
        try {
            LoadedData split = options.load(3);
            try {
                assertSameBlocks(Rows.of(whole).blocks(), Rows.of(split).blocks());
            } finally {
                split.blocks().unpersist(false);
            }
            StringBuilder text = new StringBuilder("a,b\n");
            for (int i = 0; i < 100; i++) {
                text.append(i).append(",1\n");
            }
            Path bad = write(dir.resolve("bad/big.csv"), text + "1,9\n");
            long offset = text.length();
            assertFails(() -> new Opts(DataFormat.CSV, bad.toString(), 2).label("b").load(2),
                    uri(bad) + " line at byte offset " + offset + ": label column 'b': expected a class label in"
                            + " [0, 2) but found '9'");
        } finally {
            whole.blocks().unpersist(false);
            if (before == null) {
                conf.unset(SPLIT_MAX);
            } else {
                conf.set(SPLIT_MAX, before);
            }
        }
    }

    @Test
    void parquetFilesGiveIdenticalBlocksAcrossLoads() {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 50; i++) {
            text.append(i % 3).append(" 1:").append(i).append(" 4:").append(i % 11).append('\n');
        }
        write(dir.resolve("svm/a.svm"), text.toString());
        SparkTestSupport.spark().read().format("libsvm").load(dir.resolve("svm").toString()).repartition(3)
                .write().parquet(dir.resolve("pq").toString());
        Opts options = new Opts(DataFormat.PARQUET, dir.resolve("pq").toString(), 3).label("label")
                .vector("features");
        LoadedData a = options.load(3);
        LoadedData b = options.load(3);
        LoadedData seven = options.load(7);
        try {
            assertEquals(3, a.sources().size());
            assertEquals(4, a.numFeatures());
            assertSameBlocks(Rows.of(a).blocks(), Rows.of(b).blocks());
            assertEquals(Rows.of(a).multiset(), Rows.of(seven).multiset());
            assertEquals(50, Rows.of(seven).count());
        } finally {
            a.blocks().unpersist(false);
            b.blocks().unpersist(false);
            seven.blocks().unpersist(false);
        }
    }
}
