package io.sparkprop.spark.config;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The effective, type-checked configuration of a run: every {@link ConfigSchema} key with its
 * default, overlaid by a config file, then by the Spark conf's {@code spark.sparkprop.<key>}
 * settings ({@link #withSparkConf}), then by {@code --set key=value} overrides. Immutable.
 *
 * <p>This is the config file's form: text values with the place each came from. It is read once
 * into the typed {@link TrainingConfig} ({@link TrainingConfig#from}), which checks the values
 * together; the training code sees only that.
 *
 * <p>File format: one {@code key = value} per line; a key may appear once per file. A {@code #}
 * starts a comment when it begins the line or follows whitespace, so
 * {@code data.train = train.csv  # ours} sets {@code train.csv}, while a {@code #} inside a word
 * ({@code data.train = runs#3/train.csv}) is part of the value ({@link #stripComment}). A value
 * that starts with a double quote is taken up to the closing quote as it is, {@code #} and all
 * ({@code data.label-column = "size #cm"  # the label}); inside the quotes {@code \"} is a quote and
 * {@code \\} a backslash, and after them only a comment may follow. Blank and comment-only lines are
 * ignored. A value cannot span lines: one with a line break is refused from any source.
 * Every value is checked against its key's kind when it comes in ({@link ConfigKey#parse}), and
 * errors name the key, the source (file and line, {@code spark.sparkprop.<key> (Spark conf)} or
 * {@code --set}), the value and what was expected. {@link #render} writes each value's source
 * back as a comment, and quotes the values that need it, so a run's {@code config.conf} says where
 * every value came from and reads back as a config file to the same values; a run first makes its
 * paths full URIs ({@link #withQualifiedPaths}), so that they name the same files wherever the file
 * is read.
 */
public final class JobConfig implements ConfigSource, Serializable {

    private static final long serialVersionUID = 1L;

    /**
     * The prefix that makes a Spark setting a config key: {@code spark.sparkprop.train.epochs=5}
     * sets {@code train.epochs}. Spark passes any {@code spark.*} setting of {@code --conf}, a
     * {@code --properties-file} or {@code spark-defaults.conf} to the driver, so orchestrators
     * that only speak Spark conf (Airflow's SparkSubmitOperator, Livy, a Databricks spark-submit
     * task) can set any key.
     */
    public static final String SPARK_CONF_PREFIX = "spark.sparkprop.";

    /**
     * Spark settings under {@link #SPARK_CONF_PREFIX} that are not config keys: the training loop's
     * test hooks ({@code spark.sparkprop.test.failOnceAtStep} and the like, read by the tasks from
     * the Spark conf), which {@link #withSparkConf} leaves alone.
     */
    public static final String TEST_HOOK_PREFIX = SPARK_CONF_PREFIX + "test.";

    /**
     * A numeric test hook read from the JVM system property {@code name} (in local mode the tasks
     * run in the test's JVM), or {@code fallback} when it is not set.
     */
    public static double testHook(String name, double fallback) {
        String value = System.getProperty(name);
        return value == null ? fallback : Double.parseDouble(value);
    }

    private final Map<String, String> values;
    private final Map<String, String> origins;

    private JobConfig(Map<String, String> values, Map<String, String> origins) {
        this.values = Collections.unmodifiableMap(values);
        this.origins = Collections.unmodifiableMap(origins);
    }

    /** Every key at its default. */
    public static JobConfig defaults() {
        Map<String, String> values = new LinkedHashMap<>();
        Map<String, String> origins = new LinkedHashMap<>();
        for (ConfigKey<?> key : ConfigSchema.keys().values()) {
            values.put(key.name(), key.defaultValue());
            origins.put(key.name(), "default");
        }
        return new JobConfig(values, origins);
    }

    /**
     * The values of {@code source} in a config file's form, each with its origin: what a run's
     * {@code config.conf} holds when the values came from somewhere else (an estimator's params).
     */
    public static JobConfig of(ConfigSource source) {
        if (source instanceof JobConfig config) {
            return config;
        }
        Map<String, String> values = new LinkedHashMap<>();
        Map<String, String> origins = new LinkedHashMap<>();
        for (ConfigKey<?> key : ConfigSchema.keys().values()) {
            String value = key.format(source.value(key));
            checkOneLine(key.name(), value, source.origin(key));
            values.put(key.name(), value);
            origins.put(key.name(), source.origin(key));
        }
        return new JobConfig(values, origins);
    }

    /** Defaults overlaid by the config text {@code text}; {@code source} names it in errors. */
    public static JobConfig parse(String text, String source) {
        return defaults().withText(text, source, null);
    }

    /**
     * Reads a config file: any Hadoop URI works. A relative path with no scheme ({@code my.conf},
     * {@code conf/run.conf}) is read from the local working directory when the file is there, which
     * is where {@code spark-submit --files} puts it for a driver on YARN; otherwise it resolves
     * against the default file system ({@code fs.defaultFS}, HDFS on a cluster), as any Hadoop path
     * does. Relative data paths in the file resolve against the directory it was read from.
     *
     * @throws IllegalArgumentException when the file is missing (naming where it was looked for) or
     *                                  unreadable, or a line is not a valid {@code key = value}
     */
    public static JobConfig load(String uri, Configuration hadoopConf) {
        return load(uri, () -> hadoopConf);
    }

    /**
     * {@link #load(String, Configuration)}, asking for the Hadoop configuration only for a file
     * that is not local: a local file ({@code file:} URIs, and relative paths found in the working
     * directory) is read with {@code java.nio}, which spares a command line that stops on a config
     * error the start-up of Hadoop's file systems and logging (about a second).
     */
    public static JobConfig load(String uri, Supplier<Configuration> hadoopConf) {
        return load(uri, hadoopConf, false);
    }

    /**
     * {@link #load(String, Supplier)}, where {@code defaultFsIsLocal} says that the default file
     * system is known to be the local one, so an absolute path without a scheme is read with
     * {@code java.nio} too.
     */
    public static JobConfig load(String uri, Supplier<Configuration> hadoopConf, boolean defaultFsIsLocal) {
        Path path = new Path(uri);
        java.nio.file.Path local = defaultFsIsLocal && path.toUri().getScheme() == null && path.isAbsolute()
                ? java.nio.file.Path.of(path.toUri().getPath()) : localFile(path);
        if (local != null) {
            if (!Files.isRegularFile(local)) {
                throw new IllegalArgumentException("Config file " + uri + " does not exist");
            }
            try {
                String text = Files.readString(local, StandardCharsets.UTF_8);
                return defaults().withText(text, uri, new Path(local.toUri()).getParent());
            } catch (IOException e) {
                throw new IllegalArgumentException("Cannot read config file " + uri + ": " + e.getMessage(), e);
            }
        }
        try {
            FileSystem fs = path.getFileSystem(hadoopConf.get());
            if (!fs.exists(path)) {
                throw new IllegalArgumentException("Config file " + uri + (path.isAbsolute() ? ""
                        : " (neither in the working directory " + java.nio.file.Path.of("").toAbsolutePath()
                        + " nor at " + fs.makeQualified(path) + ")") + " does not exist");
            }
            try (InputStream in = fs.open(path)) {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                in.transferTo(bytes);
                Path qualified = fs.makeQualified(path);
                return defaults().withText(bytes.toString(StandardCharsets.UTF_8), uri, qualified.getParent());
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("Cannot read config file " + uri + ": " + e.getMessage(), e);
        }
    }

    /**
     * The local file {@code path} names when it is local for sure: a {@code file:} URI, or a
     * relative, scheme-less path to a file in the working directory. Null otherwise (an absolute
     * path without a scheme is on the default file system, which only Hadoop's configuration knows).
     */
    private static java.nio.file.Path localFile(Path path) {
        String scheme = path.toUri().getScheme();
        if ("file".equals(scheme)) {
            return java.nio.file.Path.of(path.toUri().getPath());
        }
        if (scheme != null || path.isAbsolute()) {
            return null;
        }
        java.nio.file.Path local = java.nio.file.Path.of(path.toUri().getPath()).toAbsolutePath().normalize();
        return Files.isRegularFile(local) ? local : null;
    }

    /**
     * This config overlaid by the lines of {@code text}; relative PATH values are resolved against
     * {@code base} (the file's directory) unless it is null.
     */
    public JobConfig withText(String text, String source, Path base) {
        Map<String, String> v = new LinkedHashMap<>(values);
        Map<String, String> o = new LinkedHashMap<>(origins);
        Map<String, Integer> seen = new LinkedHashMap<>();
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = stripComment(lines[i]);
            if (line.isBlank()) {
                continue;
            }
            String where = source + " line " + (i + 1);
            int eq = line.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("Expected 'key = value' at " + where + " but found '" + line.strip()
                        + "'");
            }
            String name = line.substring(0, eq).strip();
            String value = value(name, lines[i].substring(eq + 1), line.substring(eq + 1), where);
            Integer previous = seen.put(name, i + 1);
            if (previous != null) {
                throw new IllegalArgumentException("Config key '" + name + "' is set twice in " + source + ", at lines "
                        + previous + " and " + (i + 1));
            }
            put(v, o, name, resolve(name, value, base), where);
        }
        return new JobConfig(v, o);
    }

    /**
     * {@code line} without its comment: everything from the first {@code #} that begins the line or
     * follows a space or tab. A {@code #} preceded by any other character is kept.
     */
    static String stripComment(String line) {
        for (int i = line.indexOf('#'); i >= 0; i = line.indexOf('#', i + 1)) {
            if (i == 0 || Character.isWhitespace(line.charAt(i - 1))) {
                return line.substring(0, i);
            }
        }
        return line;
    }

    /**
     * The value of a line whose text after the {@code =} is {@code raw} ({@code uncommented} without
     * its comment): the quoted string when it starts with a double quote, else the uncommented text,
     * stripped.
     */
    private static String value(String name, String raw, String uncommented, String where) {
        String text = raw.stripLeading();
        if (!text.startsWith("\"")) {
            return uncommented.strip();
        }
        StringBuilder value = new StringBuilder();
        int i = 1;
        for (; i < text.length() && text.charAt(i) != '"'; i++) {
            char c = text.charAt(i);
            boolean escape = c == '\\' && i + 1 < text.length() && (text.charAt(i + 1) == '"'
                    || text.charAt(i + 1) == '\\');
            value.append(escape ? text.charAt(++i) : c);
        }
        if (i == text.length()) {
            throw new IllegalArgumentException("Config key '" + name + "' at " + where + " opens a quote that the line"
                    + " does not close: " + text.strip());
        }
        String rest = text.substring(i + 1);
        if (!rest.isEmpty() && !(Character.isWhitespace(rest.charAt(0)) && stripComment(rest).isBlank())) {
            throw new IllegalArgumentException("Config key '" + name + "' at " + where + ": expected nothing but a"
                    + " comment after the closing quote but found '" + rest.strip() + "'");
        }
        return value.toString();
    }

    /**
     * {@code value} as a config file's value that reads back as {@code value}: as it is, or in double
     * quotes (with {@code \"} and {@code \\} for a quote and a backslash) when it holds a comment
     * start (a {@code #} at its start or after whitespace), starts with a quote, or has space at
     * either end.
     */
    static String quoted(String value) {
        if (!value.startsWith("\"") && value.strip().length() == value.length()
                && stripComment(value).length() == value.length()) {
            return value;
        }
        return '"' + value.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    private static String resolve(String name, String value, Path base) {
        if (base == null || value.isEmpty() || !ConfigSchema.keys().containsKey(name)
                || ConfigSchema.key(name).kind() != ConfigKey.Kind.PATH) {
            return value;
        }
        Path path = new Path(value);
        return path.isAbsoluteAndSchemeAuthorityNull() || path.toUri().getScheme() != null ? value
                : new Path(base, path).toString();
    }

    /**
     * This config with every {@link ConfigKey.Kind#PATH PATH} value as the fully qualified URI that
     * Hadoop opens for it under {@code hadoopConf} ({@link FileSystem#makeQualified}): a path without
     * a scheme is on the default file system, and a relative one is relative to that file system's
     * working directory (for the local file system, the process's working directory; for HDFS, the
     * user's home directory). That is how the data loader and the checkpoint store open a value given
     * with {@code --set} or as Spark conf; a config file's relative values were already made relative
     * to the file ({@link #withText}). A run writes the result as its {@code config.conf}, into its
     * checkpoints and into its model, so that they name the same files wherever they are read, and a
     * resume compares files, not spellings. A changed value's origin says what was given:
     * {@code --set (given as data/train.csv)}. A value with a scheme and an authority
     * ({@code hdfs://nn/x}, {@code s3a://bucket/x}) or an absolute {@code file:} URI is kept as it is,
     * without opening its file system. Returns this config when nothing changes.
     *
     * @throws IllegalArgumentException a value that is not a Hadoop path, naming the key and origin
     * @throws UncheckedIOException     a file system that cannot be opened
     */
    public JobConfig withQualifiedPaths(Configuration hadoopConf) {
        Map<String, String> v = new LinkedHashMap<>(values);
        Map<String, String> o = new LinkedHashMap<>(origins);
        boolean changed = false;
        for (ConfigKey<?> key : ConfigSchema.keys().values()) {
            String value = values.get(key.name());
            if (key.kind() != ConfigKey.Kind.PATH || value.isEmpty()) {
                continue;
            }
            String qualified = qualify(key, value, hadoopConf);
            if (!qualified.equals(value)) {
                v.put(key.name(), qualified);
                o.put(key.name(), origins.get(key.name()) + " (given as " + value + ")");
                changed = true;
            }
        }
        return changed ? new JobConfig(v, o) : this;
    }

    private String qualify(ConfigKey<?> key, String value, Configuration hadoopConf) {
        Path path;
        try {
            path = new Path(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Config key '" + key.name() + "' must be a Hadoop path or URI but got '"
                    + value + "' (from " + origins.get(key.name()) + "): " + e.getMessage(), e);
        }
        URI uri = path.toUri();
        if (uri.getScheme() != null && path.isUriPathAbsolute()
                && (uri.getAuthority() != null || uri.getScheme().equals("file"))) {
            return value;
        }
        try {
            return path.getFileSystem(hadoopConf).makeQualified(path).toString();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot open the file system of " + key.name() + " = " + value + " (from "
                    + origins.get(key.name()) + "): " + e.getMessage(), e);
        }
    }

    /**
     * This config overlaid by the {@code spark.sparkprop.<key>} entries of the Spark settings
     * {@code sparkConf} (all other entries, and the test hooks under {@link #TEST_HOOK_PREFIX},
     * are ignored), in key order. Each value is checked like
     * a file's and its origin is {@code spark.sparkprop.<key> (Spark conf)}; a key the schema
     * does not declare is an error naming the Spark setting, with the nearest valid key. Relative
     * paths are kept as given, as with {@code --set}: they are on the default file system, relative
     * to its working directory, which {@link #withQualifiedPaths} resolves them against.
     */
    public JobConfig withSparkConf(Map<String, String> sparkConf) {
        Map<String, String> v = new LinkedHashMap<>(values);
        Map<String, String> o = new LinkedHashMap<>(origins);
        for (Map.Entry<String, String> e : new TreeMap<>(sparkConf).entrySet()) {
            if (!e.getKey().startsWith(SPARK_CONF_PREFIX) || e.getKey().startsWith(TEST_HOOK_PREFIX)) {
                continue;
            }
            String name = e.getKey().substring(SPARK_CONF_PREFIX.length());
            if (!ConfigSchema.keys().containsKey(name)) {
                // The setting's own name first: the user typed spark.sparkprop.<name>, not <name>.
                String nearest = ConfigSchema.nearest(name);
                throw new IllegalArgumentException("Unknown config key '" + name + "' in the Spark setting '"
                        + e.getKey() + "'" + (nearest == null ? "" : " (did you mean '" + SPARK_CONF_PREFIX + nearest
                        + "'?)") + "; valid keys after " + SPARK_CONF_PREFIX + ": "
                        + String.join(", ", ConfigSchema.keys().keySet()));
            }
            put(v, o, name, e.getValue().strip(), e.getKey() + " (Spark conf)");
        }
        return new JobConfig(v, o);
    }

    /**
     * This config with {@code key=value} overrides, as given to {@code --set}: each value as it is
     * (stripped; no quotes are removed), relative paths kept as for {@link #withSparkConf}.
     */
    public JobConfig withOverrides(List<String> assignments) {
        Map<String, String> v = new LinkedHashMap<>(values);
        Map<String, String> o = new LinkedHashMap<>(origins);
        for (String assignment : assignments) {
            int eq = assignment.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("Expected --set key=value but got '" + assignment + "'");
            }
            put(v, o, assignment.substring(0, eq).strip(), assignment.substring(eq + 1).strip(), "--set");
        }
        return new JobConfig(v, o);
    }

    /** This config with one key changed (checked like any other value). */
    public JobConfig with(String name, String value) {
        Map<String, String> v = new LinkedHashMap<>(values);
        Map<String, String> o = new LinkedHashMap<>(origins);
        put(v, o, name, value, "program");
        return new JobConfig(v, o);
    }

    private static void put(Map<String, String> values, Map<String, String> origins, String name, String value,
                            String where) {
        ConfigKey<?> key;
        try {
            key = ConfigSchema.key(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + " (from " + where + ")", e);
        }
        check(key, value, where);
        checkOneLine(key.name(), value, where);
        values.put(name, value);
        origins.put(name, where);
    }

    /** A value must fit on one line of a config file (and of config.conf), which quotes cannot span. */
    private static void checkOneLine(String name, String value, String where) {
        if (value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0) {
            throw new IllegalArgumentException("Config key '" + name + "' must be one line but got '"
                    + value.replace("\r", "\\r").replace("\n", "\\n") + "', which has a line break (from " + where
                    + ")");
        }
    }

    private static void check(ConfigKey<?> key, String value, String where) {
        try {
            key.parse(value); // empty means "not set"; required keys are checked where they are used
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Config key '" + key.name() + "' must be " + e.getMessage() + " but got '"
                    + value + "' (from " + where + ")");
        }
    }

    @Override
    public <T> T value(ConfigKey<T> key) {
        return key.parse(get(key.name()));
    }

    @Override
    public String origin(ConfigKey<?> key) {
        return origin(key.name());
    }

    /** The raw value of {@code name} ({@code ""} when unset). */
    public String get(String name) {
        ConfigSchema.key(name);
        return values.get(name);
    }

    /**
     * Where {@code name}'s value came from: {@code default}, a file and line,
     * {@code spark.sparkprop.<name> (Spark conf)}, {@code --set}, or an estimator param.
     */
    public String origin(String name) {
        return origins.get(name);
    }

    /**
     * The effective configuration as a config file (every key), for logs and the run directory:
     * each value that is not the default follows a {@code # from <origin>} line, and a value that
     * would not read back as it is (one holding a comment start, starting with a quote or with space
     * at an end) is quoted. It loads as a config file with the same values; relative paths in it
     * would resolve against its own directory, so a run renders its config with qualified paths.
     */
    public String render() {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, String> e : values.entrySet()) {
            String origin = origins.get(e.getKey());
            if (!origin.equals("default")) {
                sb.append("# from ").append(origin).append('\n');
            }
            sb.append(e.getKey()).append(" = ").append(quoted(e.getValue())).append('\n');
        }
        return sb.toString();
    }

    /** The values as a map, in schema order. */
    public Map<String, String> values() {
        return values;
    }
}
