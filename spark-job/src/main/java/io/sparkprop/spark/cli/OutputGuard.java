package io.sparkprop.spark.cli;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The check every writing command makes before it deletes or replaces anything: its output must
 * not be, contain, or lie inside a path the command reads (its input files, directories and glob
 * matches, its model file). Spark's own guard against writing over an input does not apply,
 * because sparkprop reads its data with its own readers, not through a Spark relation.
 *
 * <p>Paths are compared as qualified URIs ({@link FileSystem#makeQualified}, which also resolves
 * {@code .}, {@code ..} and relative paths), component by component. Symbolic links are not
 * followed. This is not a lock: a path created after the check is not seen.
 */
final class OutputGuard {

    private final String command;
    private final String outputOption;
    private final String output;
    private final Path qualified;
    private final Configuration conf;
    /** Each qualified path read, with what names it ({@code --input x}, {@code --model y}). */
    private final Map<String, String> read = new LinkedHashMap<>();

    private OutputGuard(String command, String outputOption, String output, Configuration conf) {
        this.command = command;
        this.outputOption = outputOption;
        this.output = output;
        this.conf = conf;
        this.qualified = qualify(output, conf);
    }

    /** A guard for {@code command}'s {@code outputOption} (such as {@code --output}) set to {@code output}. */
    static OutputGuard of(String command, String outputOption, String output, Configuration conf) {
        return new OutputGuard(command, outputOption, output, conf);
    }

    /** Adds the qualified {@code paths} that {@code origin} (such as {@code --input x}) names. */
    OutputGuard reads(String origin, List<String> paths) {
        for (String path : paths) {
            read.putIfAbsent(qualify(path, conf).toString(), origin);
        }
        return this;
    }

    /** Adds the one file or directory {@code origin} names. */
    OutputGuard reads(String origin, String path) {
        return reads(origin, List.of(path));
    }

    /**
     * @throws IllegalArgumentException naming both paths when the output equals, contains or lies
     *                                  inside a path read
     */
    void check() {
        String out = qualified.toString();
        for (Map.Entry<String, String> entry : read.entrySet()) {
            String in = entry.getKey();
            String relation = out.equals(in) ? "is" : within(in, out) ? "contains" : within(out, in) ? "is inside"
                    : null;
            if (relation != null) {
                throw new IllegalArgumentException(command + " " + outputOption + " " + output + " (" + out + ") "
                        + relation + " " + in + ", which it reads (" + entry.getValue() + "); nothing was deleted or"
                        + " written: choose an output outside the paths it reads");
            }
        }
    }

    /** Whether {@code path} lies strictly under the directory {@code dir}. */
    private static boolean within(String path, String dir) {
        return path.startsWith(dir.endsWith("/") ? dir : dir + "/");
    }

    private static Path qualify(String uri, Configuration conf) {
        Path path = new Path(uri);
        try {
            FileSystem fs = path.getFileSystem(conf);
            return fs.makeQualified(path);
        } catch (IOException e) {
            throw new IllegalArgumentException("Cannot open the file system of " + uri + ": " + e.getMessage(), e);
        }
    }
}
