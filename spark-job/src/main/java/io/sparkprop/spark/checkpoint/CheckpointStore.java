package io.sparkprop.spark.checkpoint;

import io.sparkprop.core.io.Model;
import io.sparkprop.core.io.ModelCodec;
import io.sparkprop.spark.train.TrainingState;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.zip.CRC32C;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FSError;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checkpoints on any Hadoop file system. Each checkpoint is a directory {@code step-NNNNNNNNNNNN}
 * (the global step, zero-padded so names sort by step) holding:
 * <ul>
 *   <li>{@code model.spm}: the weights as a model ({@link ModelCodec}), usable by {@code evaluate};</li>
 *   <li>{@code state.bin}: the rest of the {@link TrainingState} ({@link StateCodec});</li>
 *   <li>{@code config.conf}: the run's effective config; {@code fingerprint.txt}: the training data's fingerprint;</li>
 *   <li>{@code MANIFEST}, written last: every other file's size and CRC32C, then a CRC32C of the
 *       manifest itself.</li>
 * </ul>
 * Each file is written under a temporary name and renamed into place, the manifest last, so a
 * checkpoint is either complete and verifiable or has no valid manifest and is never loaded; this
 * also holds on stores without atomic rename, where each file is still written once. Loading
 * verifies every size and checksum. Old checkpoints are deleted only after a newer one is
 * complete, and the newest valid one is never deleted.
 *
 * <p>A store that belongs to one estimator fit also holds {@link #RUN_KEY}, the {@link RunKey}
 * that made it ({@link #bind}); it lives in its own subdirectory, so retention never touches
 * another fit's checkpoints.
 *
 * <p>A write that fails (an {@link IOException}, or Hadoop's {@link FSError}: a full disk, a quota)
 * removes its temporary files and the incomplete checkpoint's directory, and throws an
 * {@code IOException} naming the file and the cause; valid checkpoints are never touched. A store
 * {@linkplain #guardedBy guarded} by a {@link WriterClaim} writes only while the claim holds.
 */
public final class CheckpointStore {

    private static final Logger LOG = LoggerFactory.getLogger(CheckpointStore.class);

    public static final String MANIFEST = "MANIFEST";
    public static final String STATE = "state.bin";
    public static final String MODEL = "model.spm";
    public static final String CONFIG = "config.conf";
    public static final String FINGERPRINT = "fingerprint.txt";
    /** The file beside a fit's checkpoints that holds its {@link RunKey}'s text. */
    public static final String RUN_KEY = "run-key.txt";
    private static final String HEADER = "sparkprop-checkpoint 1";

    /**
     * Test hook: a JVM system property naming a global step; writing that step's checkpoint pauses
     * after its data files and before its manifest, and first creates the file {@code PAUSED} in the
     * checkpoint directory, so a test can kill the process mid-write (or fill its disk); the pause
     * ends when {@code PAUSED} is deleted, or after a minute.
     */
    public static final String PAUSE_AT_STEP = "sparkprop.test.pauseInCheckpointAtStep";

    /** A checkpoint's contents: the state, and the model that carries its weights. */
    public record Checkpoint(TrainingState state, Model model, String config, String fingerprint) {
    }

    /** A listed checkpoint and whether it verified. */
    public record Entry(String uri, long globalStep, boolean valid, String problem) {
    }

    /** Object stores, where a rename is a copy: files are written once, in place, and the manifest last. */
    private static final java.util.Set<String> NO_ATOMIC_RENAME = java.util.Set.of("s3a", "s3", "s3n", "gs", "abfs",
            "abfss", "wasb", "wasbs", "oss", "cos", "cosn");

    private final Path root;
    private final FileSystem fs;
    private final int keep;
    private final boolean atomicRename;
    private volatile WriterClaim claim;

    private CheckpointStore(Path root, FileSystem fs, int keep) {
        this.root = root;
        this.fs = fs;
        this.keep = keep;
        String scheme = root.toUri().getScheme();
        this.atomicRename = scheme == null || !NO_ATOMIC_RENAME.contains(scheme.toLowerCase(Locale.ROOT));
    }

    /** The store at {@code uri} (created on first write), keeping {@code keep} checkpoints. */
    public static CheckpointStore open(String uri, Configuration conf, int keep) {
        if (keep < 1) {
            throw new IllegalArgumentException("Must keep at least 1 checkpoint but got " + keep);
        }
        Path root = new Path(uri);
        try {
            FileSystem fs = root.getFileSystem(conf);
            return new CheckpointStore(fs.makeQualified(root), fs, keep);
        } catch (IOException e) {
            throw new IllegalArgumentException("Cannot open checkpoint directory " + uri + ": " + e.getMessage(), e);
        }
    }

    public String uri() {
        return root.toString();
    }

    /** Writes only while {@code claim} (this directory's, or an enclosing run directory's) holds. */
    public CheckpointStore guardedBy(WriterClaim claim) {
        this.claim = claim;
        return this;
    }

    /** Throws if this store is guarded by a claim that is lost ({@link WriterClaim#check}). */
    public void checkClaim() {
        WriterClaim guard = claim;
        if (guard != null) {
            guard.check();
        }
    }

    /**
     * The newest valid checkpoint, for messages: "the newest valid checkpoint is URI (global step
     * N), left intact", or that there is none, or that the store cannot be listed.
     */
    public String newestValid() {
        try {
            List<Entry> entries = list();
            for (int i = entries.size() - 1; i >= 0; i--) {
                if (entries.get(i).valid()) {
                    return "the newest valid checkpoint is " + entries.get(i).uri() + " (global step "
                            + entries.get(i).globalStep() + "), left intact";
                }
            }
            return "there is no valid checkpoint in " + root + " yet";
        } catch (IOException | FSError | RuntimeException e) {
            return "the checkpoints in " + root + " cannot be listed (" + WriteFailure.reason(e) + ")";
        }
    }

    /**
     * Claims this store for the run {@code key}: writes the key's text to {@link #RUN_KEY} (atomically,
     * creating the directory) when there is none, and checks it when there is one.
     *
     * @throws IllegalArgumentException the directory holds another run's key (left intact)
     * @throws IOException              the key cannot be read or written
     */
    public void bind(RunKey key) throws IOException {
        checkClaim();
        Path file = new Path(root, RUN_KEY);
        if (fs.exists(file)) {
            String stored = new String(read(file), StandardCharsets.UTF_8);
            if (!stored.equals(key.text())) {
                throw new IllegalArgumentException("Cannot use " + root + " for this fit: its " + RUN_KEY
                        + " holds another run's key (left intact).\nStored:\n" + stored + "This fit:\n" + key.text());
            }
            return;
        }
        try {
            if (!fs.mkdirs(root)) {
                throw new IOException("Cannot create checkpoint directory " + root);
            }
        } catch (FSError e) {
            throw WriteFailure.of(root, e);
        }
        writeFile(root, RUN_KEY, out -> out.write(key.text().getBytes(StandardCharsets.UTF_8)));
    }

    /** Writes {@code checkpoint} completely, then prunes; returns the checkpoint directory's URI. */
    public String write(Checkpoint checkpoint) throws IOException {
        checkClaim();
        TrainingState state = checkpoint.state();
        Path dir = new Path(root, String.format(Locale.ROOT, "step-%012d", state.globalStep()));
        if (fs.exists(dir) && !fs.delete(dir, true)) {
            throw new IOException("Cannot replace the incomplete checkpoint " + dir);
        }
        try {
            writeComplete(checkpoint, dir);
        } catch (IOException | FSError e) {
            // Without its manifest the directory is not a checkpoint: remove what was written of it.
            try {
                fs.delete(dir, true);
            } catch (IOException | FSError | RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e instanceof IOException io ? io : WriteFailure.of(dir, e);
        }
        prune();
        return dir.toString();
    }

    private void writeComplete(Checkpoint checkpoint, Path dir) throws IOException {
        TrainingState state = checkpoint.state();
        if (!fs.mkdirs(dir)) {
            throw new IOException("Cannot create checkpoint directory " + dir);
        }
        Map<String, Body> files = new LinkedHashMap<>();
        files.put(MODEL, out -> ModelCodec.write(checkpoint.model(), out));
        files.put(STATE, out -> StateCodec.write(state, out));
        files.put(CONFIG, out -> out.write(checkpoint.config().getBytes(StandardCharsets.UTF_8)));
        files.put(FINGERPRINT, out -> out.write(checkpoint.fingerprint().getBytes(StandardCharsets.UTF_8)));
        StringBuilder manifest = new StringBuilder(HEADER).append('\n');
        manifest.append(String.format(Locale.ROOT, "step %d epoch %d position %d%n", state.globalStep(), state.epoch(),
                state.step()));
        for (Map.Entry<String, Body> file : files.entrySet()) {
            Written written = writeFile(dir, file.getKey(), file.getValue());
            manifest.append(String.format(Locale.ROOT, "file %s %d %08x%n", file.getKey(), written.length(),
                    written.crc()));
        }
        pauseIfAsked(dir, state.globalStep());
        byte[] body = manifest.toString().getBytes(StandardCharsets.UTF_8);
        String sealed = manifest + String.format(Locale.ROOT, "crc32c %08x%n", crc(body));
        writeFile(dir, MANIFEST, out -> out.write(sealed.getBytes(StandardCharsets.UTF_8)));
    }

    /** A file's contents, written to a stream (not closed by the body). */
    @FunctionalInterface
    private interface Body {
        void writeTo(java.io.OutputStream out) throws IOException;
    }

    /** What {@link #writeFile} wrote: its length in bytes and CRC32C, as the manifest records them. */
    private record Written(long length, long crc) {
    }

    /**
     * Writes {@code name} whole, streamed (its length and CRC32C counted as it goes); on failure
     * removes its temporary file (and, on the local file system, the checksum file beside it) and
     * throws naming the file and the cause.
     */
    private Written writeFile(Path dir, String name, Body body) throws IOException {
        Path target = new Path(dir, name);
        Path temp = atomicRename ? new Path(dir, "." + name + ".tmp") : target;
        try {
            CRC32C crc = new CRC32C();
            long length;
            try (FSDataOutputStream out = fs.create(temp, true)) {
                java.util.zip.CheckedOutputStream checked = new java.util.zip.CheckedOutputStream(out, crc);
                body.writeTo(checked);
                checked.flush();
                length = out.getPos();
                if (atomicRename) {
                    out.hsync();
                }
            }
            Written written = new Written(length, crc.getValue());
            if (!atomicRename) {
                return written;
            }
            if (fs.exists(target)) {
                fs.delete(target, false);
            }
            if (!fs.rename(temp, target)) {
                throw new IOException("Cannot rename " + temp + " to " + target);
            }
            return written;
        } catch (IOException | FSError e) {
            try {
                fs.delete(temp, false);
            } catch (IOException | FSError | RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw WriteFailure.of(target, e);
        }
    }

    private void pauseIfAsked(Path dir, long globalStep) throws IOException {
        String at = System.getProperty(PAUSE_AT_STEP);
        if (at != null && Long.parseLong(at) == globalStep) {
            Path paused = new Path(dir, "PAUSED");
            fs.create(paused, true).close();
            long deadline = System.nanoTime() + 60_000_000_000L;
            try {
                while (fs.exists(paused) && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Every checkpoint directory, oldest first, each verified. */
    public List<Entry> list() throws IOException {
        List<Entry> entries = new ArrayList<>();
        if (!fs.exists(root)) {
            return entries;
        }
        for (FileStatus status : fs.listStatus(root)) {
            String name = status.getPath().getName();
            if (!status.isDirectory() || !name.matches("step-\\d{12}")) {
                continue;
            }
            long step = Long.parseLong(name.substring(5));
            try {
                verify(status.getPath());
                entries.add(new Entry(status.getPath().toString(), step, true, null));
            } catch (CheckpointException e) {
                entries.add(new Entry(status.getPath().toString(), step, false, e.getMessage()));
            }
        }
        entries.sort(Comparator.comparingLong(Entry::globalStep));
        return entries;
    }

    /** The newest valid checkpoint, warning about each newer one that is skipped as invalid. */
    public Optional<Checkpoint> loadNewest() throws IOException {
        List<Entry> entries = list();
        for (int i = entries.size() - 1; i >= 0; i--) {
            Entry entry = entries.get(i);
            if (!entry.valid()) {
                LOG.warn("Skipping invalid checkpoint {}: {}", entry.uri(), entry.problem());
                continue;
            }
            try {
                return Optional.of(load(entry.uri()));
            } catch (CheckpointException e) {
                LOG.warn("Skipping invalid checkpoint {}: {}", entry.uri(), e.getMessage());
            }
        }
        return Optional.empty();
    }

    /** The checkpoint in directory {@code uri}, verified. */
    public Checkpoint load(String uri) throws IOException {
        Path dir = new Path(uri);
        verify(dir);
        Model model;
        try {
            model = ModelCodec.fromBytes(read(new Path(dir, MODEL)));
        } catch (IOException e) {
            throw new CheckpointException(new Path(dir, MODEL) + ": " + e.getMessage(), e);
        }
        TrainingState state = StateCodec.decode(read(new Path(dir, STATE)), model.params(), new Path(dir, STATE).toString());
        String config = new String(read(new Path(dir, CONFIG)), StandardCharsets.UTF_8);
        String fingerprint = new String(read(new Path(dir, FINGERPRINT)), StandardCharsets.UTF_8);
        return new Checkpoint(state, model, config, fingerprint);
    }

    /** Checks the manifest's own checksum and every listed file's size and checksum. */
    public void verify(Path dir) throws IOException {
        Path manifestPath = new Path(dir, MANIFEST);
        byte[] manifestBytes;
        try {
            manifestBytes = read(manifestPath);
        } catch (FileNotFoundException e) {
            throw new CheckpointException(dir + " has no " + MANIFEST + " (incomplete checkpoint)");
        } catch (IOException e) {
            throw new CheckpointException(manifestPath + " cannot be read: " + e.getMessage(), e);
        }
        String text = new String(manifestBytes, StandardCharsets.UTF_8);
        int last = text.lastIndexOf("crc32c ");
        if (!text.startsWith(HEADER + "\n") || last < 0) {
            throw new CheckpointException(manifestPath + " is malformed");
        }
        String body = text.substring(0, last);
        String expected = text.substring(last + 7).strip();
        String computed = String.format(Locale.ROOT, "%08x", crc(body.getBytes(StandardCharsets.UTF_8)));
        if (!computed.equals(expected)) {
            throw new CheckpointException(manifestPath + ": checksum mismatch (stored " + expected + ", computed "
                    + computed + ")");
        }
        int files = 0;
        for (String line : body.split("\n")) {
            if (!line.startsWith("file ")) {
                continue;
            }
            String[] parts = line.split(" ");
            Path file = new Path(dir, parts[1]);
            long size = Long.parseLong(parts[2]);
            long length = 0;
            CRC32C streamed = new CRC32C();
            // Streamed: a wide model's state file is hundreds of MB, and every write verifies the
            // checkpoints it prunes; reading each whole into memory ran a 4 GB driver out of heap.
            try (InputStream in = fs.open(file)) {
                byte[] buffer = new byte[1 << 16];
                for (int n; (n = in.read(buffer)) > 0; ) {
                    streamed.update(buffer, 0, n);
                    length += n;
                }
            } catch (FileNotFoundException e) {
                throw new CheckpointException(file + " is missing");
            } catch (IOException e) {
                // Includes Hadoop's ChecksumException from the local file system's .crc files.
                throw new CheckpointException(file + " cannot be read: " + e.getMessage(), e);
            }
            if (length != size) {
                throw new CheckpointException(file + " has " + length + " bytes but the manifest says " + size);
            }
            String crc = String.format(Locale.ROOT, "%08x", streamed.getValue());
            if (!crc.equals(parts[3])) {
                throw new CheckpointException(file + ": checksum mismatch (manifest " + parts[3] + ", computed " + crc + ")");
            }
            files++;
        }
        if (files != 4) {
            throw new CheckpointException(manifestPath + " lists " + files + " files; a checkpoint has 4");
        }
    }

    /**
     * Deletes all but the newest {@code keep} valid checkpoints, and invalid ones older than the
     * newest valid one (never the newest valid one itself, never anything newer than it).
     */
    private void prune() throws IOException {
        List<Entry> entries = list();
        int validSeen = 0;
        boolean newestValidSeen = false;
        for (int i = entries.size() - 1; i >= 0; i--) {
            Entry entry = entries.get(i);
            boolean delete;
            if (entry.valid()) {
                validSeen++;
                newestValidSeen = true;
                delete = validSeen > keep;
            } else {
                delete = newestValidSeen;
            }
            if (delete) {
                fs.delete(new Path(entry.uri()), true);
            }
        }
    }

    /** The whole file, read into an array of its length (not grown by doubling: state files are large). */
    private byte[] read(Path path) throws IOException {
        long length = fs.getFileStatus(path).getLen();
        if (length > Integer.MAX_VALUE - 8) {
            throw new IOException(path + " has " + length + " bytes, more than one array holds");
        }
        byte[] bytes = new byte[(int) length];
        try (org.apache.hadoop.fs.FSDataInputStream in = fs.open(path)) {
            in.readFully(bytes);
            if (in.read() >= 0) {
                throw new IOException(path + " grew while it was read");
            }
        }
        return bytes;
    }

    private static long crc(byte[] bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes);
        return crc.getValue();
    }
}
