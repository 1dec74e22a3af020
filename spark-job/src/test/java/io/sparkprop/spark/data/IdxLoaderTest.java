package io.sparkprop.spark.data;

import static io.sparkprop.spark.data.DataTestSupport.assertFails;
import static io.sparkprop.spark.data.DataTestSupport.gzip;
import static io.sparkprop.spark.data.DataTestSupport.idxImages;
import static io.sparkprop.spark.data.DataTestSupport.idxLabels;
import static io.sparkprop.spark.data.DataTestSupport.uri;
import static io.sparkprop.spark.data.DataTestSupport.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.sparkprop.core.DataBlock;
import io.sparkprop.spark.data.DataTestSupport.Opts;
import io.sparkprop.spark.data.DataTestSupport.Rows;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** IDX pairs, plain and gzip: record ranges per partition, pixel and label values, header and length errors. */
class IdxLoaderTest {

    private static final int N = 7;
    private static final int ROWS = 2;
    private static final int COLS = 3;

    @TempDir
    Path dir;

    /** Record i has pixels 10i+1, 10i+2, ... (unique first pixel) and label i mod 4. */
    private static byte[] pixels() {
        byte[] pixels = new byte[N * ROWS * COLS];
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < ROWS * COLS; j++) {
                pixels[i * ROWS * COLS + j] = (byte) (10 * i + j + 1);
            }
        }
        pixels[6 * 6 + 5] = (byte) 255;
        return pixels;
    }

    private static byte[] labels() {
        byte[] labels = new byte[N];
        for (int i = 0; i < N; i++) {
            labels[i] = (byte) (i % 4);
        }
        return labels;
    }

    private Opts idx(Path images, Path labels) {
        return new Opts(DataFormat.IDX, images.toString(), 4).labels(labels.toString());
    }

    private void assertRecords(LoadedData data, int partitions) {
        assertEquals(N, data.rows());
        assertEquals(ROWS * COLS, data.numFeatures());
        List<DataBlock> blocks = Rows.of(data).blocks();
        assertEquals(partitions, blocks.size());
        int record = 0;
        for (int p = 0; p < partitions; p++) {
            DataBlock block = blocks.get(p);
            // partition p holds records [floor(p*7/P), floor((p+1)*7/P)), in order
            assertEquals((p + 1) * N / partitions - p * N / partitions, block.rows());
            assertNull(block.weights());
            for (int r = 0; r < block.rows(); r++, record++) {
                double[] expected = new double[ROWS * COLS];
                for (int j = 0; j < expected.length; j++) {
                    expected[j] = (10 * record + j + 1) / 2.0;
                }
                if (record == 6) {
                    expected[5] = 255 / 2.0;
                }
                double[] target = new double[4];
                target[record % 4] = 1;
                assertArrayEquals(expected, Arrays.copyOfRange(block.features(), r * 6, r * 6 + 6));
                assertArrayEquals(target, Arrays.copyOfRange(block.targets(), r * 4, r * 4 + 4));
            }
        }
        assertEquals(N, record);
    }

    @Test
    void plainPairReadsContiguousRecordRanges() throws Exception {
        Path images = write(dir.resolve("images-idx3-ubyte"), idxImages(2051, N, ROWS, COLS, pixels()));
        Path labels = write(dir.resolve("labels-idx1-ubyte"), idxLabels(2049, N, labels()));
        LoadedData data = idx(images, labels).divisor(2).features(6).load(3);
        try {
            assertRecords(data, 3);
            assertEquals(List.of(uri(images) + " " + Files.size(images), uri(labels) + " " + Files.size(labels)),
                    data.sources());
        } finally {
            data.blocks().unpersist(false);
        }
    }

    @Test
    void gzipIsDetectedByMagicBytesNotTheName() {
        Path images = write(dir.resolve("images.bin"), gzip(idxImages(2051, N, ROWS, COLS, pixels())));
        Path labels = write(dir.resolve("labels.gz"), gzip(idxLabels(2049, N, labels())));
        for (int partitions : new int[] {1, 4, 9}) {
            LoadedData data = idx(images, labels).divisor(2).load(partitions);
            try {
                assertRecords(data, partitions);
            } finally {
                data.blocks().unpersist(false);
            }
        }
    }

    @Test
    void badMagicNamesTheFileAndTheValue() {
        Path images = write(dir.resolve("img"), idxImages(2049, N, ROWS, COLS, pixels()));
        Path labels = write(dir.resolve("lab"), idxLabels(2049, N, labels()));
        assertFails(() -> idx(images, labels).load(2), "IDX images file " + uri(images),
                "expected magic number 2051 (0x00000803) but found 2049 (0x00000801)");
        Path badLabels = write(dir.resolve("lab2"), gzip(idxLabels(7, N, labels())));
        Path goodImages = write(dir.resolve("img2"), idxImages(2051, N, ROWS, COLS, pixels()));
        assertFails(() -> idx(goodImages, badLabels).load(2), "IDX labels file " + uri(badLabels),
                "expected magic number 2049 (0x00000801) but found 7 (0x00000007)");
    }

    @Test
    void truncatedFilesAreNamed() {
        byte[] full = idxImages(2051, N, ROWS, COLS, pixels());
        Path labels = write(dir.resolve("lab"), idxLabels(2049, N, labels()));
        Path plain = write(dir.resolve("img"), Arrays.copyOf(full, full.length - 4));
        assertFails(() -> idx(plain, labels).load(2), "IDX images file " + uri(plain) + " is truncated",
                "expected 58 bytes (a 16-byte header and 7 images of 2x3 pixels) but found 54 bytes");
        Path shortGzip = write(dir.resolve("img.gz"), gzip(Arrays.copyOf(full, full.length - 4)));
        assertFails(() -> idx(shortGzip, labels).load(2), "IDX images file " + uri(shortGzip) + " is truncated",
                "the data ends inside record 6");
        byte[] gz = gzip(full);
        Path cutGzip = write(dir.resolve("cut.gz"), Arrays.copyOf(gz, gz.length - 12));
        assertFails(() -> idx(cutGzip, labels).load(2), "IDX images file " + uri(cutGzip) + " is truncated");
        Path header = write(dir.resolve("head"), Arrays.copyOf(full, 10));
        assertFails(() -> idx(header, labels).load(2), "IDX images file " + uri(header)
                + " is truncated: expected a 16-byte header");
    }

    @Test
    void countsMustMatch() {
        Path images = write(dir.resolve("img"), idxImages(2051, N, ROWS, COLS, pixels()));
        Path labels = write(dir.resolve("lab"), idxLabels(2049, N - 1, Arrays.copyOf(labels(), N - 1)));
        assertFails(() -> idx(images, labels).load(2), "IDX files disagree: images file " + uri(images)
                + " holds 7 images but labels file " + uri(labels) + " holds 6 labels");
        Path other = write(dir.resolve("lab7"), idxLabels(2049, N, labels()));
        assertFails(() -> idx(images, other).features(784).load(2),
                "Expected 784 features (numFeatures) but IDX images file " + uri(images) + " holds images of 2x3 = 6");
    }

    @Test
    void labelsOutOfRangeFailOrAreSkipped() {
        byte[] labels = labels();
        labels[5] = 9;
        Path images = write(dir.resolve("img"), idxImages(2051, N, ROWS, COLS, pixels()));
        Path bad = write(dir.resolve("lab"), gzip(idxLabels(2049, N, labels)));
        assertFails(() -> idx(images, bad).load(3), "IDX labels file " + uri(bad)
                + " record 5: expected a class label in [0, 4) but found 9");
        LoadedData data = idx(images, bad).skip().load(3);
        try {
            assertEquals(6, data.rows());
            assertEquals(1, data.skippedRows());
            Rows rows = Rows.of(data);
            rows.find(0, 41);
            assertEquals(6, rows.count());
            for (double[] row : rows.all()) {
                assertNotEquals(51.0, row[0], "record 5 must be gone");
            }
        } finally {
            data.blocks().unpersist(false);
        }
    }

    @Test
    void missingFileIsNamed() {
        Path images = write(dir.resolve("img"), idxImages(2051, N, ROWS, COLS, pixels()));
        String missing = dir.resolve("no-labels").toString();
        assertFails(() -> new Opts(DataFormat.IDX, images.toString(), 4).labels(missing).load(2),
                "Input path " + missing + " does not exist");
    }
}
