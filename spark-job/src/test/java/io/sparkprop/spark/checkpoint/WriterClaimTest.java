package io.sparkprop.spark.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The claim's rules on the local file system, in one JVM: a second owner is refused naming the
 * first; a stale claim or one of an earlier attempt of the same application is taken over; the
 * heartbeat renews the file's time; a claim whose file another run rewrote is lost, and writes
 * through a store it guards stop. The same rules between real processes: {@code OneWriterTest}.
 */
class WriterClaimTest {

    private static final Configuration CONF = new Configuration();

    @TempDir
    Path tmp;

    @Test
    void aSecondOwnerIsRefusedNamingTheFirstAndTheFileIsGoneAfterRelease() throws Exception {
        WriterClaim.Owner first = WriterClaim.Owner.current("local-1", "");
        Path file = tmp.resolve("run").resolve(WriterClaim.FILE);
        try (WriterClaim claim = WriterClaim.take(tmp.resolve("run").toString(), CONF, first, Duration.ofSeconds(60),
                "run directory")) {
            assertTrue(Files.readString(file).contains("token = " + first.token()));
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> WriterClaim.take(
                    tmp.resolve("run").toString(), CONF, WriterClaim.Owner.current("local-2", ""),
                    Duration.ofSeconds(60), "run directory"));
            assertTrue(e.getMessage().contains("is in use by another run: " + first.describe()), e.getMessage());
            assertTrue(e.getMessage().contains("pid " + ProcessHandle.current().pid()), e.getMessage());
            claim.check();
        }
        assertFalse(Files.exists(file), "the claim is released");
    }

    @Test
    void onlyOneOfManySimultaneousContendersWins() throws Exception {
        String dir = tmp.resolve("contended").toString();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Callable<WriterClaim>> contenders = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            String app = "local-" + i;
            contenders.add(() -> {
                try {
                    return WriterClaim.take(dir, CONF, WriterClaim.Owner.current(app, ""), Duration.ofSeconds(60), "d");
                } catch (IllegalStateException e) {
                    return null;
                }
            });
        }
        List<WriterClaim> won = new ArrayList<>();
        for (Future<WriterClaim> f : pool.invokeAll(contenders)) {
            if (f.get() != null) {
                won.add(f.get());
            }
        }
        pool.shutdown();
        assertEquals(1, won.size(), "winners");
        won.get(0).close();
    }

    @Test
    void aStaleClaimIsTakenOver() throws Exception {
        Path dir = tmp.resolve("stale");
        WriterClaim.Owner dead = WriterClaim.Owner.current("local-dead", "");
        Files.createDirectories(dir);
        Path file = dir.resolve(WriterClaim.FILE);
        Files.writeString(file, dead.text(), StandardCharsets.UTF_8);
        Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis() - 61_000));
        WriterClaim.Owner next = WriterClaim.Owner.current("local-next", "");
        try (WriterClaim claim = WriterClaim.take(dir.toString(), CONF, next, Duration.ofSeconds(60), "run directory")) {
            assertTrue(Files.readString(file).contains("token = " + next.token()));
            claim.check();
        }
        // Fresher than the timeout: refused.
        Files.writeString(file, dead.text(), StandardCharsets.UTF_8);
        Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis() - 50_000));
        assertThrows(IllegalStateException.class, () -> WriterClaim.take(dir.toString(), CONF, next,
                Duration.ofSeconds(60), "run directory"));
    }

    @Test
    void aLaterAttemptOfTheSameApplicationTakesOverAtOnce() throws Exception {
        Path dir = tmp.resolve("attempts");
        WriterClaim.Owner first = new WriterClaim.Owner("application_1_0001", "1", "h", 1, "t", "token-1");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(WriterClaim.FILE), first.text(), StandardCharsets.UTF_8);
        // Another application, or the same attempt, is refused while the claim is fresh.
        assertThrows(IllegalStateException.class, () -> WriterClaim.take(dir.toString(), CONF,
                new WriterClaim.Owner("application_1_0002", "2", "h", 2, "t", "token-x"), Duration.ofSeconds(60), "d"));
        assertThrows(IllegalStateException.class, () -> WriterClaim.take(dir.toString(), CONF,
                new WriterClaim.Owner("application_1_0001", "1", "h", 2, "t", "token-y"), Duration.ofSeconds(60), "d"));
        WriterClaim.Owner second = new WriterClaim.Owner("application_1_0001", "2", "h", 2, "t", "token-2");
        try (WriterClaim claim = WriterClaim.take(dir.toString(), CONF, second, Duration.ofSeconds(60), "d")) {
            assertTrue(Files.readString(dir.resolve(WriterClaim.FILE)).contains("token = token-2"));
        }
    }

    @Test
    void theHeartbeatRenewsTheClaimAndALostClaimStopsWrites() throws Exception {
        Path dir = tmp.resolve("beat");
        Path file = dir.resolve(WriterClaim.FILE);
        WriterClaim.Owner owner = WriterClaim.Owner.current("local-beat", "");
        try (WriterClaim claim = WriterClaim.take(dir.toString(), CONF, owner, Duration.ofSeconds(1), "d")) {
            Files.setLastModifiedTime(file, FileTime.fromMillis(0));
            Thread.sleep(600);
            assertTrue(Files.getLastModifiedTime(file).toMillis() > System.currentTimeMillis() - 5_000,
                    "the heartbeat renewed the claim's time");
            // Another run takes it over (as after a pause longer than the timeout).
            Files.writeString(file, WriterClaim.Owner.current("local-other", "").text(), StandardCharsets.UTF_8);
            Thread.sleep(600);
            IllegalStateException e = assertThrows(IllegalStateException.class, claim::check);
            assertTrue(e.getMessage().contains("no longer holds") && e.getMessage().contains("local-other"),
                    e.getMessage());
            CheckpointStore store = CheckpointStore.open(dir.resolve("checkpoints").toString(), CONF, 1)
                    .guardedBy(claim);
            assertThrows(IllegalStateException.class, () -> store.bind(new RunKey("key\n")));
        }
        assertTrue(Files.readString(file).contains("local-other"), "another's claim is not released");
    }
}
