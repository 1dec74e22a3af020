package io.sparkprop.spark.checkpoint;

import java.io.ByteArrayOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FSError;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A run's exclusive claim on a directory it writes (a run directory, a checkpoint directory, an
 * estimator fit's {@code fit-<hash>}), on any Hadoop file system: the file {@link #FILE} in it,
 * created only if absent, holding the owner ({@link Owner}: Spark application id and attempt,
 * host, pid, start time, and a random token), with a heartbeat in its modification time.
 *
 * <p>The rules:
 * <ul>
 *   <li><b>Create if absent.</b> On HDFS {@code create(path, overwrite = false)} is atomic in the
 *       NameNode; on the local file system (where Hadoop's check-then-create is not) the claim is
 *       written under a temporary name and hard-linked into place, which fails if the name exists.</li>
 *   <li><b>Heartbeat.</b> A daemon thread sets the file's modification time every
 *       {@code timeout / }{@value #BEATS_PER_TIMEOUT}, after checking that the file still holds this
 *       owner's token. A claim whose file was removed or rewritten by another is lost.</li>
 *   <li><b>Refused.</b> A claim fresher than the timeout is a live writer: {@link #take} throws at
 *       once, naming the owner.</li>
 *   <li><b>Taken over</b> (and logged): a claim with no heartbeat for the timeout (its owner died),
 *       or one written by an earlier attempt of the same application (a YARN re-attempt: the
 *       earlier driver is gone or being killed). The stale file is renamed aside (one contender's
 *       rename wins), checked to be the one judged stale, deleted, and the claim created afresh.</li>
 *   <li><b>Released</b> by {@link #close} at the end of the run, failed or not: the heartbeat stops
 *       and the file is deleted if it still holds this owner's token.</li>
 * </ul>
 * Writers call {@link #check} before each write: a lost claim, or one whose heartbeat could not be
 * renewed for the timeout (another run may have taken it over since), stops the run before it
 * writes. The hosts' clocks must agree to well within the timeout, since a claim's age is this
 * host's clock minus the time the owner's host wrote.
 *
 * <p>Not for object stores without atomic create-if-absent (S3 through s3a, say): there two runs
 * started within moments of each other can both create the file; the heartbeat check then stops
 * the one whose token was overwritten, at its next heartbeat.
 */
public final class WriterClaim implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(WriterClaim.class);

    /** The claim's file name in the claimed directory. */
    public static final String FILE = "WRITER";
    /** Heartbeats within one timeout: a claim is renewed every timeout / 6 (10 s of the default 60 s). */
    public static final int BEATS_PER_TIMEOUT = 6;
    private static final String HEADER = "sparkprop-writer 1";
    private static final int ATTEMPTS = 5;

    /**
     * Who holds a claim.
     *
     * @param application the Spark application id ({@code SparkContext.applicationId()})
     * @param attempt     its attempt id ({@code SparkContext.applicationAttemptId()}, YARN cluster
     *                    mode), or empty
     * @param token       unique to one claim: two fits of one application hold different tokens
     */
    public record Owner(String application, String attempt, String host, long pid, String started, String token) {

        /** This process as the owner of a new claim, for the application {@code application} (attempt may be empty). */
        public static Owner current(String application, String attempt) {
            String host;
            try {
                host = InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                host = "unknown";
            }
            return new Owner(application, attempt == null ? "" : attempt, host, ProcessHandle.current().pid(),
                    Instant.now().toString(), UUID.randomUUID().toString());
        }

        String text() {
            return HEADER + "\napplication = " + application + "\nattempt = " + attempt + "\nhost = " + host
                    + "\npid = " + pid + "\nstarted = " + started + "\ntoken = " + token + "\n";
        }

        /** The owner in {@code text}, or {@code null} if it is not a whole claim (being written, say). */
        static Owner parse(String text) {
            if (!text.startsWith(HEADER + "\n")) {
                return null;
            }
            Map<String, String> values = new LinkedHashMap<>();
            for (String line : text.split("\n")) {
                int eq = line.indexOf(" = ");
                if (eq > 0) {
                    values.put(line.substring(0, eq), line.substring(eq + 3));
                } else if (line.endsWith(" =")) {
                    values.put(line.substring(0, line.length() - 2), "");
                }
            }
            try {
                return new Owner(values.get("application"), values.getOrDefault("attempt", ""), values.get("host"),
                        Long.parseLong(values.get("pid")), values.get("started"),
                        java.util.Objects.requireNonNull(values.get("token")));
            } catch (RuntimeException e) {
                return null;
            }
        }

        /** "application A (attempt 1), pid P on host H, started T", for messages. */
        public String describe() {
            return "application " + application + (attempt.isEmpty() ? "" : " (attempt " + attempt + ")") + ", pid "
                    + pid + " on host " + host + ", started " + started;
        }

        /** Whether this owner is a later YARN attempt of {@code other}'s application. */
        boolean laterAttemptOf(Owner other) {
            if (!application.equals(other.application) || attempt.isEmpty() || other.attempt.isEmpty()) {
                return false;
            }
            try {
                return Long.parseLong(attempt) > Long.parseLong(other.attempt);
            } catch (NumberFormatException e) {
                return attempt.compareTo(other.attempt) > 0;
            }
        }
    }

    /** The claim file as found: its text (possibly partial) and modification time. */
    private record Seen(String text, long modified) {
    }

    private final FileSystem fs;
    private final Path dir;
    private final Path file;
    private final Owner owner;
    private final long timeoutMillis;
    private final String what;
    private final ScheduledExecutorService heartbeat;
    private volatile String lost;
    private volatile long lastBeat;
    private boolean closed;

    private WriterClaim(FileSystem fs, Path dir, Owner owner, long timeoutMillis, String what) {
        this.fs = fs;
        this.dir = dir;
        this.file = new Path(dir, FILE);
        this.owner = owner;
        this.timeoutMillis = timeoutMillis;
        this.what = what;
        this.lastBeat = System.currentTimeMillis();
        this.heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sparkprop-writer-claim " + dir);
            t.setDaemon(true);
            return t;
        });
        long period = Math.max(1, timeoutMillis / BEATS_PER_TIMEOUT);
        heartbeat.scheduleWithFixedDelay(this::beat, period, period, TimeUnit.MILLISECONDS);
    }

    /**
     * Claims the directory {@code uri} (created if absent) for {@code owner}.
     *
     * @param timeout how long a claim lives without a heartbeat ({@code checkpoint.writer-timeout})
     * @param what    what the directory is, for messages ("run directory")
     * @throws IllegalStateException another live writer holds it (the message names it)
     * @throws UncheckedIOException  the claim cannot be read or written (the message names the file
     *                               and the cause)
     */
    public static WriterClaim take(String uri, Configuration conf, Owner owner, Duration timeout, String what) {
        Path dir = new Path(uri);
        try {
            FileSystem fs = dir.getFileSystem(conf);
            dir = fs.makeQualified(dir);
            if (!fs.mkdirs(dir)) {
                throw new IOException("cannot create the directory");
            }
            Path file = new Path(dir, FILE);
            for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
                if (createIfAbsent(fs, file, owner.text())) {
                    LOG.info("Claimed {} {} for {} ({})", what, dir, owner.describe(), file);
                    return new WriterClaim(fs, dir, owner, timeout.toMillis(), what);
                }
                Seen seen = read(fs, file);
                if (seen == null) {
                    continue; // released meanwhile
                }
                Owner holder = Owner.parse(seen.text());
                long age = System.currentTimeMillis() - seen.modified();
                String why;
                if (holder != null && owner.laterAttemptOf(holder)) {
                    why = "it was written by an earlier attempt of this application";
                } else if (age >= timeout.toMillis()) {
                    why = String.format(Locale.ROOT, "its last heartbeat was %.0f s ago, over checkpoint.writer-timeout"
                            + " = %d s: its owner died", age / 1000.0, timeout.toSeconds());
                } else {
                    throw new IllegalStateException(String.format(Locale.ROOT, "The %s %s is in use by another run:"
                            + " %s, last heartbeat %.0f s ago (%s). Two runs writing one directory would mix their"
                            + " checkpoints and models, so this one stops. Wait for that run to end, or use another"
                            + " directory; if that run died, its claim is taken over once it has had no heartbeat for"
                            + " checkpoint.writer-timeout = %d s.", what, dir,
                            holder == null ? "a claim still being written" : holder.describe(), Math.max(0, age) / 1000.0,
                            file, timeout.toSeconds()));
                }
                Path aside = new Path(dir, "." + FILE + ".stale-" + UUID.randomUUID());
                if (!fs.rename(file, aside)) {
                    continue; // another contender moved it first: look again
                }
                Seen moved = read(fs, aside);
                if (moved == null || !moved.text().equals(seen.text())) {
                    // A newer claim than the one judged stale: put it back and look again.
                    if (moved != null && !fs.exists(file)) {
                        fs.rename(aside, file);
                    }
                    continue;
                }
                fs.delete(aside, false);
                LOG.warn("Taking over the {} {} from {}: {}", what, dir,
                        holder == null ? "an unreadable claim" : holder.describe(), why);
            }
            throw new IllegalStateException("Cannot claim the " + what + " " + dir + ": other runs keep claiming it");
        } catch (IOException | FSError e) {
            IOException io = e instanceof IOException ioe ? ioe : new IOException(WriteFailure.reason(e), e);
            throw new UncheckedIOException("Cannot claim the " + what + " " + dir + " (" + new Path(dir, FILE) + "): "
                    + WriteFailure.reason(e), io);
        }
    }

    /**
     * Throws if this claim is lost: its file removed or rewritten by another run, or its heartbeat
     * not renewed for the timeout (so another run may have taken it over).
     */
    public void check() {
        String reason = lost;
        long silent = System.currentTimeMillis() - lastBeat;
        if (reason == null && silent > timeoutMillis) {
            reason = String.format(Locale.ROOT, "its heartbeat could not be renewed for %.0f s, so another run may"
                    + " have taken it over", silent / 1000.0);
        }
        if (reason != null) {
            throw new IllegalStateException("This run no longer holds the " + what + " " + dir + ": " + reason
                    + "; it stops without writing there");
        }
    }

    /** The claimed directory. */
    public String uri() {
        return dir.toString();
    }

    /** Stops the heartbeat and deletes the claim file if it still holds this owner's token; never throws. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        heartbeat.shutdownNow();
        try {
            heartbeat.awaitTermination(10, TimeUnit.SECONDS);
            Seen seen = read(fs, file);
            Owner holder = seen == null ? null : Owner.parse(seen.text());
            if (holder != null && holder.token().equals(owner.token())) {
                fs.delete(file, false);
                LOG.info("Released the {} {}", what, dir);
            }
        } catch (IOException | FSError | RuntimeException e) {
            LOG.warn("Cannot release the {} {} ({}): {}; the next run takes it over after checkpoint.writer-timeout",
                    what, dir, file, WriteFailure.reason(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void beat() {
        try {
            Seen seen = read(fs, file);
            Owner holder = seen == null ? null : Owner.parse(seen.text());
            if (holder == null || !holder.token().equals(owner.token())) {
                lost = seen == null ? "its claim " + file + " was removed"
                        : "its claim " + file + " now names " + (holder == null ? "another owner" : holder.describe());
                LOG.error("Lost the {} {}: {}", what, dir, lost);
                heartbeat.shutdown();
                return;
            }
            long now = System.currentTimeMillis();
            fs.setTimes(file, now, -1);
            lastBeat = now;
        } catch (IOException | FSError | RuntimeException e) {
            LOG.warn("Cannot renew the claim {}: {}", file, WriteFailure.reason(e));
        }
    }

    /** Creates {@code file} holding {@code text} unless it exists; false if it exists. */
    private static boolean createIfAbsent(FileSystem fs, Path file, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        java.io.File local = localFile(fs, file);
        if (local != null) {
            // Hadoop's local create checks, then creates: two processes can both pass the check.
            java.nio.file.Path target = local.toPath();
            java.nio.file.Path temp = target.resolveSibling("." + FILE + ".new-" + UUID.randomUUID());
            try {
                Files.write(temp, bytes);
                Files.createLink(target, temp);
                return true;
            } catch (FileAlreadyExistsException e) {
                return false;
            } catch (UnsupportedOperationException | java.nio.file.FileSystemException e) {
                // No hard links here: an exclusive create is atomic too, only its content comes after.
                try {
                    Files.write(target, bytes, java.nio.file.StandardOpenOption.CREATE_NEW,
                            java.nio.file.StandardOpenOption.WRITE);
                    return true;
                } catch (FileAlreadyExistsException exists) {
                    return false;
                }
            } finally {
                Files.deleteIfExists(temp);
            }
        }
        try (FSDataOutputStream out = fs.create(file, false)) {
            out.write(bytes);
            out.hsync();
            return true;
        } catch (org.apache.hadoop.fs.FileAlreadyExistsException e) {
            return false;
        } catch (IOException e) {
            // HDFS reports a file another client is still creating as AlreadyBeingCreatedException.
            if (fs.exists(file)) {
                return false;
            }
            throw e;
        }
    }

    private static java.io.File localFile(FileSystem fs, Path file) {
        if (fs instanceof LocalFileSystem local) {
            return local.pathToFile(file);
        }
        if (fs instanceof RawLocalFileSystem raw) {
            return raw.pathToFile(file);
        }
        return null;
    }

    private static Seen read(FileSystem fs, Path file) throws IOException {
        try {
            FileStatus status = fs.getFileStatus(file);
            java.io.File local = localFile(fs, file);
            byte[] bytes;
            if (local != null) {
                bytes = Files.readAllBytes(local.toPath());
            } else {
                try (InputStream in = fs.open(file)) {
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    in.transferTo(out);
                    bytes = out.toByteArray();
                }
            }
            return new Seen(new String(bytes, StandardCharsets.UTF_8), status.getModificationTime());
        } catch (FileNotFoundException | java.nio.file.NoSuchFileException e) {
            return null;
        }
    }
}
