package io.sparkprop.spark.checkpoint;

import static org.junit.jupiter.api.Assertions.fail;

import io.sparkprop.spark.LocalLauncher;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM running {@code sparkprop train} ({@link LocalLauncher}, as scripts/sparkprop runs it: its own local[2] Spark and exit codes), its
 * output in a log file; closing it kills it. The crash and one-writer tests' real processes.
 */
public final class TrainProcess implements AutoCloseable {

    private static final long POLL_TIMEOUT_MILLIS = 120_000;

    /** A condition polled by {@link #awaitUntil}. */
    @FunctionalInterface
    interface Condition {
        boolean holds() throws Exception;
    }

    /** Test code run while a child is alive; its failures print the child's log. */
    @FunctionalInterface
    interface Body {
        void run() throws Exception;
    }

    private final Process process;
    private final Path log;

    private TrainProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /**
     * Starts {@code train --config config --run-dir run} with this test JVM's classpath and module
     * flags; {@code properties} are JVM options ({@code -Dkey=value}), {@code args} more
     * command-line arguments ({@code --set key=value}).
     */
    static TrainProcess train(Path config, Path run, Path log, List<String> properties, String... args)
            throws IOException {
        return start(List.of(), command(config, run, properties, args), log);
    }

    /** {@link #train}'s JVM options, with {@code properties}. */
    static TrainProcess train(Path config, Path run, Path log, String... properties) throws IOException {
        return train(config, run, log, List.of(properties));
    }

    /** The {@code java ... LocalLauncher train ...} command line of {@link #train}. */
    public static List<String> command(Path config, Path run, List<String> properties, String... args) {
        List<String> command = java();
        command.addAll(List.of("-Dspark.master=local[2]", "-Dspark.ui.enabled=false",
                "-Dspark.driver.host=127.0.0.1", "-Dspark.driver.bindAddress=127.0.0.1"));
        command.addAll(properties);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), LocalLauncher.class.getName(), "train",
                "--config", config.toString(), "--run-dir", run.toString()));
        command.addAll(List.of(args));
        return command;
    }

    /**
     * {@code java} with the JVM flags a child that runs Spark needs, as Surefire gave them to this
     * JVM (Spark's {@code --add-opens} and friends: the root pom's argLine), and a 1 GB heap.
     */
    public static List<String> java() {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String argument : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (argument.startsWith("--add-") || argument.startsWith("--enable-native-access")
                    || argument.startsWith("-XX:+IgnoreUnrecognizedVMOptions") || argument.startsWith("-Djdk.")
                    || argument.startsWith("-Dio.netty.")) {
                command.add(argument);
            }
        }
        command.add("-Xmx1g");
        return command;
    }

    /** Starts {@code prefix} followed by {@code command} (a wrapper such as {@code unshare}, or nothing). */
    static TrainProcess start(List<String> prefix, List<String> command, Path log) throws IOException {
        List<String> all = new ArrayList<>(prefix);
        all.addAll(command);
        Process process = new ProcessBuilder(all).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new TrainProcess(process, log);
    }

    long pid() {
        return process.pid();
    }

    /** Polls {@code condition} until it holds; fails if the child exits first or after the timeout. */
    void awaitUntil(String what, Condition condition) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(POLL_TIMEOUT_MILLIS);
        while (!condition.holds()) {
            if (!process.isAlive()) {
                fail("The child exited with code " + process.exitValue() + " before " + what + "\n" + tail());
            }
            if (System.nanoTime() > deadline) {
                fail("No " + what + " after " + POLL_TIMEOUT_MILLIS / 1000 + " s\n" + tail());
            }
            Thread.sleep(20);
        }
    }

    /** Waits for the child to exit by itself; returns its exit code. */
    int awaitExit() throws Exception {
        if (!process.waitFor(POLL_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)) {
            fail("The child did not exit within " + POLL_TIMEOUT_MILLIS / 1000 + " s\n" + tail());
        }
        return process.exitValue();
    }

    /** SIGKILL (on Linux); returns the exit code. */
    int kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            fail("The child did not die within 30 s of SIGKILL");
        }
        return process.exitValue();
    }

    /** The child's whole output so far. */
    String output() throws IOException {
        return Files.readString(log);
    }

    /** Runs {@code body}; if it fails, prints the child's whole log first. */
    void check(Body body) throws Exception {
        try {
            body.run();
        } catch (Exception | AssertionError e) {
            System.err.println("---- child log " + log + "\n" + Files.readString(log) + "---- end of child log");
            throw e;
        }
    }

    private String tail() throws IOException {
        List<String> lines = Files.readAllLines(log);
        return "---- last lines of " + log + "\n"
                + String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
