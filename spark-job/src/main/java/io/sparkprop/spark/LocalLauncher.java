package io.sparkprop.spark;

/**
 * The local launcher's entry point ({@code scripts/sparkprop}): runs the command line as
 * {@link Main#main} does, then ends the JVM with the exit code (0 success, 1 training or check
 * failure or an unexpected error, 2 bad usage, config or input), so shells and CI can test it.
 *
 * <p>Not for spark-submit: a Spark application must return from {@code main}, and YARN counts a
 * {@code System.exit} before that as a failed attempt. Submit {@link Main} instead.
 */
public final class LocalLauncher {

    private LocalLauncher() {
    }

    /** Runs {@code args} and exits with the command's code. */
    public static void main(String[] args) {
        int code;
        try {
            code = Main.execute(args, System.out, System.err).code();
        } catch (Exception e) {
            System.err.println("sparkprop: " + e);
            e.printStackTrace();
            code = 1;
        }
        System.exit(code);
    }
}
