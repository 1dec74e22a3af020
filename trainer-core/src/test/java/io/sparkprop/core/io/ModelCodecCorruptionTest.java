package io.sparkprop.core.io;

import io.sparkprop.core.Activation;
import io.sparkprop.core.Loss;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class ModelCodecCorruptionTest {

    private static final byte[] SMALL = ModelCodec.toBytes(ModelFiles.small());

    /** Reads {@code file} both ways; both must throw the same exception type, which is returned (from the stream read). */
    private static ModelFormatException readFails(byte[] file, String context) {
        ModelFormatException fromBytes = expectFormatException(() -> ModelCodec.fromBytes(file), context + " (fromBytes)");
        ModelFormatException fromStream = expectFormatException(
                () -> ModelCodec.read(new ByteArrayInputStream(file)), context + " (read)");
        assertEquals(fromBytes.getClass(), fromStream.getClass(), context);
        return fromStream;
    }

    private interface Read {
        Model run() throws IOException;
    }

    /** Fails on a returned model or on anything but a ModelFormatException, Errors included. */
    private static ModelFormatException expectFormatException(Read read, String context) {
        Model model;
        try {
            model = read.run();
        } catch (ModelFormatException e) {
            return e;
        } catch (Throwable t) {
            throw new AssertionError(context + ": expected a ModelFormatException but got " + t, t);
        }
        throw new AssertionError(context + ": expected a ModelFormatException but read " + model);
    }

    /** Which exception a flip of {@code mask} at {@code position} of {@link #SMALL} must give. */
    private static Class<? extends ModelFormatException> expectedFor(int position, int mask) {
        if (position < 8) {
            return NotAModelFileException.class;
        }
        if (position < 12) {
            return UnsupportedModelVersionException.class;
        }
        if (position < 20) {
            long length = SMALL.length ^ ((long) mask << (8 * (19 - position)));
            return length > SMALL.length && length <= ModelCodec.MAX_FILE_LENGTH
                    ? TruncatedModelException.class // declares more than there is
                    : ModelFormatException.class;   // trailing data, or an impossible length
        }
        return ChecksumMismatchException.class;
    }

    @Test
    void everySingleBitFlipIsDetectedWithTheExceptionOfItsRegion() {
        for (int position = 0; position < SMALL.length; position++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] file = SMALL.clone();
                file[position] ^= (byte) (1 << bit);
                ModelFormatException e = readFails(file, "bit " + bit + " of byte " + position);
                assertEquals(expectedFor(position, 1 << bit), e.getClass(), "bit " + bit + " of byte " + position
                        + ": " + e.getMessage());
            }
        }
    }

    @Test
    void representativeFlipsInEachRegion() {
        byte[] magic = SMALL.clone();
        magic[3] ^= 0x01;
        ModelFormatException e = readFails(magic, "magic");
        assertInstanceOf(NotAModelFileException.class, e);
        assertTrue(e.getMessage().contains("53 50 52 51 4D 4F 44 4C"), e.getMessage());
        assertTrue(e.getMessage().contains("\"SPRQMODL\""), e.getMessage());

        byte[] version = SMALL.clone();
        version[11] ^= 0x01;
        UnsupportedModelVersionException v = assertInstanceOf(UnsupportedModelVersionException.class,
                readFails(version, "version"));
        assertEquals(0, v.foundVersion());

        byte[] longer = SMALL.clone();
        longer[18] ^= 0x02; // 305 + 512
        TruncatedModelException t = assertInstanceOf(TruncatedModelException.class, readFails(longer, "length"));
        assertEquals(817, t.expectedLength());
        assertEquals(305, t.actualLength());
        assertEquals("Model file truncated: expected 817 bytes but got 305", t.getMessage());

        byte[] shorter = SMALL.clone();
        shorter[19] ^= 0x01; // 304
        e = readFails(shorter, "shorter length");
        assertEquals(ModelFormatException.class, e.getClass());
        assertTrue(e.getMessage().contains("trailing"), e.getMessage());

        byte[] huge = SMALL.clone();
        huge[12] ^= 0x01;
        e = readFails(huge, "huge length");
        assertEquals(ModelFormatException.class, e.getClass());
        assertTrue(e.getMessage().contains("impossible length of " + (305 + (1L << 56))), e.getMessage());

        byte[] negative = SMALL.clone();
        negative[12] ^= (byte) 0x80;
        e = readFails(negative, "negative length");
        assertEquals(ModelFormatException.class, e.getClass());
        assertTrue(e.getMessage().contains("impossible length of -"), e.getMessage());

        byte[] body = SMALL.clone();
        body[100] ^= 0x01;
        ChecksumMismatchException c = assertInstanceOf(ChecksumMismatchException.class, readFails(body, "body"));
        assertEquals(ByteBuffer.wrap(SMALL).getInt(301), c.expectedChecksum());
        assertTrue(c.getMessage().contains(String.format("%08x", c.expectedChecksum())), c.getMessage());
        assertTrue(c.getMessage().contains(String.format("%08x", c.computedChecksum())), c.getMessage());

        byte[] crc = SMALL.clone();
        crc[SMALL.length - 1] ^= 0x01;
        assertInstanceOf(ChecksumMismatchException.class, readFails(crc, "crc"));
    }

    @Test
    void everyTruncationIsDetected() {
        for (int length = 0; length < SMALL.length; length++) {
            ModelFormatException e = readFails(Arrays.copyOf(SMALL, length), "first " + length + " bytes");
            Class<?> expected = length < 8 ? NotAModelFileException.class : TruncatedModelException.class;
            assertEquals(expected, e.getClass(), length + " bytes: " + e.getMessage());
            if (length >= 20) {
                assertEquals("Model file truncated: expected 305 bytes but got " + length, e.getMessage());
            }
        }
    }

    @Test
    void emptyAndForeignDataAreNotModelFiles() {
        ModelFormatException e = readFails(new byte[0], "empty");
        assertInstanceOf(NotAModelFileException.class, e);
        assertTrue(e.getMessage().endsWith("but found no bytes"), e.getMessage());

        e = readFails("PK\u0003\u0004 a zip file".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1), "zip");
        assertInstanceOf(NotAModelFileException.class, e);
        assertTrue(e.getMessage().contains("50 4B 03 04 20 61 20 7A (\"PK.. a z\")"), e.getMessage());
    }

    @Test
    void newerVersionIsRejectedByNumber() {
        byte[] file = SMALL.clone();
        ByteBuffer.wrap(file).putInt(8, 2);
        UnsupportedModelVersionException e = assertInstanceOf(UnsupportedModelVersionException.class,
                readFails(ModelFiles.withCrc(file), "version 2"));
        assertEquals(2, e.foundVersion());
        assertEquals(1, e.supportedVersion());
        assertTrue(e.getMessage().contains("version 2") && e.getMessage().contains("only version 1"), e.getMessage());

        // The version is checked before the length and the rest: a version 2 file may look like anything.
        byte[] headerOnly = Arrays.copyOf(file, 12);
        assertInstanceOf(UnsupportedModelVersionException.class, readFails(headerOnly, "version 2, nothing after"));
        byte[] otherLayout = Arrays.copyOf(file, 64);
        ByteBuffer.wrap(otherLayout).putLong(12, -1L);
        assertInstanceOf(UnsupportedModelVersionException.class, readFails(otherLayout, "version 2, other layout"));
    }

    @Test
    void trailingDataIsRejected() {
        byte[] file = Arrays.copyOf(SMALL, SMALL.length + 1);
        ModelFormatException e = readFails(file, "one trailing zero");
        assertEquals(ModelFormatException.class, e.getClass());

        byte[] twoModels = Arrays.copyOf(SMALL, 2 * SMALL.length);
        System.arraycopy(SMALL, 0, twoModels, SMALL.length, SMALL.length);
        assertEquals(ModelFormatException.class, readFails(twoModels, "two models").getClass());
    }

    @Test
    void hugeDeclaredLengthIsNotAllocatedUpFront() {
        byte[] file = SMALL.clone();
        ByteBuffer.wrap(file).putLong(12, ModelCodec.MAX_FILE_LENGTH);
        TruncatedModelException e = assertInstanceOf(TruncatedModelException.class, readFails(file, "2 GB claimed"));
        assertEquals(ModelCodec.MAX_FILE_LENGTH, e.expectedLength());
        assertEquals(SMALL.length, e.actualLength());

        ByteBuffer.wrap(file).putLong(12, ModelCodec.MAX_FILE_LENGTH + 1);
        assertEquals(ModelFormatException.class, readFails(file, "just over the limit").getClass());
    }

    @Test
    void readsAcrossStreamsThatDeliverDataInPieces() throws IOException {
        InputStream twoParts = new SequenceInputStream(new ByteArrayInputStream(Arrays.copyOf(SMALL, 100)),
                new ByteArrayInputStream(Arrays.copyOfRange(SMALL, 100, SMALL.length)));
        assertEquals(ModelFiles.small(), ModelCodec.read(twoParts));
    }

    @Test
    void sourceIsNamedInMessages() {
        ModelFormatException e = expectFormatException(
                () -> ModelCodec.read(new ByteArrayInputStream(Arrays.copyOf(SMALL, 200)), "hdfs://nn/models/m.bin"),
                "named source");
        assertEquals("Model file hdfs://nn/models/m.bin truncated: expected 305 bytes but got 200", e.getMessage());
    }

    // Structural errors behind a valid checksum: files the codec never writes, built by hand.

    private static ModelFormatException structural(byte[] file, String context, String messagePart) {
        ModelFormatException e = readFails(file, context);
        assertEquals(ModelFormatException.class, e.getClass(), context + ": " + e.getMessage());
        assertTrue(e.getMessage().contains(messagePart), context + ": '" + e.getMessage() + "' should contain '"
                + messagePart + "'");
        return e;
    }

    @Test
    void handBuiltFileOfTheTinyModelReads() throws IOException {
        byte[] file = ModelFiles.tinyPrefix().i32(0).i32(0).finish();
        Model model = ModelCodec.fromBytes(file);
        assertEquals("2-3(RELU)-1(IDENTITY) MSE", model.spec().toString());
        assertEquals(ModelCodec.toBytes(model).length, file.length);
        assertTrue(Arrays.equals(ModelCodec.toBytes(model), file), "writer and the documented layout agree");
    }

    @Test
    void unknownCodesAreRejectedWithTheCause() {
        byte[] activation = new ModelFiles.Builder().topology(2, new int[][] {{3, 9}, {1, 0}}, 0).i32(13)
                .f64(new double[13]).i32(0).i32(0).finish();
        ModelFormatException e = structural(activation, "activation", "layer 0 has an unknown activation code 9");
        assertInstanceOf(IllegalArgumentException.class, e.getCause());

        byte[] loss = new ModelFiles.Builder().topology(2, new int[][] {{3, 3}, {1, 0}}, 7).i32(13)
                .f64(new double[13]).i32(0).i32(0).finish();
        structural(loss, "loss", "unknown loss code 7");
    }

    @Test
    void invalidTopologiesAreRejectedWithTheCause() {
        int softmax = Activation.SOFTMAX.code();
        byte[] hiddenSoftmax = new ModelFiles.Builder().topology(2, new int[][] {{3, softmax}, {1, 0}}, 0).i32(13)
                .f64(new double[13]).i32(0).i32(0).finish();
        ModelFormatException e = structural(hiddenSoftmax, "hidden softmax", "invalid topology");
        assertInstanceOf(IllegalArgumentException.class, e.getCause());

        byte[] lossMismatch = new ModelFiles.Builder().topology(2, new int[][] {{3, 3}, {1, 0}},
                Loss.BINARY_CROSS_ENTROPY.code()).i32(13).f64(new double[13]).i32(0).i32(0).finish();
        structural(lossMismatch, "bce with identity output", "invalid topology");

        byte[] zeroInput = new ModelFiles.Builder().topology(0, new int[][] {{3, 3}}, 0).i32(3)
                .f64(new double[3]).i32(0).i32(0).finish();
        structural(zeroInput, "zero inputs", "layer 0 is invalid");

        byte[] negativeUnits = new ModelFiles.Builder().topology(2, new int[][] {{-3, 3}}, 0).i32(0)
                .i32(0).i32(0).finish();
        structural(negativeUnits, "negative units", "layer 0 is invalid");

        byte[] tooWide = new ModelFiles.Builder().topology(Integer.MAX_VALUE, new int[][] {{Integer.MAX_VALUE, 0}}, 0)
                .i32(0).i32(0).i32(0).finish();
        structural(tooWide, "too many parameters", "layer 0 is invalid");
    }

    @Test
    void countsThatDoNotFitTheFileAreRejectedWithoutAllocating() {
        structural(new ModelFiles.Builder().i32(2).i32(Integer.MAX_VALUE).finish(), "layer count", "layer count 2147483647");
        structural(new ModelFiles.Builder().i32(2).i32(0).i32(0).i32(0).i32(0).finish(), "no layers", "layer count 0");
        structural(new ModelFiles.Builder().i32(2).i32(-1).finish(), "negative layers", "layer count -1");
        structural(new ModelFiles.Builder().topology(2, new int[][] {{3, 3}, {1, 0}}, 0).i32(14)
                .f64(new double[14]).i32(0).i32(0).finish(), "param count", "declares 14 parameters but its topology");
        structural(new ModelFiles.Builder().topology(2, new int[][] {{3, 3}, {1, 0}}, 0).i32(13)
                .f64(new double[12]).finish(), "missing params", "parameters (13 doubles) needs 104 bytes");
        structural(ModelFiles.tinyPrefix().i32(1).i16(1).raw(new byte[] {'a'}).i32(Integer.MAX_VALUE).i32(0).finish(),
                "array length", "array 'a' (2147483647 doubles) needs 17179869176 bytes");
        structural(ModelFiles.tinyPrefix().i32(1).i16(1).raw(new byte[] {'a'}).i32(-5).i32(0).finish(),
                "negative array length", "negative length -5");
        structural(ModelFiles.tinyPrefix().i32(-1).i32(0).finish(), "negative array count", "negative array count -1");
        structural(ModelFiles.tinyPrefix().i32(Integer.MAX_VALUE).i32(0).finish(), "array count",
                "array count 2147483647 does not fit in the remaining 4 bytes");
        structural(ModelFiles.tinyPrefix().i32(1).i16(50).raw(new byte[] {'a', 'b'}).i32(0).finish(), "name cut short",
                "the name of array 0 needs 50 bytes but only 6 remain");
        structural(ModelFiles.tinyPrefix().i32(0).i32(2).i32(0).i32(0).finish(), "metadata count",
                "metadata count 2 does not fit in the remaining 8 bytes");
        structural(ModelFiles.tinyPrefix().i32(1).i16(0xFFFF).i32(0).finish(), "name length", "the name of array 0 needs 65535");
        structural(ModelFiles.tinyPrefix().i32(0).i32(1).i32(Integer.MAX_VALUE).i32(0).finish(), "key length",
                "has 2147483647 bytes, more than the 65535");
        structural(ModelFiles.tinyPrefix().i32(0).i32(1).i32(1).raw(new byte[] {'k'}).i32(Integer.MAX_VALUE).finish(),
                "value length", "the value of metadata 'k' needs 2147483647 bytes");
        structural(ModelFiles.tinyPrefix().i32(0).i32(1).i32(1).raw(new byte[] {'k'}).i32(-1).finish(),
                "negative value length", "negative length -1");
        structural(ModelFiles.tinyPrefix().i32(0).i32(-7).finish(), "negative metadata count", "negative metadata count -7");
        structural(ModelFiles.tinyPrefix().i32(0).i32(0).i32(42).finish(), "extra bytes", "4 unread bytes");
        structural(new ModelFiles.Builder().i32(2).finish(), "body cut short", "layer count needs 4 bytes but only 0 remain");
    }

    @Test
    void badNamesAreRejected() {
        ModelFormatException e = structural(ModelFiles.tinyPrefix().i32(1).i16(1).raw(new byte[] {(byte) 0xFF}).i32(0)
                .i32(0).finish(), "invalid utf-8", "the name of array 0 is not valid UTF-8");
        assertInstanceOf(CharacterCodingException.class, e.getCause());
        // A surrogate encoded on its own (CESU-8 style) is not UTF-8 either.
        structural(ModelFiles.tinyPrefix().i32(0).i32(1).i32(1).raw(new byte[] {'k'}).i32(3)
                .raw(new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}).finish(), "surrogate", "not valid UTF-8");
        structural(ModelFiles.tinyPrefix().i32(2).i16(1).raw(new byte[] {'a'}).i32(0).i16(1).raw(new byte[] {'a'})
                .i32(0).i32(0).finish(), "duplicate array", "array 'a' appears twice");
        structural(ModelFiles.tinyPrefix().i32(0).i32(2).i32(1).raw(new byte[] {'k'}).i32(0).i32(1)
                .raw(new byte[] {'k'}).i32(0).finish(), "duplicate key", "metadata key 'k' appears twice");
        e = structural(ModelFiles.tinyPrefix().i32(1).i16(0).i32(0).i32(0).finish(), "empty name", "Array name must be non-empty");
        assertInstanceOf(IllegalArgumentException.class, e.getCause());
        structural(ModelFiles.tinyPrefix().i32(0).i32(1).i32(0).i32(0).finish(), "empty key", "Metadata key must be non-empty");
    }

    /**
     * Behind a recomputed checksum, every bit flip and random overwrites of the body must either read
     * some model or throw a plain ModelFormatException: no runtime exception, no huge allocation.
     */
    @Test
    void corruptBodiesBehindAValidChecksumNeverEscapeAsOtherExceptions() {
        byte[] rich = ModelCodec.toBytes(new Model(ModelFiles.small().spec(), ModelFiles.small().params(),
                java.util.Map.of("scaling.mean", new double[] {1, 2, 3}), ModelFiles.orderedMetadata("μ", "ü", "k", "")));
        int bodyEnd = rich.length - 4;
        for (int position = 20; position < bodyEnd; position++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] file = rich.clone();
                file[position] ^= (byte) (1 << bit);
                readsOrFailsCleanly(ModelFiles.withCrc(file), "bit " + bit + " of byte " + position);
            }
        }
        SplittableRandom random = new SplittableRandom(2024);
        int[] extremes = {0, -1, 1, Integer.MAX_VALUE, Integer.MIN_VALUE, 0xFFFF, 0x10000};
        for (int trial = 0; trial < 3000; trial++) {
            byte[] file = rich.clone();
            int changes = 1 + random.nextInt(4);
            for (int c = 0; c < changes; c++) {
                int position = 20 + random.nextInt(bodyEnd - 20 - 3);
                if (random.nextBoolean()) {
                    ByteBuffer.wrap(file).putInt(position, extremes[random.nextInt(extremes.length)]);
                } else {
                    file[position] = (byte) random.nextInt(256);
                }
            }
            readsOrFailsCleanly(ModelFiles.withCrc(file), "trial " + trial);
        }
    }

    private static void readsOrFailsCleanly(byte[] file, String context) {
        try {
            ModelCodec.fromBytes(file);
        } catch (ModelFormatException e) {
            assertEquals(ModelFormatException.class, e.getClass(), context + ": " + e.getMessage());
        } catch (Throwable t) {
            fail(context + ": expected a model or a ModelFormatException but got " + t, t);
        }
    }

    @Test
    void exceptionsAreIOExceptions() {
        assertThrows(IOException.class, () -> ModelCodec.fromBytes(new byte[3]));
    }
}
