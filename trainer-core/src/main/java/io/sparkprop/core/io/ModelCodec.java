package io.sparkprop.core.io;

import io.sparkprop.core.Activation;
import io.sparkprop.core.LayerSpec;
import io.sparkprop.core.Loss;
import io.sparkprop.core.NetworkSpec;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.CRC32C;

/**
 * Writes and reads {@link Model}s in the sparkprop model file format, version {@value #FORMAT_VERSION}.
 * It works on plain {@link InputStream}s and {@link OutputStream}s so the Spark job can hand it
 * Hadoop streams; the {@link Path} methods are conveniences for local files. It is not a checkpoint
 * format (no optimizer state) and uses no Java serialization.
 *
 * <h2>Format, version 1</h2>
 * All integers and doubles are big-endian, as {@link java.io.DataOutputStream} writes them; doubles
 * are their raw IEEE 754 bits ({@link Double#doubleToRawLongBits}), so {@code -0.0}, subnormals,
 * infinities and NaN payloads read back with the same bits (only a signalling NaN may be quieted by
 * the JVM on some platforms). Strings are standard UTF-8 (not {@code writeUTF}'s modified UTF-8).
 * Offsets are from the start of the file; {@code L} is the number of layers, {@code P} the number of
 * parameters.
 * <pre>
 * offset       size     field
 * 0            8        magic, the ASCII bytes "SPRPMODL" (53 50 52 50 4D 4F 44 4C)
 * 8            4        int32  formatVersion = 1
 * 12           8        int64  totalLength: bytes in the whole file, this header and the checksum included
 * 20           4        int32  inputSize (numIn of layer 0)
 * 24           4        int32  numLayers L, at least 1
 * 28 + 8k      4        int32  numOut of layer k, for k = 0 .. L-1
 * 32 + 8k      4        int32  activation code of layer k ({@link Activation#code()})
 * 28 + 8L      4        int32  loss code ({@link Loss#code()})
 * 32 + 8L      4        int32  paramCount P, equal to the topology's {@link NetworkSpec#paramCount()}
 * 36 + 8L      8P       float64[P] params, in {@link NetworkSpec}'s flat layout
 * 36 + 8L + 8P 4        int32  number of named arrays, then for each array in order:
 *                         uint16 nameLength, nameLength bytes of UTF-8 name (non-empty),
 *                         int32  length n, n float64 values
 * ...          4        int32  number of metadata entries, then for each entry in order:
 *                         int32  keyLength (1 .. 65535), keyLength bytes of UTF-8 key,
 *                         int32  valueLength (&gt;= 0), valueLength bytes of UTF-8 value
 * totalLength-4 4       int32  CRC32C ({@link CRC32C}) of bytes [0, totalLength - 4), magic included
 * </pre>
 * Array names and metadata keys are unique. Nothing else is in the file: no padding, no bytes
 * between the last metadata entry and the checksum, none after the checksum. A file is at most
 * {@value #MAX_FILE_LENGTH} bytes (it is read into one byte array), which caps a model at about
 * 268 million parameters.
 *
 * <h2>Reading</h2>
 * A reader checks, in this order, and stops at the first failure:
 * <ol>
 *   <li>the magic ({@link NotAModelFileException}, also for data shorter than 8 bytes);</li>
 *   <li>the version, before anything after it is interpreted, since another version may lay the
 *       rest out differently ({@link UnsupportedModelVersionException});</li>
 *   <li>the length: data ending before the 20-byte header is complete or before
 *       {@code totalLength} gives {@link TruncatedModelException}; a {@code totalLength} smaller than
 *       the 24 bytes of header and checksum or larger than {@value #MAX_FILE_LENGTH}, or data going
 *       on after {@code totalLength} bytes, gives {@link ModelFormatException}. The reader never
 *       allocates from an unverified length: it reads in chunks, growing its buffer only as bytes
 *       actually arrive;</li>
 *   <li>the checksum ({@link ChecksumMismatchException});</li>
 *   <li>the body: any count that does not fit in the remaining bytes, an unknown activation or loss
 *       code, a topology {@link NetworkSpec} rejects, a wrong paramCount, malformed UTF-8, a
 *       duplicate name or key, or unread bytes before the checksum give {@link ModelFormatException}
 *       with the underlying error as its cause.</li>
 * </ol>
 * A reader consumes its stream to the end (to detect trailing data) and does not close it; a writer
 * flushes its stream and does not close it.
 */
public final class ModelCodec {

    /** The format version this class writes and the only one it reads. */
    public static final int FORMAT_VERSION = 1;

    /** The first 8 bytes of every model file, as ASCII. */
    public static final String MAGIC = "SPRPMODL";

    /** The largest file this class writes or reads, in bytes: the largest safe Java array. */
    public static final long MAX_FILE_LENGTH = Integer.MAX_VALUE - 8;

    private static final byte[] MAGIC_BYTES = MAGIC.getBytes(StandardCharsets.US_ASCII);
    /** Magic, version and totalLength. */
    private static final int HEADER_LENGTH = 20;
    private static final int CHECKSUM_LENGTH = 4;
    /** Buffer size for streaming writes and the first read chunk. */
    private static final int CHUNK = 1 << 16;

    private ModelCodec() {
    }

    /**
     * Writes {@code model} to {@code out} and flushes it; exactly {@link #encodedLength} bytes. Does
     * not close {@code out}.
     *
     * @throws IllegalArgumentException if the file would be longer than {@value #MAX_FILE_LENGTH} bytes
     */
    public static void write(Model model, OutputStream out) throws IOException {
        Encoding encoding = new Encoding(model);
        Sink sink = new Sink(out);
        encoding.writeTo(sink);
        sink.finish(encoding.totalLength);
    }

    /**
     * The file as a byte array; see {@link #write(Model, OutputStream)}.
     *
     * @throws IllegalArgumentException if the file would be longer than {@value #MAX_FILE_LENGTH} bytes
     */
    public static byte[] toBytes(Model model) {
        Encoding encoding = new Encoding(model);
        ArrayOutputStream out = new ArrayOutputStream((int) encoding.totalLength);
        try {
            Sink sink = new Sink(out);
            encoding.writeTo(sink);
            sink.finish(encoding.totalLength);
        } catch (IOException e) {
            throw new AssertionError("Writing to a byte array cannot fail", e);
        }
        return out.bytes;
    }

    /**
     * Writes {@code model} to {@code path} atomically: to a new temporary file in the same directory,
     * forced to the device, then renamed over {@code path} with {@link StandardCopyOption#ATOMIC_MOVE}.
     * A reader of {@code path} sees the old file or the complete new one, never a mix, and a failed
     * write leaves the old file and no temporary file. The directory entry itself is not forced, so
     * after a crash the path may still hold the old file (but never a partial one). On a file system
     * that cannot rename atomically this fails with
     * {@link java.nio.file.AtomicMoveNotSupportedException} and leaves the old file. The temporary
     * file is named {@code .<name>.<random hex>.tmp} and the new file gets the default permissions of
     * a newly created file.
     */
    public static void write(Model model, Path path) throws IOException {
        Encoding encoding = new Encoding(model);
        Path target = path.toAbsolutePath();
        Path dir = target.getParent();
        if (dir == null) {
            throw new IllegalArgumentException("Model path " + path + " has no parent directory");
        }
        Path temp = dir.resolve("." + target.getFileName() + "."
                + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                Sink sink = new Sink(Channels.newOutputStream(channel));
                encoding.writeTo(sink);
                sink.finish(encoding.totalLength);
                channel.force(true);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException | Error e) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    /**
     * The number of bytes {@code model}'s file has.
     *
     * @throws IllegalArgumentException if that is more than {@value #MAX_FILE_LENGTH}
     */
    public static long encodedLength(Model model) {
        return new Encoding(model).totalLength;
    }

    /** Reads one model that fills {@code in} to its end; see the class comment for the checks. */
    public static Model read(InputStream in) throws IOException {
        return read(in, null);
    }

    /**
     * Like {@link #read(InputStream)}, naming {@code source} (for example the HDFS path) in every
     * error message.
     */
    public static Model read(InputStream in, String source) throws IOException {
        String what = describe(source);
        byte[] header = new byte[HEADER_LENGTH];
        int headerRead = in.readNBytes(header, 0, HEADER_LENGTH);
        long totalLength = checkHeader(header, headerRead, what);
        // totalLength is checked against MAX_FILE_LENGTH but not yet backed by data: grow as data arrives.
        byte[] file = Arrays.copyOf(header, (int) Math.min(totalLength, CHUNK));
        int filled = HEADER_LENGTH;
        while (filled < totalLength) {
            if (filled == file.length) {
                file = Arrays.copyOf(file, (int) Math.min(totalLength, 2L * file.length));
            }
            int n = in.read(file, filled, file.length - filled);
            if (n < 0) {
                throw truncated(what, totalLength, filled);
            }
            filled += n;
        }
        if (in.read() >= 0) {
            throw new ModelFormatException(what + " has trailing data: its header declares " + totalLength
                    + " bytes but the data goes on after them");
        }
        return decode(file, what);
    }

    /** Reads a model from {@code bytes}, which must be exactly one model file. */
    public static Model fromBytes(byte[] bytes) throws ModelFormatException {
        String what = describe(null);
        long totalLength = checkHeader(bytes, Math.min(bytes.length, HEADER_LENGTH), what);
        if (bytes.length < totalLength) {
            throw truncated(what, totalLength, bytes.length);
        }
        if (bytes.length > totalLength) {
            throw new ModelFormatException(what + " has trailing data: its header declares " + totalLength
                    + " bytes but got " + bytes.length);
        }
        return decode(bytes, what);
    }

    /** Reads the model file at {@code path}; error messages name the path. */
    public static Model read(Path path) throws IOException {
        try (InputStream in = Files.newInputStream(path)) {
            return read(in, path.toString());
        }
    }

    /**
     * The CRC32C ({@link CRC32C#getValue()}, 0 .. 2^32-1) of the parameters' big-endian IEEE 754
     * bytes, as they appear in the file: a short fingerprint to compare models by their parameters.
     * It is not the file's checksum, which covers the whole file.
     */
    public static long parameterChecksum(double[] params) {
        CRC32C crc = new CRC32C();
        ByteBuffer buffer = ByteBuffer.allocate(8 * 1024);
        for (int off = 0; off < params.length; ) {
            int n = Math.min(buffer.capacity() / 8, params.length - off);
            buffer.clear();
            buffer.asDoubleBuffer().put(params, off, n);
            crc.update(buffer.array(), 0, 8 * n);
            off += n;
        }
        return crc.getValue();
    }

    private static String describe(String source) {
        return source == null ? "Model file" : "Model file " + source;
    }

    /**
     * Checks magic, version and totalLength in the first {@code available} bytes of {@code header}
     * ({@code available < HEADER_LENGTH} only if the data ended there) and returns totalLength.
     */
    private static long checkHeader(byte[] header, int available, String what) throws ModelFormatException {
        int magicLength = MAGIC_BYTES.length;
        if (available < magicLength || !Arrays.equals(header, 0, magicLength, MAGIC_BYTES, 0, magicLength)) {
            throw new NotAModelFileException(what + " is not a sparkprop model: expected the "
                    + magicLength + "-byte magic \"" + MAGIC + "\" (" + hex(MAGIC_BYTES, magicLength)
                    + ") but found " + (available == 0 ? "no bytes"
                    : hex(header, Math.min(available, magicLength)) + " (\""
                            + ascii(header, Math.min(available, magicLength)) + "\")"));
        }
        if (available < magicLength + 4) {
            throw headerTruncated(what, available);
        }
        ByteBuffer buffer = ByteBuffer.wrap(header, 0, available);
        int version = buffer.getInt(magicLength);
        if (version != FORMAT_VERSION) {
            throw new UnsupportedModelVersionException(what + " has format version " + version
                    + " but this release reads only version " + FORMAT_VERSION
                    + (version > FORMAT_VERSION ? "; it was probably written by a newer release" : ""),
                    version, FORMAT_VERSION);
        }
        if (available < HEADER_LENGTH) {
            throw headerTruncated(what, available);
        }
        long totalLength = buffer.getLong(magicLength + 4);
        if (totalLength < HEADER_LENGTH + CHECKSUM_LENGTH || totalLength > MAX_FILE_LENGTH) {
            throw new ModelFormatException(what + " declares an impossible length of " + totalLength
                    + " bytes; a version " + FORMAT_VERSION + " file has between "
                    + (HEADER_LENGTH + CHECKSUM_LENGTH) + " and " + MAX_FILE_LENGTH + " bytes");
        }
        return totalLength;
    }

    private static TruncatedModelException headerTruncated(String what, int available) {
        return new TruncatedModelException(what + " truncated: expected a header of " + HEADER_LENGTH
                + " bytes but got " + available, HEADER_LENGTH, available);
    }

    private static TruncatedModelException truncated(String what, long expected, long actual) {
        return new TruncatedModelException(what + " truncated: expected " + expected + " bytes but got "
                + actual, expected, actual);
    }

    private static String hex(byte[] bytes, int length) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < length; i++) {
            if (i > 0) {
                sb.append(' ');
            }
            sb.append(String.format("%02X", bytes[i] & 0xFF));
        }
        return sb.toString();
    }

    /** Printable ASCII as itself, anything else as '.'. */
    private static String ascii(byte[] bytes, int length) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < length; i++) {
            int b = bytes[i] & 0xFF;
            sb.append(b >= 0x20 && b < 0x7F ? (char) b : '.');
        }
        return sb.toString();
    }

    /** Checks the checksum of a complete file of {@code file.length} bytes (header already checked), then parses. */
    private static Model decode(byte[] file, String what) throws ModelFormatException {
        int bodyEnd = file.length - CHECKSUM_LENGTH;
        CRC32C crc = new CRC32C();
        crc.update(file, 0, bodyEnd);
        int computed = (int) crc.getValue();
        int expected = ByteBuffer.wrap(file).getInt(bodyEnd);
        if (computed != expected) {
            throw new ChecksumMismatchException(what + " is corrupt: stored CRC32C is "
                    + String.format("%08x", expected) + " but the contents give "
                    + String.format("%08x", computed), expected, computed);
        }
        return new Parser(ByteBuffer.wrap(file, HEADER_LENGTH, bodyEnd - HEADER_LENGTH), file, what).parse();
    }

    /** Reads the body between header and checksum, checking every count against the bytes left. */
    private static final class Parser {
        private final ByteBuffer in;
        private final byte[] file;
        private final String what;

        Parser(ByteBuffer in, byte[] file, String what) {
            this.in = in;
            this.file = file;
            this.what = what;
        }

        Model parse() throws ModelFormatException {
            int inputSize = readInt("input size");
            int numLayers = readInt("layer count");
            if (numLayers < 1 || numLayers > in.remaining() / 8) {
                throw inconsistent("layer count " + numLayers + " is not between 1 and the "
                        + in.remaining() / 8 + " layers the remaining " + in.remaining() + " bytes could hold");
            }
            List<LayerSpec> layers = new ArrayList<>(numLayers);
            int numIn = inputSize;
            for (int k = 0; k < numLayers; k++) {
                int numOut = in.getInt();
                int code = in.getInt();
                Activation activation;
                try {
                    activation = Activation.fromCode(code);
                } catch (IllegalArgumentException e) {
                    throw inconsistent("layer " + k + " has an unknown activation code " + code, e);
                }
                try {
                    layers.add(new LayerSpec(numIn, numOut, activation));
                } catch (IllegalArgumentException e) {
                    throw inconsistent("layer " + k + " is invalid: " + e.getMessage(), e);
                }
                numIn = numOut;
            }
            int lossCode = readInt("loss code");
            Loss loss;
            try {
                loss = Loss.fromCode(lossCode);
            } catch (IllegalArgumentException e) {
                throw inconsistent("unknown loss code " + lossCode, e);
            }
            NetworkSpec spec;
            try {
                spec = new NetworkSpec(layers, loss);
            } catch (IllegalArgumentException e) {
                throw inconsistent("invalid topology: " + e.getMessage(), e);
            }
            int paramCount = readInt("parameter count");
            if (paramCount != spec.paramCount()) {
                throw inconsistent("it declares " + paramCount + " parameters but its topology " + spec
                        + " has " + spec.paramCount());
            }
            double[] params = readDoubles(paramCount, "parameters");

            int numArrays = readInt("array count");
            if (numArrays < 0) {
                throw inconsistent("negative array count " + numArrays);
            }
            if (numArrays > in.remaining() / 6) {
                throw inconsistent("array count " + numArrays + " does not fit in the remaining "
                        + in.remaining() + " bytes (an array takes at least 6)");
            }
            Map<String, double[]> arrays = new LinkedHashMap<>();
            for (int i = 0; i < numArrays; i++) {
                need(2, "the name length of array " + i);
                String name = readString(Short.toUnsignedInt(in.getShort()), "the name of array " + i);
                int length = readInt("the length of array '" + name + "'");
                double[] values = readDoubles(length, "array '" + name + "'");
                if (arrays.put(name, values) != null) {
                    throw inconsistent("array '" + name + "' appears twice");
                }
            }

            int numEntries = readInt("metadata count");
            if (numEntries < 0) {
                throw inconsistent("negative metadata count " + numEntries);
            }
            if (numEntries > in.remaining() / 8) {
                throw inconsistent("metadata count " + numEntries + " does not fit in the remaining "
                        + in.remaining() + " bytes (an entry takes at least 8)");
            }
            Map<String, String> metadata = new LinkedHashMap<>();
            for (int i = 0; i < numEntries; i++) {
                int keyLength = readInt("the key length of metadata entry " + i);
                if (keyLength > Model.MAX_NAME_BYTES) {
                    throw inconsistent("metadata key " + i + " has " + keyLength + " bytes, more than the "
                            + Model.MAX_NAME_BYTES + " allowed");
                }
                String key = readString(keyLength, "the key of metadata entry " + i);
                int valueLength = readInt("the value length of metadata '" + key + "'");
                String value = readString(valueLength, "the value of metadata '" + key + "'");
                if (metadata.put(key, value) != null) {
                    throw inconsistent("metadata key '" + key + "' appears twice");
                }
            }
            if (in.hasRemaining()) {
                throw inconsistent(in.remaining() + " unread bytes between the last metadata entry and the checksum");
            }
            try {
                return new Model(spec, params, arrays, metadata);
            } catch (IllegalArgumentException e) {
                throw inconsistent(e.getMessage(), e);
            }
        }

        private void need(long bytes, String field) throws ModelFormatException {
            if (bytes > in.remaining()) {
                throw inconsistent(field + " needs " + bytes + " bytes but only " + in.remaining()
                        + " remain before the checksum");
            }
        }

        private int readInt(String field) throws ModelFormatException {
            need(4, field);
            return in.getInt();
        }

        private double[] readDoubles(int count, String field) throws ModelFormatException {
            if (count < 0) {
                throw inconsistent(field + " has a negative length " + count);
            }
            need(8L * count, field + " (" + count + " doubles)");
            double[] values = new double[count];
            in.asDoubleBuffer().get(values);
            in.position(in.position() + 8 * count);
            return values;
        }

        private String readString(int length, String field) throws ModelFormatException {
            if (length < 0) {
                throw inconsistent(field + " has a negative length " + length);
            }
            need(length, field);
            int offset = in.position();
            in.position(offset + length);
            try {
                return Utf8.decode(file, offset, length);
            } catch (CharacterCodingException e) {
                throw inconsistent(field + " is not valid UTF-8", e);
            }
        }

        private ModelFormatException inconsistent(String detail) {
            return new ModelFormatException(what + " is inconsistent: " + detail);
        }

        private ModelFormatException inconsistent(String detail, Throwable cause) {
            return new ModelFormatException(what + " is inconsistent: " + detail, cause);
        }
    }

    /** A model's strings encoded and its file length computed, before the first byte is written. */
    private static final class Encoding {
        final Model model;
        final byte[][] arrayNames;
        final byte[][] metadataBytes;
        final long totalLength;

        Encoding(Model model) {
            if (model == null) {
                throw new IllegalArgumentException("Model to write must be given but got null");
            }
            this.model = model;
            NetworkSpec spec = model.spec();
            long length = HEADER_LENGTH + 4 + 4 + 8L * spec.numLayers() + 4 + 4 + 8L * spec.paramCount() + 4;
            Map<String, double[]> arrays = model.arraysView();
            arrayNames = new byte[arrays.size()][];
            int i = 0;
            for (Map.Entry<String, double[]> entry : arrays.entrySet()) {
                arrayNames[i] = Utf8.encode(entry.getKey());
                length += 2 + arrayNames[i].length + 4 + 8L * entry.getValue().length;
                i++;
            }
            length += 4;
            Map<String, String> metadata = model.metadata();
            metadataBytes = new byte[2 * metadata.size()][];
            i = 0;
            for (Map.Entry<String, String> entry : metadata.entrySet()) {
                metadataBytes[i] = Utf8.encode(entry.getKey());
                metadataBytes[i + 1] = Utf8.encode(entry.getValue());
                length += 4 + metadataBytes[i].length + 4 + metadataBytes[i + 1].length;
                i += 2;
            }
            length += CHECKSUM_LENGTH;
            if (length > MAX_FILE_LENGTH) {
                throw new IllegalArgumentException(model + " needs " + length + " bytes in format version "
                        + FORMAT_VERSION + " but a model file holds at most " + MAX_FILE_LENGTH);
            }
            this.totalLength = length;
        }

        /** Everything but the checksum, which {@link Sink#finish} appends. */
        void writeTo(Sink out) throws IOException {
            NetworkSpec spec = model.spec();
            out.putBytes(MAGIC_BYTES);
            out.putInt(FORMAT_VERSION);
            out.putLong(totalLength);
            out.putInt(spec.inputSize());
            out.putInt(spec.numLayers());
            for (LayerSpec layer : spec.layers()) {
                out.putInt(layer.numOut());
                out.putInt(layer.activation().code());
            }
            out.putInt(spec.loss().code());
            out.putInt(spec.paramCount());
            out.putDoubles(model.paramsView());
            out.putInt(arrayNames.length);
            int i = 0;
            for (double[] values : model.arraysView().values()) {
                out.putShort(arrayNames[i].length);
                out.putBytes(arrayNames[i]);
                out.putInt(values.length);
                out.putDoubles(values);
                i++;
            }
            out.putInt(metadataBytes.length / 2);
            for (byte[] bytes : metadataBytes) {
                out.putInt(bytes.length);
                out.putBytes(bytes);
            }
        }
    }

    /** A big-endian buffered writer that keeps the CRC32C and count of what it has written. */
    private static final class Sink {
        private final OutputStream out;
        private final ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
        private final CRC32C crc = new CRC32C();
        private long written;

        Sink(OutputStream out) {
            this.out = out;
        }

        private void room(int bytes) throws IOException {
            if (buffer.remaining() < bytes) {
                drain();
            }
        }

        private void drain() throws IOException {
            int n = buffer.position();
            crc.update(buffer.array(), 0, n);
            out.write(buffer.array(), 0, n);
            written += n;
            buffer.clear();
        }

        void putShort(int value) throws IOException {
            room(2);
            buffer.putShort((short) value);
        }

        void putInt(int value) throws IOException {
            room(4);
            buffer.putInt(value);
        }

        void putLong(long value) throws IOException {
            room(8);
            buffer.putLong(value);
        }

        void putDoubles(double[] values) throws IOException {
            for (int off = 0; off < values.length; ) {
                room(8);
                int n = Math.min(buffer.remaining() / 8, values.length - off);
                buffer.asDoubleBuffer().put(values, off, n);
                buffer.position(buffer.position() + 8 * n);
                off += n;
            }
        }

        void putBytes(byte[] bytes) throws IOException {
            for (int off = 0; off < bytes.length; ) {
                room(1);
                int n = Math.min(buffer.remaining(), bytes.length - off);
                buffer.put(bytes, off, n);
                off += n;
            }
        }

        /** Writes the checksum of everything so far, checks the total and flushes. */
        void finish(long expectedLength) throws IOException {
            drain();
            buffer.putInt((int) crc.getValue());
            out.write(buffer.array(), 0, CHECKSUM_LENGTH);
            written += CHECKSUM_LENGTH;
            buffer.clear();
            if (written != expectedLength) {
                throw new IllegalStateException("Wrote " + written + " bytes but the header declares "
                        + expectedLength);
            }
            out.flush();
        }
    }

    /** An output stream into an array of exactly the final size, so {@link #toBytes} does not copy. */
    private static final class ArrayOutputStream extends OutputStream {
        final byte[] bytes;
        private int position;

        ArrayOutputStream(int size) {
            this.bytes = new byte[size];
        }

        @Override
        public void write(int b) {
            bytes[position++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            System.arraycopy(b, off, bytes, position, len);
            position += len;
        }
    }
}
