package io.sparkprop.spark.checkpoint;

import io.sparkprop.core.optim.OptimizerState;
import io.sparkprop.spark.train.EpochMetrics;
import io.sparkprop.spark.train.TrainingState;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The binary form of a {@link TrainingState} except its weights (those live in the checkpoint's
 * model file), as {@code state.bin}. Big-endian:
 * <pre>
 *   magic "SPRPCKPT" (8 bytes), int32 version (2),
 *   int32 epoch, int32 step, int64 globalStep,
 *   float64 epochObjectiveSum, float64 epochWeightSum, float64 learningRateScale,
 *   int32 consecutiveSkips, int32 rollbacks, float64 elapsedSeconds,
 *   string optimizerKind, int64 optimizerSteps, int32 slotCount, per slot: int32 length, float64[length],
 *   int32 metricsLineCount, per line: string,
 *   int32 bestParamsLength, float64[bestParamsLength]   (version 2; 0 without early stopping),
 *   int32 CRC32C of every preceding byte
 * </pre>
 * where a string is an int32 byte length and UTF-8 bytes, and a metrics line is one completed
 * epoch's {@link EpochMetrics} as the JSON object of a {@code metrics.jsonl} line
 * ({@link EpochMetrics#toJson}, read back by {@link EpochMetrics#fromJson}, so in any key order or
 * spacing). Version 1 files (without the best weights) are still read, with no best weights.
 * Reading checks magic, version, checksum and structure, and throws {@link CheckpointException}
 * naming what is wrong.
 */
final class StateCodec {

    static final byte[] MAGIC = "SPRPCKPT".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 2;

    private StateCodec() {
    }

    /** {@code state} without its params, as bytes: what {@link #write} writes. */
    static byte[] encode(TrainingState state) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            write(state, bytes);
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * Writes {@code state} without its params to {@code out} (not closed), streamed: a wide model's
     * optimizer slots go out in 64 KiB pieces, never as one array of the whole file, so writing a
     * checkpoint needs no memory in proportion to the model and no file is too large for an array.
     */
    static void write(TrainingState state, OutputStream out) throws IOException {
        long size = 8L * state.bestParams().length;
        for (double[] slot : state.optimizer().slots()) {
            size += 8L * slot.length;
        }
        if (size > Integer.MAX_VALUE - (1L << 20)) {
            // Reading a checkpoint decodes its state file from one array: refuse to write one that
            // could not be read back (the run's checkpoint.on-failure then decides).
            throw new IllegalStateException("The training state (optimizer slots of " + state.optimizer().slots()
                    .length + " x " + state.params().length + " values) needs " + size + " bytes, more than a"
                    + " checkpoint's state file can hold to be read back (2 GiB)");
        }
        CRC32C crc = new CRC32C();
        // Flushed at the end, never closed: the caller closes out.
        DataOutputStream data = new DataOutputStream(new java.util.zip.CheckedOutputStream(
                new java.io.BufferedOutputStream(out, 1 << 16), crc));
        data.write(MAGIC);
        data.writeInt(VERSION);
        data.writeInt(state.epoch());
        data.writeInt(state.step());
        data.writeLong(state.globalStep());
        data.writeDouble(state.epochObjectiveSum());
        data.writeDouble(state.epochWeightSum());
        data.writeDouble(state.learningRateScale());
        data.writeInt(state.consecutiveSkips());
        data.writeInt(state.rollbacks());
        data.writeDouble(state.elapsedSeconds());
        writeString(data, state.optimizer().kind());
        data.writeLong(state.optimizer().steps());
        data.writeInt(state.optimizer().slots().length);
        ByteBuffer piece = ByteBuffer.allocate(1 << 16);
        for (double[] slot : state.optimizer().slots()) {
            writeDoubles(data, slot, piece);
        }
        data.writeInt(state.history().size());
        for (EpochMetrics metrics : state.history()) {
            writeString(data, metrics.toJson());
        }
        writeDoubles(data, state.bestParams(), piece);
        data.writeInt((int) crc.getValue()); // the CRC of every byte before it, not of itself
        data.flush();
    }

    /** Writes {@code values.length} then the values (big-endian, as DataOutputStream writes them), a piece at a time. */
    private static void writeDoubles(DataOutputStream out, double[] values, ByteBuffer piece) throws IOException {
        out.writeInt(values.length);
        int perPiece = piece.capacity() / Double.BYTES;
        for (int from = 0; from < values.length; from += perPiece) {
            int n = Math.min(perPiece, values.length - from);
            piece.clear();
            piece.asDoubleBuffer().put(values, from, n);
            out.write(piece.array(), 0, n * Double.BYTES);
        }
    }

    /** The state in {@code bytes}, with {@code params} as its weights; {@code source} names the file in errors. */
    static TrainingState decode(byte[] bytes, double[] params, String source) throws CheckpointException {
        if (bytes.length < MAGIC.length + 8 || !java.util.Arrays.equals(java.util.Arrays.copyOf(bytes, MAGIC.length), MAGIC)) {
            throw new CheckpointException(source + " is not a sparkprop training state (bad magic or too short)");
        }
        ByteBuffer in = ByteBuffer.wrap(bytes);
        in.position(MAGIC.length);
        int version = in.getInt();
        if (version != VERSION && version != 1) {
            throw new CheckpointException(source + " has state format version " + version + "; this build reads version "
                    + VERSION);
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, bytes.length - 4);
        int stored = ByteBuffer.wrap(bytes, bytes.length - 4, 4).getInt();
        if (stored != (int) crc.getValue()) {
            throw new CheckpointException(String.format("%s: checksum mismatch (stored %08x, computed %08x)", source,
                    stored, (int) crc.getValue()));
        }
        try {
            int epoch = in.getInt();
            int step = in.getInt();
            long globalStep = in.getLong();
            double objectiveSum = in.getDouble();
            double weightSum = in.getDouble();
            double lrScale = in.getDouble();
            int skips = in.getInt();
            int rollbacks = in.getInt();
            double elapsed = in.getDouble();
            String kind = readString(in);
            long optimizerSteps = in.getLong();
            int slotCount = in.getInt();
            if (slotCount < 0 || slotCount > 16) {
                throw new CheckpointException(source + ": implausible optimizer slot count " + slotCount);
            }
            double[][] slots = new double[slotCount][];
            for (int i = 0; i < slotCount; i++) {
                int length = in.getInt();
                if (length < 0 || (long) length * Double.BYTES > in.remaining()) {
                    throw new CheckpointException(source + ": optimizer slot " + i + " claims " + length + " values");
                }
                slots[i] = new double[length];
                in.asDoubleBuffer().get(slots[i]);
                in.position(in.position() + length * Double.BYTES);
            }
            int lines = in.getInt();
            if (lines < 0 || lines > in.remaining()) {
                throw new CheckpointException(source + ": implausible metrics line count " + lines);
            }
            List<EpochMetrics> history = new ArrayList<>();
            for (int i = 0; i < lines; i++) {
                String line = readString(in);
                try {
                    history.add(EpochMetrics.fromJson(line));
                } catch (IllegalArgumentException e) {
                    throw new CheckpointException(source + ": metrics line " + (i + 1) + " of " + lines + ": "
                            + e.getMessage(), e);
                }
            }
            double[] bestParams = new double[0];
            if (version >= 2) {
                int length = in.getInt();
                if (length < 0 || (long) length * Double.BYTES > in.remaining() - 4) {
                    throw new CheckpointException(source + ": the best weights claim " + length + " values");
                }
                bestParams = new double[length];
                in.asDoubleBuffer().get(bestParams);
                in.position(in.position() + length * Double.BYTES);
            }
            if (in.remaining() != 4) {
                throw new CheckpointException(source + ": " + (in.remaining() - 4) + " unexpected bytes before the checksum");
            }
            return new TrainingState(epoch, step, globalStep, params, new OptimizerState(kind, optimizerSteps, slots),
                    objectiveSum, weightSum, lrScale, skips, rollbacks, elapsed, history, bestParams);
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            throw new CheckpointException(source + ": malformed training state (" + e + ")", e);
        }
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    private static String readString(ByteBuffer in) throws CheckpointException {
        int length = in.getInt();
        if (length < 0 || length > in.remaining()) {
            throw new CheckpointException("malformed string length " + length);
        }
        byte[] b = new byte[length];
        in.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }
}
