package io.sparkprop.core;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which native BLAS library {@code dev.ludovic.netlib}'s JNI BLAS loads, decided once per JVM
 * before netlib first looks (it looks once, at its class initialization, through the system
 * properties {@code dev.ludovic.netlib.blas.nativeLibPath} and {@code nativeLib}):
 * <ol>
 *   <li>what the user set in those properties, as it is;
 *   <li>the machine's own OpenBLAS: a {@code libblas.so.3} that is OpenBLAS (Debian's
 *       alternatives link), else a {@code libopenblas.so.0}, in {@code LD_LIBRARY_PATH} or the
 *       usual library directories. Its threads follow {@code OPENBLAS_NUM_THREADS}, which
 *       {@code scripts/sparkprop} and {@code conf/sparkprop.properties} set to 1;
 *   <li>on Linux x86-64, the OpenBLAS that ships in the job jar ({@code org.bytedeco:openblas},
 *       the javacpp-presets build), extracted by JavaCPP to its cache directory
 *       ({@code ~/.javacpp/cache}, or the system property {@code org.bytedeco.javacpp.cachedir}),
 *       with one BLAS thread per JVM thread ({@code blas_set_num_threads(1)}, unless
 *       {@code OPENBLAS_NUM_THREADS} says otherwise): Spark runs one task per core, and a
 *       multithreaded BLAS under each would oversubscribe them;
 *   <li>none: netlib then takes its own choice (a reference {@code libblas.so.3}, else the JDK's
 *       Vector API, else pure Java).
 * </ol>
 * The system property {@code sparkprop.blas.bundled=false} skips step 3.
 */
final class NativeBlasLibrary {

    static final String NATIVE_LIB_PATH = "dev.ludovic.netlib.blas.nativeLibPath";
    static final String NATIVE_LIB = "dev.ludovic.netlib.blas.nativeLib";
    /** The directories searched for a system OpenBLAS after {@code LD_LIBRARY_PATH}. */
    private static final List<String> LIBRARY_DIRS = List.of("/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu",
            "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/usr/local/lib", "/opt/OpenBLAS/lib");

    /** What was chosen, for the log line; set by {@link #prepare}. */
    private static String source;
    /**
     * Whether {@link #prepare} chose the machine's OpenBLAS with {@code OPENBLAS_NUM_THREADS} unset
     * (it then runs as many threads as cores, whose dgemm rounds differently from one thread's).
     */
    private static boolean machineThreadsUnset;

    private NativeBlasLibrary() {
    }

    /**
     * Decides the library and sets netlib's property for it; once per JVM. Returns where the native
     * library comes from, in words for the log ({@code null} when there is none and netlib decides).
     */
    static synchronized String prepare() {
        if (source != null) {
            return source.isEmpty() ? null : source;
        }
        source = decide();
        return source.isEmpty() ? null : source;
    }

    /** After {@link #prepare}: whether it chose the machine's OpenBLAS with its thread count unset. */
    static synchronized boolean machineThreadsUnset() {
        return machineThreadsUnset;
    }

    private static String decide() {
        String path = System.getProperty(NATIVE_LIB_PATH);
        String lib = System.getProperty(NATIVE_LIB);
        if (path != null || lib != null) {
            return "as set by -D" + (path != null ? NATIVE_LIB_PATH + "=" + path : NATIVE_LIB + "=" + lib);
        }
        Path blas3 = find("libblas.so.3");
        if (blas3 != null && isOpenBlas(blas3)) {
            return machine("the system's OpenBLAS, " + blas3 + " -> " + realPath(blas3));
        }
        Path openblas = find("libopenblas.so.0");
        if (openblas != null) {
            System.setProperty(NATIVE_LIB_PATH, openblas.toString());
            return machine("the system's OpenBLAS, " + openblas);
        }
        if (!Boolean.parseBoolean(System.getProperty("sparkprop.blas.bundled", "true"))) {
            return "";
        }
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (!os.startsWith("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return "";
        }
        try {
            return Bundled.load();
        } catch (Throwable e) { // a missing or unloadable native library: netlib decides, and the log says why
            org.slf4j.LoggerFactory.getLogger(Blas.class).warn("The bundled OpenBLAS did not load ({}); falling back",
                    e.toString());
            return "";
        }
    }

    /** The bundled library, in a class of its own so that JavaCPP is only touched when it is needed. */
    private static final class Bundled {
        static String load() throws java.io.IOException {
            org.bytedeco.javacpp.Loader.load(org.bytedeco.openblas.global.openblas_nolapack.class);
            File extracted = org.bytedeco.javacpp.Loader.cacheResource(
                    org.bytedeco.openblas.global.openblas_nolapack.class, "linux-x86_64/libopenblas.so.0");
            if (extracted == null || !extracted.isFile()) {
                throw new IllegalStateException("JavaCPP extracted no libopenblas.so.0");
            }
            // netlib must open the very file JavaCPP loaded, whose thread count is set below: JavaCPP
            // loads its copy libopenblas_nolapack.so.0, and the dynamic linker maps another file (another
            // inode), even with the same bytes, as a second OpenBLAS with its own threads (as many as
            // cores when OPENBLAS_NUM_THREADS is unset), whose dgemm rounds differently.
            File library = new File(extracted.getParentFile(), "libopenblas_nolapack.so.0");
            if (!library.isFile()) {
                throw new IllegalStateException("JavaCPP left no " + library);
            }
            String env = System.getenv("OPENBLAS_NUM_THREADS");
            int threads = 1;
            if (env != null && env.matches("[1-9][0-9]*")) {
                threads = Integer.parseInt(env);
            }
            org.bytedeco.openblas.presets.openblas_nolapack.blas_set_num_threads(threads);
            System.setProperty(NATIVE_LIB_PATH, library.getPath());
            return "OpenBLAS bundled with sparkprop (org.bytedeco:openblas, extracted to " + library.getParent()
                    + "), " + threads + " thread" + (threads == 1 ? "" : "s") + " per call";
        }
    }

    /** The first {@code name} in {@code LD_LIBRARY_PATH} or {@link #LIBRARY_DIRS}, or {@code null}. */
    private static Path find(String name) {
        Set<String> dirs = new LinkedHashSet<>();
        String ld = System.getenv("LD_LIBRARY_PATH");
        if (ld != null) {
            for (String d : ld.split(File.pathSeparator)) {
                if (!d.isEmpty()) {
                    dirs.add(d);
                }
            }
        }
        dirs.addAll(LIBRARY_DIRS);
        List<Path> found = new ArrayList<>();
        for (String d : dirs) {
            Path p = Path.of(d, name);
            if (Files.exists(p)) {
                found.add(p);
            }
        }
        return found.isEmpty() ? null : found.get(0);
    }

    private static boolean isOpenBlas(Path library) {
        return realPath(library).toString().toLowerCase(Locale.ROOT).contains("openblas");
    }

    private static Path realPath(Path p) {
        try {
            return p.toRealPath();
        } catch (java.io.IOException e) {
            return p;
        }
    }

    /** The machine's OpenBLAS chosen: notes whether its thread count is unset; its words with the threads. */
    private static String machine(String description) {
        String env = System.getenv("OPENBLAS_NUM_THREADS");
        machineThreadsUnset = env == null;
        return description + (env == null ? " (OPENBLAS_NUM_THREADS unset: as many threads as cores per call)"
                : ", OPENBLAS_NUM_THREADS=" + env);
    }
}
