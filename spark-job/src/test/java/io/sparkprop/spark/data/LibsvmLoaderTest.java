package io.sparkprop.spark.data;

import static io.sparkprop.spark.data.DataTestSupport.assertFails;
import static io.sparkprop.spark.data.DataTestSupport.concat;
import static io.sparkprop.spark.data.DataTestSupport.d;
import static io.sparkprop.spark.data.DataTestSupport.gzip;
import static io.sparkprop.spark.data.DataTestSupport.uri;
import static io.sparkprop.spark.data.DataTestSupport.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sparkprop.spark.data.DataTestSupport.Opts;
import io.sparkprop.spark.data.DataTestSupport.Rows;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** LIBSVM through Spark: 1-based sparse rows densified, feature count inference, index errors. */
class LibsvmLoaderTest {

    @TempDir
    Path dir;

    private static final String DATA = """
            1 1:10 3:-2 6:4
            0 2:11

            2 1:12 6:0.5
            1 1:13\t2:1  5:7
            """;

    @Test
    void readsOneBasedSparseRowsAsDenseDividedRows() {
        Path file = write(dir.resolve("train.svm"), DATA);
        LoadedData data = new Opts(DataFormat.LIBSVM, file.toString(), 3).features(6).divisor(2).load(2);
        try {
            assertEquals(4, data.rows());
            assertEquals(6, data.numFeatures());
            Rows rows = Rows.of(data);
            assertArrayEquals(concat(d(5, 0, -1, 0, 0, 2), d(0, 1, 0)), rows.find(0, 5));
            assertArrayEquals(concat(d(0, 5.5, 0, 0, 0, 0), d(1, 0, 0)), rows.find(1, 5.5));
            assertArrayEquals(concat(d(6.5, 0.5, 0, 0, 3.5, 0), d(0, 1, 0)), rows.find(0, 6.5));
        } finally {
            data.blocks().unpersist(false);
        }
    }

    @Test
    void featureCountZeroMeansTheLargestIndexInTheData() {
        write(dir.resolve("two/a.svm"), "0 1:1 2:1\n");
        write(dir.resolve("two/b.svm"), "1 9:3\n");
        LoadedData data = new Opts(DataFormat.LIBSVM, dir.resolve("two").toString(), 2).load(3);
        try {
            assertEquals(9, data.numFeatures());
            assertArrayEquals(concat(d(0, 0, 0, 0, 0, 0, 0, 0, 3), d(0, 1)), Rows.of(data).find(8, 3));
        } finally {
            data.blocks().unpersist(false);
        }
    }

    @Test
    void multiLabelListsAndRegressionLabels() {
        Path multi = write(dir.resolve("multi.svm"), "0,2 1:1\n3:2\n1 1:3\n");
        LoadedData labels = new Opts(DataFormat.LIBSVM, multi.toString(), 3).kind(TargetKind.MULTI_LABEL).load(2);
        try {
            Rows rows = Rows.of(labels);
            assertArrayEquals(d(1, 0, 0, 1, 0, 1), rows.find(0, 1));
            assertArrayEquals(d(0, 0, 2, 0, 0, 0), rows.find(2, 2));
            assertArrayEquals(d(3, 0, 0, 0, 1, 0), rows.find(0, 3));
        } finally {
            labels.blocks().unpersist(false);
        }
        Path regression = write(dir.resolve("reg.svm"), "-1.5 1:1\n2.25 1:2\n");
        LoadedData targets = new Opts(DataFormat.LIBSVM, regression.toString(), 1).kind(TargetKind.REGRESSION).load(1);
        try {
            assertArrayEquals(d(2, 2.25), Rows.of(targets).find(0, 2));
        } finally {
            targets.blocks().unpersist(false);
        }
    }

    @Test
    void nonAscendingIndicesAreRejectedWithFileAndLine() {
        Path file = write(dir.resolve("order.svm"), "1 1:1\n0 2:1 4:1 3:1\n");
        assertFails(() -> new Opts(DataFormat.LIBSVM, file.toString(), 2).features(4).load(2),
                uri(file) + " line 2: expected strictly ascending feature indices but found 3 after 4");
    }

    @Test
    void indexBeyondTheFeatureCountIsRejectedAlsoInsideGzip() {
        Path file = write(dir.resolve("wide.svm.gz"),
                gzip("1 1:1\n\n0 2:1 5:1\n".getBytes(StandardCharsets.UTF_8)));
        assertFails(() -> new Opts(DataFormat.LIBSVM, file.toString(), 2).features(4).load(2),
                uri(file) + " line 3: expected a feature index in 1..4 but found 5");
        Path zero = write(dir.resolve("zero.svm"), "1 0:1\n");
        assertFails(() -> new Opts(DataFormat.LIBSVM, zero.toString(), 2).load(2),
                uri(zero) + " line 1: expected a feature index in 1..2147483647 but found 0");
    }

    @Test
    void skipWithInferenceIgnoresBadRows() {
        Path file = write(dir.resolve("skip.svm"), "1 1:1 3:2\n7 9:1\n0 2:x\n0 2:1\n");
        LoadedData data = new Opts(DataFormat.LIBSVM, file.toString(), 2).skip().load(2);
        try {
            assertEquals(3, data.numFeatures());
            assertEquals(2, data.rows());
            assertEquals(2, data.skippedRows());
        } finally {
            data.blocks().unpersist(false);
        }
    }
}
