package io.sparkprop.spark.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.DataBlock;
import io.sparkprop.spark.SparkTestSupport;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.function.Executable;

/**
 * Helpers for the data tests: an options builder with the defaults the tests share, writers for
 * small files, and a flat view of loaded blocks. Every file a test reads is written by the test.
 */
final class DataTestSupport {

    private DataTestSupport() {
    }

    /** A mutable builder for {@link DataOptions}; defaults: 0 features (inferred), class index, FAIL, divisor 1. */
    static final class Opts {
        DataFormat format;
        String path;
        String labelsPath;
        int numFeatures;
        TargetKind targetKind = TargetKind.CLASS_INDEX;
        int numOutputs;
        String labelColumn;
        String featuresColumn;
        List<String> featureColumns = List.of();
        String weightColumn;
        boolean csvHeader = true;
        char csvDelimiter = ',';
        BadRowPolicy badRows = BadRowPolicy.FAIL;
        double featureDivisor = 1.0;
        boolean sparse;

        Opts(DataFormat format, String path, int numOutputs) {
            this.format = format;
            this.path = path;
            this.numOutputs = numOutputs;
        }

        Opts labels(String value) {
            labelsPath = value;
            return this;
        }

        Opts features(int value) {
            numFeatures = value;
            return this;
        }

        Opts kind(TargetKind value) {
            targetKind = value;
            return this;
        }

        Opts label(String value) {
            labelColumn = value;
            return this;
        }

        Opts vector(String value) {
            featuresColumn = value;
            return this;
        }

        Opts columns(String... value) {
            featureColumns = List.of(value);
            return this;
        }

        Opts weight(String value) {
            weightColumn = value;
            return this;
        }

        Opts header(boolean value) {
            csvHeader = value;
            return this;
        }

        Opts delimiter(char value) {
            csvDelimiter = value;
            return this;
        }

        Opts skip() {
            badRows = BadRowPolicy.SKIP;
            return this;
        }

        Opts sparse(boolean value) {
            sparse = value;
            return this;
        }

        Opts divisor(double value) {
            featureDivisor = value;
            return this;
        }

        DataOptions build() {
            return new DataOptions(format, path, labelsPath, numFeatures, targetKind, numOutputs, labelColumn,
                    featuresColumn, featureColumns, weightColumn, csvHeader, csvDelimiter, badRows, featureDivisor,
                    sparse);
        }

        LoadedData load(int partitions) {
            return DataLoader.load(SparkTestSupport.spark(), build(), partitions);
        }
    }

    /** All rows of a load, block by block, in block order. */
    record Rows(List<DataBlock> blocks) {

        static Rows of(LoadedData data) {
            List<DataBlock> blocks = data.blocks().collect();
            long total = 0;
            for (DataBlock block : blocks) {
                assertEquals(data.numFeatures(), block.numFeatures());
                total += block.rows();
            }
            assertEquals(data.rows(), total, "LoadedData.rows() must equal the blocks' rows");
            return new Rows(blocks);
        }

        int count() {
            return blocks.stream().mapToInt(DataBlock::rows).sum();
        }

        /** Every row as features ++ targets ++ [weight], in block order. */
        List<double[]> all() {
            List<double[]> rows = new ArrayList<>();
            for (DataBlock b : blocks) {
                for (int r = 0; r < b.rows(); r++) {
                    rows.add(row(b, r));
                }
            }
            return rows;
        }

        /** The row whose feature {@code j} is exactly {@code value}, which must be unique. */
        double[] find(int j, double value) {
            double[] found = null;
            for (DataBlock b : blocks) {
                for (int r = 0; r < b.rows(); r++) {
                    if (b.features()[r * b.numFeatures() + j] == value) {
                        assertTrue(found == null, "feature " + j + " = " + value + " is not unique");
                        found = row(b, r);
                    }
                }
            }
            assertTrue(found != null, "no row with feature " + j + " = " + value);
            return found;
        }

        /** The rows as sorted strings: the multiset, independent of block layout. */
        List<String> multiset() {
            List<String> rows = new ArrayList<>();
            for (double[] row : all()) {
                rows.add(Arrays.toString(row));
            }
            rows.sort(null);
            return rows;
        }

        private static double[] row(DataBlock b, int r) {
            int nf = b.numFeatures();
            int nt = b.numTargets();
            double[] row = new double[nf + nt + (b.weighted() ? 1 : 0)];
            System.arraycopy(b.features(), r * nf, row, 0, nf);
            System.arraycopy(b.targets(), r * nt, row, nf, nt);
            if (b.weighted()) {
                row[nf + nt] = b.weights()[r];
            }
            return row;
        }
    }

    /** Concatenation of arrays, for expected rows. */
    static double[] concat(double[]... parts) {
        int n = 0;
        for (double[] p : parts) {
            n += p.length;
        }
        double[] all = new double[n];
        int at = 0;
        for (double[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }

    static double[] d(double... values) {
        return values;
    }

    static Path write(Path file, String text) {
        try {
            Files.createDirectories(file.getParent());
            return Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path write(Path file, byte[] bytes) {
        try {
            Files.createDirectories(file.getParent());
            return Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] gzip(byte[] bytes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** An IDX images file: magic 2051, count, rows, cols, then the pixels. */
    static byte[] idxImages(int magic, int count, int rows, int cols, byte[] pixels) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(magic);
            out.writeInt(count);
            out.writeInt(rows);
            out.writeInt(cols);
            out.write(pixels);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** An IDX labels file: magic 2049, count, then the labels. */
    static byte[] idxLabels(int magic, int count, byte[] labels) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(magic);
            out.writeInt(count);
            out.write(labels);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** The load fails with an {@link IllegalArgumentException} whose message contains every fragment. */
    static String assertFails(Executable load, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, load);
        String message = e.getMessage();
        for (String fragment : fragments) {
            assertTrue(message.contains(fragment), "expected '" + fragment + "' in: " + message);
        }
        return message;
    }

    /** {@code file:} URI of a local path as Hadoop prints it ({@code file:/tmp/x}). */
    static String uri(Path file) {
        return new org.apache.hadoop.fs.Path(file.toUri()).toString();
    }
}
