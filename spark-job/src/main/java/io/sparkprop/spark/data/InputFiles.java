package io.sparkprop.spark.data;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The files a dataset path names, listed on the driver through the Hadoop {@link FileSystem} API
 * (so {@code hdfs://}, {@code file://} and plain local paths all work), in sorted order.
 *
 * <p>A path may be a file, a directory (its files, not recursively) or a glob (the files it
 * matches, and the files of the directories it matches). Hidden files, whose names start with
 * {@code _} or {@code .} (such as {@code _SUCCESS} and {@code .crc} files), are left out, as
 * Hadoop's input formats leave them out. The order, by URI, fixes each file's index in the row
 * keys, so it must not depend on the order the file system lists in. This class does not open
 * the files.
 */
final class InputFiles {

    /** One listed file: its fully qualified URI (as {@link Path#toString()} prints it) and size in bytes. */
    record InputFile(String uri, long size) {

        /** {@code "<uri> <size>"}: the form used in {@link LoadedData#sources()}. */
        String source() {
            return uri + " " + size;
        }
    }

    private InputFiles() {
    }

    /** The files {@code spec} names, sorted by URI; never empty. */
    static List<InputFile> list(String spec, Configuration conf) {
        Path path = new Path(spec);
        FileSystem fs;
        try {
            fs = path.getFileSystem(conf);
        } catch (IOException e) {
            throw new IllegalArgumentException("Cannot open the file system of input path " + spec + ": " + e, e);
        }
        FileStatus[] matches;
        try {
            matches = fs.globStatus(path);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot list input path " + spec + ": " + e.getMessage(), e);
        }
        if (matches == null || matches.length == 0) {
            throw new IllegalArgumentException("Input path " + spec + " does not exist (or the glob matches nothing)");
        }
        TreeMap<String, InputFile> files = new TreeMap<>();
        for (FileStatus match : matches) {
            if (match.isDirectory()) {
                FileStatus[] children;
                try {
                    children = fs.listStatus(match.getPath());
                } catch (FileNotFoundException e) {
                    throw new IllegalArgumentException("Input directory " + match.getPath() + " vanished while listing", e);
                } catch (IOException e) {
                    throw new UncheckedIOException("Cannot list input directory " + match.getPath() + ": "
                            + e.getMessage(), e);
                }
                for (FileStatus child : children) {
                    if (child.isFile() && !hidden(child.getPath())) {
                        add(files, child);
                    }
                }
            } else if (hidden(match.getPath())) {
                if (matches.length == 1 && !isGlob(spec)) {
                    throw new IllegalArgumentException("Input path " + spec + " names a hidden file (its name starts"
                            + " with _ or .), which Hadoop input formats skip; rename it");
                }
            } else {
                add(files, match);
            }
        }
        if (files.isEmpty()) {
            throw new IllegalArgumentException("Input path " + spec + " holds no data files (hidden files starting"
                    + " with _ or . and subdirectories are not read)");
        }
        if (files.size() >= 1 << 23) {
            throw new IllegalArgumentException("Input path " + spec + " holds " + files.size()
                    + " files; at most " + ((1 << 23) - 1) + " are supported");
        }
        return List.copyOf(files.values());
    }

    /**
     * Every path {@code spec} reads from, qualified: what it matches (a file, a directory, each
     * match of a glob) and the data files listed under those matches, sorted. What an output must
     * neither equal, contain nor lie inside.
     */
    static List<String> readPaths(String spec, Configuration conf) {
        TreeMap<String, Boolean> paths = new TreeMap<>();
        for (InputFile file : list(spec, conf)) {
            paths.put(file.uri(), true);
        }
        Path path = new Path(spec);
        try {
            for (FileStatus match : path.getFileSystem(conf).globStatus(path)) {
                paths.put(match.getPath().toString(), true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot list input path " + spec + ": " + e.getMessage(), e);
        }
        return List.copyOf(paths.keySet());
    }

    /** The one file {@code spec} names (IDX inputs are single files). */
    static InputFile single(String spec, Configuration conf) {
        List<InputFile> files = list(spec, conf);
        if (files.size() != 1) {
            throw new IllegalArgumentException("Expected input path " + spec + " to name one file but it names "
                    + files.size() + ": " + files.get(0).uri() + ", " + files.get(1).uri()
                    + (files.size() > 2 ? ", ..." : ""));
        }
        return files.get(0);
    }

    /** The {@link LoadedData#sources()} lines of {@code files}, sorted. */
    static List<String> sources(List<InputFile> files) {
        List<String> sources = new ArrayList<>(files.size());
        for (InputFile file : files) {
            sources.add(file.source());
        }
        sources.sort(null);
        return List.copyOf(sources);
    }

    private static void add(TreeMap<String, InputFile> files, FileStatus status) {
        String uri = status.getPath().toString();
        files.put(uri, new InputFile(uri, status.getLen()));
    }

    private static boolean hidden(Path path) {
        String name = path.getName();
        return name.startsWith("_") || name.startsWith(".");
    }

    private static boolean isGlob(String spec) {
        for (char c : new char[] {'*', '?', '[', '{'}) {
            if (spec.indexOf(c) >= 0) {
                return true;
            }
        }
        return false;
    }
}
