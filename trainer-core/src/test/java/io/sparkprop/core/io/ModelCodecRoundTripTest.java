package io.sparkprop.core.io;

import io.sparkprop.core.Activation;
import io.sparkprop.core.Loss;
import io.sparkprop.core.NetworkSpec;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelCodecRoundTripTest {

    private static final double[] SPECIAL = {
            0.0, -0.0, 1.0, -1.0, Double.MIN_VALUE, -Double.MIN_VALUE, Double.MAX_VALUE, -Double.MAX_VALUE,
            1e-300, -1e-300, Double.MIN_NORMAL, Double.MIN_NORMAL / 3, Double.longBitsToDouble(0x000F_FFFF_FFFF_FFFFL),
            Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NaN,
            Double.longBitsToDouble(0x7FF8_0000_0000_1234L), Math.PI, Math.ulp(1.0),
    };

    /** 6-5(TANH)-4(LEAKY_RELU)-3(SOFTMAX), special values then random doubles of every exponent. */
    private static Model rich() {
        NetworkSpec spec = NetworkSpec.of(new int[] {6, 5, 4, 3},
                List.of(Activation.TANH, Activation.LEAKY_RELU, Activation.SOFTMAX), Loss.SOFTMAX_CROSS_ENTROPY);
        double[] params = new double[spec.paramCount()];
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < params.length; i++) {
            params[i] = i < SPECIAL.length ? SPECIAL[i] : Double.longBitsToDouble(random.nextLong());
        }
        Map<String, double[]> arrays = new LinkedHashMap<>();
        arrays.put("scaling.mean", new double[] {0.5, -0.0, 1e-300, 3, 4, 5});
        arrays.put("scaling.std", new double[] {1, 2, Double.MIN_VALUE, 4, 5, 6});
        arrays.put("empty", new double[0]);
        arrays.put("μ σ ∑ 😀", new double[] {Double.NaN});
        Map<String, String> metadata = ModelFiles.orderedMetadata(
                "created", "2025-01-02T03:04:05Z",
                "config", "{\"layers\": [6, 5, 4, 3], \"lr\": 0.01}",
                "μ", "ünïcødé 😀 μ",
                "empty", "",
                "a", "z");
        return new Model(spec, params, arrays, metadata);
    }

    private static void assertBitExact(double[] expected, double[] actual) {
        assertEquals(expected.length, actual.length, "length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Double.doubleToRawLongBits(expected[i]), Double.doubleToRawLongBits(actual[i]),
                    "raw bits of element " + i + ": " + expected[i] + " vs " + actual[i]);
        }
    }

    private static void assertSameModel(Model expected, Model actual) {
        assertEquals(expected.spec(), actual.spec());
        assertBitExact(expected.params(), actual.params());
        assertEquals(List.copyOf(expected.arrays().keySet()), List.copyOf(actual.arrays().keySet()));
        for (String name : expected.arrays().keySet()) {
            assertBitExact(expected.array(name), actual.array(name));
        }
        assertEquals(List.copyOf(expected.metadata().entrySet()), List.copyOf(actual.metadata().entrySet()));
        assertEquals(expected, actual);
    }

    @Test
    void roundTripThroughBytesIsBitExact() throws IOException {
        Model model = rich();
        assertSameModel(model, ModelCodec.fromBytes(ModelCodec.toBytes(model)));
    }

    @Test
    void roundTripThroughStreamsIsBitExactAndMatchesToBytes() throws IOException {
        Model model = rich();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ModelCodec.write(model, out);
        byte[] bytes = out.toByteArray();
        assertArrayEquals(ModelCodec.toBytes(model), bytes);
        assertEquals(ModelCodec.encodedLength(model), bytes.length);
        assertSameModel(model, ModelCodec.read(new ByteArrayInputStream(bytes)));
    }

    @Test
    void roundTripOfALargeModelReadOneByteAtATime() throws IOException {
        // 100-300(RELU)-10(SOFTMAX): 33310 params, 266 KB, so both writer and reader go through several chunks.
        NetworkSpec spec = NetworkSpec.of(new int[] {100, 300, 10}, Activation.RELU, Activation.SOFTMAX,
                Loss.SOFTMAX_CROSS_ENTROPY);
        double[] params = new SplittableRandom(7).doubles(spec.paramCount()).toArray();
        Model model = new Model(spec, params, Map.of("x", params), Map.of("big", "v".repeat(100_000)));
        byte[] bytes = ModelCodec.toBytes(model);
        InputStream trickle = new FilterInputStream(new ByteArrayInputStream(bytes)) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return super.read(b, off, Math.min(len, 1));
            }
        };
        assertSameModel(model, ModelCodec.read(trickle));
    }

    @Test
    void longestNameUsesTheFullUnsignedLengthField() throws IOException {
        String name = "a".repeat(Model.MAX_NAME_BYTES);
        Model small = ModelFiles.small();
        Model model = new Model(small.spec(), small.params(), Map.of(name, new double[] {1}),
                Map.of(name, "μ".repeat(70_000)));
        assertSameModel(model, ModelCodec.fromBytes(ModelCodec.toBytes(model)));
    }

    @Test
    void modelWithoutArraysOrMetadataRoundTrips() throws IOException {
        NetworkSpec spec = NetworkSpec.of(new int[] {1, 1}, List.of(Activation.SIGMOID), Loss.BINARY_CROSS_ENTROPY);
        Model model = new Model(spec, new double[] {-0.0, 2.5});
        byte[] bytes = ModelCodec.toBytes(model);
        // 20 header + 4 + 4 + 8 + 4 + 4 + 16 + 4 + 4 + 4
        assertEquals(72, bytes.length);
        assertSameModel(model, ModelCodec.fromBytes(bytes));
    }

    /** Pins the documented layout byte by byte for {@link ModelFiles#small()}; offsets computed by hand. */
    @Test
    void writtenFileMatchesTheDocumentedLayout() {
        byte[] file = ModelCodec.toBytes(ModelFiles.small());
        // 20 header + 4 inputSize + 4 numLayers + 2*8 layers + 4 loss + 4 paramCount + 26*8 params
        // + 4 arrays + (2 + 1 + 4 + 2*8) "m" + 4 metadata + (4 + 1 + 4 + 1) k=v + 4 crc
        assertEquals(305, file.length);
        byte[] expectedStart = {
                0x53, 0x50, 0x52, 0x50, 0x4D, 0x4F, 0x44, 0x4C, // 0: "SPRPMODL"
                0, 0, 0, 1,                                     // 8: version 1
                0, 0, 0, 0, 0, 0, 0x01, 0x31,                   // 12: totalLength 305
                0, 0, 0, 3,                                     // 20: inputSize 3
                0, 0, 0, 2,                                     // 24: numLayers 2
                0, 0, 0, 4, 0, 0, 0, 2,                         // 28: layer 0: 4 units, TANH (2)
                0, 0, 0, 2, 0, 0, 0, 5,                         // 36: layer 1: 2 units, SOFTMAX (5)
                0, 0, 0, 2,                                     // 44: loss SOFTMAX_CROSS_ENTROPY (2)
                0, 0, 0, 26,                                    // 48: paramCount 3*4+4 + 4*2+2
                0, 0, 0, 0, 0, 0, 0, 0,                         // 52: params[0] = 0.0
                0x3F, (byte) 0xE0, 0, 0, 0, 0, 0, 0,            // 60: params[1] = 0.5
        };
        assertArrayEquals(expectedStart, Arrays.copyOf(file, expectedStart.length));
        ByteBuffer buffer = ByteBuffer.wrap(file);
        assertEquals(file.length, buffer.getLong(12), "totalLength is the file length");
        assertEquals(Activation.TANH.code(), buffer.getInt(32));
        assertEquals(Activation.SOFTMAX.code(), buffer.getInt(40));
        assertEquals(Loss.SOFTMAX_CROSS_ENTROPY.code(), buffer.getInt(44));
        assertEquals(12.5, buffer.getDouble(52 + 8 * 25), "last param");
        byte[] expectedTail = {
                0, 0, 0, 1,                                     // 260: one array
                0, 1, 'm',                                      // 264: name length 1, "m"
                0, 0, 0, 2,                                     // 267: length 2
                0x3F, (byte) 0xF0, 0, 0, 0, 0, 0, 0,            // 271: 1.0
                0x40, 0, 0, 0, 0, 0, 0, 0,                      // 279: 2.0
                0, 0, 0, 1,                                     // 287: one metadata entry
                0, 0, 0, 1, 'k',                                // 291: key "k"
                0, 0, 0, 1, 'v',                                // 296: value "v"
        };
        assertArrayEquals(expectedTail, Arrays.copyOfRange(file, 260, 301));
        CRC32C crc = new CRC32C();
        crc.update(file, 0, 301);
        assertEquals((int) crc.getValue(), buffer.getInt(301), "CRC32C of bytes [0, 301)");
    }

    @Test
    void magicConstantIsTheAsciiOfTheFirstBytes() {
        byte[] file = ModelCodec.toBytes(ModelFiles.small());
        assertEquals(ModelCodec.MAGIC, new String(file, 0, 8, StandardCharsets.US_ASCII));
        assertEquals(1, ModelCodec.FORMAT_VERSION);
    }

    @Test
    void parameterChecksumIsCrc32cOfBigEndianParams() throws IOException {
        double[] params = rich().params();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        java.io.DataOutputStream out = new java.io.DataOutputStream(bytes);
        for (double p : params) {
            out.writeLong(Double.doubleToRawLongBits(p));
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes.toByteArray());
        assertEquals(crc.getValue(), ModelCodec.parameterChecksum(params));
        assertEquals(0L, ModelCodec.parameterChecksum(new double[0]));

        // It is the CRC32C of the params as they lie in the file, at offset 36 + 8 * numLayers.
        Model small = ModelFiles.small();
        byte[] file = ModelCodec.toBytes(small);
        CRC32C slice = new CRC32C();
        slice.update(file, 52, 8 * 26);
        assertEquals(slice.getValue(), ModelCodec.parameterChecksum(small.params()));

        double[] large = new SplittableRandom(3).doubles(5000).toArray();
        double[] changed = large.clone();
        changed[4321] = Math.nextUp(changed[4321]);
        assertTrue(ModelCodec.parameterChecksum(large) != ModelCodec.parameterChecksum(changed));
    }
}
