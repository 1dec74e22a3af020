package io.sparkprop.core.io;

import io.sparkprop.core.Activation;
import io.sparkprop.core.Loss;
import io.sparkprop.core.NetworkSpec;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * Test fixtures: small models, and a hand-written encoder of the documented layout (independent of
 * {@link ModelCodec}) for files the codec itself would never write.
 */
final class ModelFiles {

    private ModelFiles() {
    }

    /** 3-4(TANH)-2(SOFTMAX), 26 params {@code i * 0.5}, array "m" = [1, 2], metadata k=v: 305 bytes. */
    static Model small() {
        NetworkSpec spec = NetworkSpec.of(new int[] {3, 4, 2}, List.of(Activation.TANH, Activation.SOFTMAX),
                Loss.SOFTMAX_CROSS_ENTROPY);
        double[] params = new double[spec.paramCount()];
        for (int i = 0; i < params.length; i++) {
            params[i] = i * 0.5;
        }
        return new Model(spec, params, Map.of("m", new double[] {1.0, 2.0}), Map.of("k", "v"));
    }

    /** A copy of {@code file} with its last four bytes replaced by the CRC32C of the rest. */
    static byte[] withCrc(byte[] file) {
        byte[] copy = file.clone();
        CRC32C crc = new CRC32C();
        crc.update(copy, 0, copy.length - 4);
        ByteBuffer.wrap(copy).putInt(copy.length - 4, (int) crc.getValue());
        return copy;
    }

    /**
     * Writes the documented layout field by field with {@link DataOutputStream}; {@link #finish()}
     * patches totalLength and appends the CRC32C.
     */
    static final class Builder {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final DataOutputStream out = new DataOutputStream(bytes);

        Builder() {
            raw(new byte[] {'S', 'P', 'R', 'P', 'M', 'O', 'D', 'L'});
            i32(1);
            i64(0);
        }

        Builder i16(int v) {
            try {
                out.writeShort(v);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return this;
        }

        Builder i32(int v) {
            try {
                out.writeInt(v);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return this;
        }

        Builder i64(long v) {
            try {
                out.writeLong(v);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return this;
        }

        Builder f64(double... values) {
            for (double v : values) {
                i64(Double.doubleToRawLongBits(v));
            }
            return this;
        }

        Builder raw(byte[] b) {
            try {
                out.write(b, 0, b.length);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return this;
        }

        /** Topology header: inputSize, then (numOut, activation code) pairs, then the loss code. */
        Builder topology(int inputSize, int[][] layers, int lossCode) {
            i32(inputSize).i32(layers.length);
            for (int[] layer : layers) {
                i32(layer[0]).i32(layer[1]);
            }
            return i32(lossCode);
        }

        byte[] finish() {
            i32(0);
            byte[] file = bytes.toByteArray();
            ByteBuffer.wrap(file).putLong(12, file.length);
            return withCrc(file);
        }
    }

    /** The 2-3(RELU)-1(IDENTITY) MSE topology as builder layers, with its 13 params. */
    static Builder tinyPrefix() {
        return new Builder().topology(2, new int[][] {{3, Activation.RELU.code()}, {1, Activation.IDENTITY.code()}},
                Loss.MSE.code()).i32(13).f64(new double[13]);
    }

    static Map<String, String> orderedMetadata(String... keyValues) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            map.put(keyValues[i], keyValues[i + 1]);
        }
        return map;
    }
}
