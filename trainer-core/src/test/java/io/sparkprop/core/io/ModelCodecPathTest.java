package io.sparkprop.core.io;

import io.sparkprop.core.Activation;
import io.sparkprop.core.Loss;
import io.sparkprop.core.NetworkSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelCodecPathTest {

    @TempDir
    Path dir;

    private List<String> listing() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            List<String> names = new ArrayList<>();
            files.forEach(p -> names.add(p.getFileName().toString()));
            names.sort(null);
            return names;
        }
    }

    /** A 1.6 MB model whose parameters are all {@code value}, so a torn file would be visible. */
    private static Model filled(double value) {
        NetworkSpec spec = NetworkSpec.of(new int[] {400, 500, 2}, Activation.RELU, Activation.SOFTMAX,
                Loss.SOFTMAX_CROSS_ENTROPY);
        double[] params = new double[spec.paramCount()];
        java.util.Arrays.fill(params, value);
        return new Model(spec, params, Map.of(), Map.of("value", Double.toString(value)));
    }

    @Test
    void writesReadsAndLeavesNoTemporaryFile() throws IOException {
        Path path = dir.resolve("model.bin");
        Model model = ModelFiles.small();
        ModelCodec.write(model, path);
        assertEquals(model, ModelCodec.read(path));
        assertArrayEquals(ModelCodec.toBytes(model), Files.readAllBytes(path));
        assertEquals(List.of("model.bin"), listing());
    }

    @Test
    void overwritesAnExistingModel() throws IOException {
        Path path = dir.resolve("model.bin");
        ModelCodec.write(filled(1.0), path);
        ModelCodec.write(ModelFiles.small(), path);
        assertEquals(ModelFiles.small(), ModelCodec.read(path));
        assertEquals(List.of("model.bin"), listing());
    }

    @Test
    void concurrentReaderSeesOnlyCompleteOldOrNewFiles() throws Exception {
        Path path = dir.resolve("model.bin");
        Model one = filled(1.0);
        Model two = filled(2.0);
        ModelCodec.write(one, path);
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        int[] reads = new int[1];
        Thread reader = new Thread(() -> {
            try {
                while (!done.get()) {
                    Model read = ModelCodec.read(path);
                    if (!read.equals(one) && !read.equals(two)) {
                        throw new AssertionError("read a model that is neither the old nor the new one: " + read);
                    }
                    reads[0]++;
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        reader.start();
        try {
            for (int i = 0; i < 20 && failure.get() == null; i++) {
                ModelCodec.write(i % 2 == 0 ? two : one, path);
            }
        } finally {
            done.set(true);
            reader.join();
        }
        assertNull(failure.get(), () -> "reader failed after " + reads[0] + " reads: " + failure.get());
        assertTrue(reads[0] > 0);
        assertEquals(List.of("model.bin"), listing());
    }

    @Test
    void failedWriteLeavesTheTargetAndNoTemporaryFile() throws IOException {
        // The target is a non-empty directory, so the final rename fails after the temporary file is written.
        Path path = dir.resolve("model.bin");
        Files.createDirectories(path);
        Files.writeString(path.resolve("keep"), "x");
        assertThrows(IOException.class, () -> ModelCodec.write(ModelFiles.small(), path));
        assertEquals(List.of("model.bin"), listing());
        assertEquals("x", Files.readString(path.resolve("keep")));
    }

    @Test
    void readingAMissingFileNamesIt() {
        Path path = dir.resolve("missing.bin");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> ModelCodec.read(path));
        assertTrue(e.getMessage().contains("missing.bin"), e.getMessage());
    }

    @Test
    void formatErrorsFromAFileNameIt() throws IOException {
        Path path = dir.resolve("damaged.bin");
        byte[] bytes = ModelCodec.toBytes(ModelFiles.small());
        bytes[200] ^= 0x40;
        Files.write(path, bytes);
        ChecksumMismatchException e = assertThrows(ChecksumMismatchException.class, () -> ModelCodec.read(path));
        assertTrue(e.getMessage().startsWith("Model file " + path + " is corrupt: stored CRC32C is "), e.getMessage());

        Path text = dir.resolve("notes.txt");
        Files.writeString(text, "hello");
        NotAModelFileException n = assertThrows(NotAModelFileException.class, () -> ModelCodec.read(text));
        assertTrue(n.getMessage().contains(text.toString()) && n.getMessage().contains("\"hello\""), n.getMessage());
    }

    @Test
    void largeRandomModelRoundTripsThroughAFile() throws IOException {
        Path path = dir.resolve("large.bin");
        NetworkSpec spec = NetworkSpec.of(new int[] {300, 200, 100, 10}, Activation.TANH, Activation.SIGMOID,
                Loss.BINARY_CROSS_ENTROPY);
        Model model = new Model(spec, new SplittableRandom(11).doubles(spec.paramCount(), -1, 1).toArray());
        ModelCodec.write(model, path);
        assertEquals(ModelCodec.encodedLength(model), Files.size(path));
        assertEquals(model, ModelCodec.read(path));
    }
}
