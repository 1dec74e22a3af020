package io.sparkprop.spark.data;

import io.sparkprop.core.DataBlock;
import io.sparkprop.spark.data.InputFiles.InputFile;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Reads an IDX pair (MNIST's format: an images file and a labels file) into blocks without a
 * shuffle. The driver reads and checks both headers; partition {@code p} of {@code P} then reads
 * records {@code [⌊p·n/P⌋, ⌊(p+1)·n/P⌋)} of both files itself (seek for a plain file, stream and
 * skip for gzip), so partition sizes differ by at most one record, rows keep the files' record
 * order, and no data passes through the driver or a task closure.
 *
 * <h2>Format</h2>
 * Big-endian. Images: int32 magic 2051 ({@code 0x00000803}: unsigned bytes, 3 dimensions), int32
 * count, int32 rows, int32 cols, then {@code count·rows·cols} unsigned bytes, row-major image by
 * image. Labels: int32 magic 2049 ({@code 0x00000801}), int32 count, then {@code count} unsigned
 * bytes. Either file may be gzip-compressed, detected by its first two bytes ({@code 1f 8b}), not
 * its name. A plain file's length must match its header exactly (checked on the driver); a gzip
 * file that ends early or goes on after the last record fails in the task that reads its end.
 *
 * <h2>Rows</h2>
 * Each image becomes {@code rows·cols} features, pixel / featureDivisor. A label is a class index
 * ({@link TargetKind#CLASS_INDEX}, one-hot, checked to be in {@code [0, numOutputs)}) or the one
 * regression target ({@link TargetKind#REGRESSION} with numOutputs 1). Bad rows are named by
 * their 0-based record index, "record N".
 */
final class IdxReader {

    static final int IMAGES_MAGIC = 0x00000803;
    static final int LABELS_MAGIC = 0x00000801;

    /** Records converted per read, at most about 1 MB of pixels. */
    private static final int CHUNK_BYTES = 1 << 20;

    /** One IDX file's checked header: what a task needs to find and read its records. */
    record IdxFile(String uri, String kind, boolean gzip, int count, int rows, int cols, int headerBytes)
            implements Serializable {

        /** Bytes per record: one image, or one label. */
        int recordBytes() {
            return rows * cols;
        }

        /** Header plus records: the uncompressed file length its header describes. */
        long expectedLength() {
            return headerBytes + (long) count * recordBytes();
        }

        /** "IDX images file file:/x/y" */
        String name() {
            return "IDX " + kind + " file " + uri;
        }
    }

    private IdxReader() {
    }

    /** Checks both files' headers on the driver and describes the partitions' reads. */
    static ReadPlan plan(JavaSparkContext sc, DataOptions options, int partitions) {
        Configuration conf = sc.hadoopConfiguration();
        InputFile imagesFile = InputFiles.single(options.path(), conf);
        InputFile labelsFile = InputFiles.single(options.labelsPath(), conf);
        IdxFile images = header(imagesFile, conf, true);
        IdxFile labels = header(labelsFile, conf, false);
        if (images.count() != labels.count()) {
            throw new IllegalArgumentException("IDX files disagree: images file " + images.uri() + " holds "
                    + images.count() + " images but labels file " + labels.uri() + " holds " + labels.count()
                    + " labels");
        }
        int numFeatures = images.recordBytes();
        if (options.numFeatures() != 0 && options.numFeatures() != numFeatures) {
            throw new IllegalArgumentException("Expected " + options.numFeatures() + " features (numFeatures) but "
                    + images.name() + " holds images of " + images.rows() + "x" + images.cols() + " = " + numFeatures
                    + " pixels");
        }
        TargetKind kind = options.targetKind();
        int numOutputs = options.numOutputs();
        if (kind == TargetKind.MULTI_LABEL || (kind == TargetKind.REGRESSION && numOutputs != 1)) {
            throw new IllegalArgumentException("IDX labels give one value per image: expected target kind class-index,"
                    + " or regression with 1 output, but got " + kind.key() + " with " + numOutputs + " outputs");
        }
        HadoopConf hadoop = HadoopConf.broadcast(sc, conf);
        double divisor = options.featureDivisor();
        BadRowPolicy policy = options.badRows();
        List<Integer> ids = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            ids.add(p);
        }
        JavaRDD<DataBlock> blocks = sc.parallelize(ids, partitions).mapPartitionsWithIndex((p, ignored) ->
                Collections.singletonList(readBlock(hadoop.get(), images, labels, p, partitions, kind, numOutputs,
                        divisor, policy)).iterator(), true);
        JavaRDD<PartitionStats> badRows = sc.parallelize(ids, partitions).mapPartitionsWithIndex((p, ignored) ->
                Collections.singletonList(labelStats(hadoop.get(), labels, p, partitions, kind, numOutputs))
                        .iterator(), true);
        return new ReadPlan(blocks, badRows, numFeatures, List.of(imagesFile, labelsFile));
    }

    /**
     * The images file of {@code options} for scoring (no labels file is read, or needed): one
     * block per partition, partition {@code p} holding records {@code [start(count, p, P),
     * start(count, p + 1, P))} in order, with zero targets; and the checked header, whose count
     * gives each partition's first record.
     */
    static IdxFile scoringHeader(JavaSparkContext sc, DataOptions options) {
        Configuration conf = sc.hadoopConfiguration();
        IdxFile images = header(InputFiles.single(options.path(), conf), conf, true);
        if (options.numFeatures() != 0 && options.numFeatures() != images.recordBytes()) {
            throw new IllegalArgumentException("Expected " + options.numFeatures() + " features (the model's input size)"
                    + " but " + images.name() + " holds images of " + images.rows() + "x" + images.cols() + " = "
                    + images.recordBytes() + " pixels");
        }
        return images;
    }

    /** The blocks of {@link #scoringHeader}'s file: every record, targets zero. */
    static JavaRDD<DataBlock> scoringBlocks(JavaSparkContext sc, IdxFile images, DataOptions options, int partitions) {
        HadoopConf hadoop = HadoopConf.broadcast(sc, sc.hadoopConfiguration());
        double divisor = options.featureDivisor();
        int numOutputs = options.numOutputs();
        List<Integer> ids = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            ids.add(p);
        }
        return sc.parallelize(ids, partitions).mapPartitionsWithIndex((p, ignored) ->
                Collections.singletonList(readBlock(hadoop.get(), images, null, p, partitions, TargetKind.CLASS_INDEX,
                        numOutputs, divisor, BadRowPolicy.FAIL)).iterator(), true);
    }

    /** Reads and checks the header of an images ({@code images}) or labels file. */
    static IdxFile header(InputFile file, Configuration conf, boolean images) {
        String kind = images ? "images" : "labels";
        int headerBytes = images ? 16 : 8;
        int expectedMagic = images ? IMAGES_MAGIC : LABELS_MAGIC;
        String name = "IDX " + kind + " file " + file.uri();
        boolean gzip;
        int magic;
        int count;
        int rows = 1;
        int cols = 1;
        try {
            gzip = isGzip(file.uri(), conf);
            try (InputStream in = open(file.uri(), conf, gzip)) {
                DataInputStream data = new DataInputStream(new BufferedInputStream(in, headerBytes));
                magic = data.readInt();
                if (magic != expectedMagic) {
                    throw new IllegalArgumentException(name + ": expected magic number " + expectedMagic + " (0x"
                            + String.format("%08x", expectedMagic) + ") but found " + magic + " (0x"
                            + String.format("%08x", magic) + ")" + (magic == (images ? LABELS_MAGIC : IMAGES_MAGIC)
                            ? "; are the images and labels files swapped?" : ""));
                }
                count = data.readInt();
                if (images) {
                    rows = data.readInt();
                    cols = data.readInt();
                }
            }
        } catch (EOFException e) {
            throw new IllegalArgumentException(name + " is truncated: expected a " + headerBytes
                    + "-byte header but the file ends inside it", e);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + name + ": " + e.getMessage(), e);
        }
        if (count < 0 || rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException(name + ": expected a non-negative count and positive dimensions but"
                    + " found count " + count + (images ? ", rows " + rows + ", cols " + cols : ""));
        }
        if ((long) rows * cols > BlockBuilder.MAX_ARRAY) {
            throw new IllegalArgumentException(name + ": images of " + rows + "x" + cols + " pixels are too large");
        }
        IdxFile idx = new IdxFile(file.uri(), kind, gzip, count, rows, cols, headerBytes);
        if (!gzip && file.size() != idx.expectedLength()) {
            String records = count + (images ? " images of " + rows + "x" + cols + " pixels" : " labels");
            throw new IllegalArgumentException(name + (file.size() < idx.expectedLength() ? " is truncated" : " is too long")
                    + ": expected " + idx.expectedLength() + " bytes (a " + headerBytes + "-byte header and " + records
                    + ") but found " + file.size() + " bytes");
        }
        return idx;
    }

    /**
     * Partition {@code partition}'s block: its record range of both files, label-checked, bad
     * records dropped (SKIP) or failing the task (FAIL). With {@code labels} null (scoring) every
     * image is kept and the targets are zero.
     */
    static DataBlock readBlock(Configuration conf, IdxFile images, IdxFile labels, int partition, int partitions,
                               TargetKind kind, int numOutputs, double divisor, BadRowPolicy policy) {
        long start = start(images.count(), partition, partitions);
        long end = start(images.count(), partition + 1, partitions);
        boolean last = partition == partitions - 1;
        int n = (int) (end - start);
        byte[] labelBytes = labels == null ? null : readRange(conf, labels, start, end, last);
        boolean[] keep = new boolean[n];
        int kept = 0;
        for (int k = 0; k < n; k++) {
            if (labels == null) {
                keep[k] = true;
                kept++;
                continue;
            }
            try {
                label(labelBytes[k], kind, numOutputs);
                keep[k] = true;
                kept++;
            } catch (BadRowException e) {
                if (policy == BadRowPolicy.FAIL) {
                    throw new IllegalArgumentException(labels.name() + " record " + (start + k) + ": " + e.getMessage());
                }
            }
        }
        int numFeatures = images.recordBytes();
        if ((long) kept * numFeatures > BlockBuilder.MAX_ARRAY) {
            throw new IllegalArgumentException("Partition " + partition + " of " + images.name() + " holds " + kept
                    + " images of " + numFeatures + " pixels, more than one Java array holds; use more partitions");
        }
        double[] features = new double[kept * numFeatures];
        double[] targets = new double[kept * numOutputs];
        int row = 0;
        for (int k = 0; k < n; k++) {
            if (keep[k] && labels == null) {
                row++;
            } else if (keep[k]) {
                int label = labelBytes[k] & 0xFF;
                if (kind == TargetKind.CLASS_INDEX) {
                    targets[row * numOutputs + label] = 1.0;
                } else {
                    targets[row] = label;
                }
                row++;
            }
        }
        int chunkRecords = Math.max(1, CHUNK_BYTES / numFeatures);
        byte[] buffer = new byte[Math.min(n, chunkRecords) * numFeatures];
        try (InputStream in = openAt(conf, images, start)) {
            row = 0;
            for (int first = 0; first < n; first += chunkRecords) {
                int records = Math.min(chunkRecords, n - first);
                readFully(in, buffer, records * numFeatures, images, start + first);
                for (int r = 0; r < records; r++) {
                    if (keep[first + r]) {
                        int out = row * numFeatures;
                        int at = r * numFeatures;
                        for (int j = 0; j < numFeatures; j++) {
                            features[out + j] = (buffer[at + j] & 0xFF) / divisor;
                        }
                        row++;
                    }
                }
            }
            if (last) {
                requireEnd(in, images);
            }
        } catch (IOException e) {
            throw readFailure(images, e);
        }
        return new DataBlock(kept, numFeatures, numOutputs, features, targets, null);
    }

    /** Partition {@code partition}'s bad labels and the first reasons (SKIP's second pass reads only labels). */
    static PartitionStats labelStats(Configuration conf, IdxFile labels, int partition, int partitions,
                                     TargetKind kind, int numOutputs) {
        long start = start(labels.count(), partition, partitions);
        long end = start(labels.count(), partition + 1, partitions);
        byte[] labelBytes = readRange(conf, labels, start, end, false);
        long skipped = 0;
        List<String> examples = new ArrayList<>();
        for (int k = 0; k < labelBytes.length; k++) {
            try {
                label(labelBytes[k], kind, numOutputs);
            } catch (BadRowException e) {
                skipped++;
                if (examples.size() < PartitionStats.EXAMPLES) {
                    examples.add(labels.name() + " record " + (start + k) + ": " + e.getMessage());
                }
            }
        }
        return new PartitionStats(skipped, examples.toArray(new String[0]));
    }

    /** First record of partition {@code partition} of {@code partitions} over {@code count} records. */
    static long start(long count, int partition, int partitions) {
        return count * partition / partitions;
    }

    private static void label(byte value, TargetKind kind, int numOutputs) {
        if (kind == TargetKind.CLASS_INDEX) {
            Values.classIndex(value & 0xFF, null, numOutputs);
        }
    }

    private static byte[] readRange(Configuration conf, IdxFile file, long start, long end, boolean last) {
        byte[] bytes = new byte[(int) ((end - start) * file.recordBytes())];
        try (InputStream in = openAt(conf, file, start)) {
            readFully(in, bytes, bytes.length, file, start);
            if (last) {
                requireEnd(in, file);
            }
        } catch (IOException e) {
            throw readFailure(file, e);
        }
        return bytes;
    }

    private static void readFully(InputStream in, byte[] buffer, int length, IdxFile file, long firstRecord)
            throws IOException {
        int got = in.readNBytes(buffer, 0, length);
        if (got < length) {
            throw truncated(file, firstRecord + got / file.recordBytes(), null);
        }
    }

    private static void requireEnd(InputStream in, IdxFile file) throws IOException {
        if (in.read() != -1) {
            throw new IllegalArgumentException(file.name() + " is too long: expected " + file.expectedLength()
                    + " bytes (uncompressed) as its header says, but there is data after record " + (file.count() - 1));
        }
    }

    private static RuntimeException readFailure(IdxFile file, IOException e) {
        if (e instanceof EOFException) {
            return truncated(file, -1, e);
        }
        return new UncheckedIOException("Cannot read " + file.name() + ": " + e.getMessage(), e);
    }

    private static IllegalArgumentException truncated(IdxFile file, long record, IOException cause) {
        return new IllegalArgumentException(file.name() + " is truncated: expected " + file.count() + " records of "
                + file.recordBytes() + " bytes after its " + file.headerBytes() + "-byte header ("
                + file.expectedLength() + " bytes" + (file.gzip() ? " uncompressed" : "") + ") but the data ends "
                + (record >= 0 ? "inside record " + record : "early (" + cause.getMessage() + ")"), cause);
    }

    /** A stream positioned at record {@code record}: seek for a plain file, skip for gzip. */
    private static InputStream openAt(Configuration conf, IdxFile file, long record) throws IOException {
        long offset = file.headerBytes() + record * file.recordBytes();
        InputStream in = open(file.uri(), conf, file.gzip());
        try {
            if (in instanceof FSDataInputStream plain) {
                plain.seek(offset);
            } else {
                in.skipNBytes(offset);
            }
        } catch (EOFException e) {
            in.close();
            throw truncated(file, -1, e);
        } catch (IOException | RuntimeException e) {
            in.close();
            throw e;
        }
        return in;
    }

    private static InputStream open(String uri, Configuration conf, boolean gzip) throws IOException {
        Path path = new Path(uri);
        FSDataInputStream in = path.getFileSystem(conf).open(path);
        if (!gzip) {
            return in;
        }
        try {
            return new GZIPInputStream(in, 1 << 16);
        } catch (IOException | RuntimeException e) {
            in.close();
            throw e;
        }
    }

    private static boolean isGzip(String uri, Configuration conf) throws IOException {
        Path path = new Path(uri);
        try (InputStream in = path.getFileSystem(conf).open(path)) {
            return in.read() == 0x1f && in.read() == 0x8b;
        }
    }
}
