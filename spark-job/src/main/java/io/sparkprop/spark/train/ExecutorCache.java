package io.sparkprop.spark.train;

import io.sparkprop.core.EpochPlan;
import io.sparkprop.core.LocalRound;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.Workspace;
import io.sparkprop.core.WindowedRows;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Per-executor JVM caches for the step tasks, so a step allocates almost nothing: the epoch's
 * permutation of each partition's rows (computed once per epoch, not once per step), pools of
 * workspaces per network and capacity (a task borrows one and returns it; concurrent tasks on one
 * executor get different workspaces), and, for {@code train.shuffle = window}, the shuffle buffer:
 * each partition's last decoded window, so the partition's next task goes on in it without reading
 * its chunks again; and for lazy local SGD the idle working sets of rounds
 * ({@link io.sparkprop.core.WorkingSet}), so a round does not allocate its compact copy of the
 * touched rows afresh; and an evaluation's weights laid out feature-major for sparse blocks, once
 * per executor rather than once per task. Everything here can be recomputed, so losing it (a new executor, a collected soft
 * reference) changes nothing but speed.
 */
final class ExecutorCache {

    private static final int MAX_PERMUTATIONS = 64;

    private record PermutationKey(long seed, long epoch, int partition, int rows) {
    }

    private record WorkspaceKey(NetworkSpec spec, int capacity) {
    }

    private static final Map<PermutationKey, int[]> PERMUTATIONS = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<PermutationKey, int[]> eldest) {
            return size() > MAX_PERMUTATIONS;
        }
    };

    private static final Map<WorkspaceKey, Deque<Workspace>> POOLS = new LinkedHashMap<>();

    /** The workspace pools as the core's {@link LocalRound} borrows from them. */
    static final LocalRound.Workspaces WORKSPACES = new LocalRound.Workspaces() {
        @Override
        public Workspace borrow(NetworkSpec spec, int capacity) {
            return ExecutorCache.borrow(spec, capacity);
        }

        @Override
        public void release(Workspace ws) {
            ExecutorCache.release(ws);
        }
    };

    private ExecutorCache() {
    }

    /** {@link EpochPlan#permutation} for this key, computed at most once per executor while cached. Read only. */
    static int[] permutation(long seed, long epoch, int partition, int rows) {
        PermutationKey key = new PermutationKey(seed, epoch, partition, rows);
        synchronized (PERMUTATIONS) {
            int[] order = PERMUTATIONS.get(key);
            if (order == null) {
                order = EpochPlan.permutation(seed, epoch, partition, rows);
                PERMUTATIONS.put(key, order);
            }
            return order;
        }
    }

    /**
     * Whose window a shuffle-buffer entry is: the application, the cached chunk RDD and the
     * training partition. The window itself records the seed, epoch, buffer size and window index
     * it was decoded for ({@link WindowedRows.Window}), which the next task checks.
     */
    record WindowKey(String app, int chunkRddId, int partition) {
    }

    /** The shuffle buffer: at most one decoded window per partition, least recently used first. */
    private static final Map<WindowKey, WindowedRows.Window> WINDOWS = new LinkedHashMap<>(16, 0.75f, true);
    private static long windowBytes;

    /**
     * The most the shuffle buffer keeps: 60% of Spark's user memory, the heap Spark's unified
     * memory leaves ({@code (heap - 300 MiB) × (1 - spark.memory.fraction)}), where the windows
     * live beside the tasks' workspaces and models.
     */
    static long windowCap() {
        org.apache.spark.SparkEnv env = org.apache.spark.SparkEnv.get();
        double fraction = env == null ? 0.6 : env.conf().getDouble("spark.memory.fraction", 0.6);
        long usable = Math.max(0, Runtime.getRuntime().maxMemory() - 300L * 1024 * 1024);
        return (long) (0.6 * usable * (1 - fraction));
    }

    /**
     * Takes the window the last task of {@code key}'s partition left on this executor out of the
     * buffer (so only the task holds it while it runs), or null.
     */
    static WindowedRows.Window takeWindow(WindowKey key) {
        synchronized (WINDOWS) {
            WindowedRows.Window window = WINDOWS.remove(key);
            if (window != null) {
                windowBytes -= window.bytes();
            }
            return window;
        }
    }

    /**
     * Leaves {@code window} for the next task of {@code key}'s partition, replacing any other of
     * that partition's, and evicts the least recently used windows while the buffer holds more
     * than {@link #windowCap} bytes (never the one just put). A null window puts nothing.
     */
    static void putWindow(WindowKey key, WindowedRows.Window window) {
        if (window == null) {
            return;
        }
        synchronized (WINDOWS) {
            WindowedRows.Window old = WINDOWS.put(key, window);
            windowBytes += window.bytes() - (old == null ? 0 : old.bytes());
            long cap = windowCap();
            java.util.Iterator<Map.Entry<WindowKey, WindowedRows.Window>> eldest = WINDOWS.entrySet().iterator();
            while (windowBytes > cap && eldest.hasNext()) {
                Map.Entry<WindowKey, WindowedRows.Window> entry = eldest.next();
                if (!entry.getKey().equals(key)) {
                    windowBytes -= entry.getValue().bytes();
                    eldest.remove();
                }
            }
        }
    }

    /**
     * Idle working sets of lazy rounds ({@link io.sparkprop.core.WorkingSet}), softly held (the GC
     * may drop them under memory pressure), at most {@value #MAX_WORKING_SETS}: a task takes one
     * that fits its round, so concurrent tasks never share one, and gives it back after.
     */
    private static final Deque<java.lang.ref.SoftReference<io.sparkprop.core.WorkingSet>> WORKING_SETS =
            new ArrayDeque<>();
    private static final int MAX_WORKING_SETS = 4;

    /**
     * An idle working set for a round of {@code spec} with {@code arrays} arrays over
     * {@code columns} columns, taken out of the pool, or a new one of
     * {@link io.sparkprop.core.WorkingSet#capacityFor} rows. One too small is dropped, so the pool
     * does not keep sets no round can use.
     */
    static io.sparkprop.core.WorkingSet takeWorkingSet(NetworkSpec spec, int arrays, int columns) {
        synchronized (WORKING_SETS) {
            for (java.util.Iterator<java.lang.ref.SoftReference<io.sparkprop.core.WorkingSet>> it =
                 WORKING_SETS.iterator(); it.hasNext(); ) {
                io.sparkprop.core.WorkingSet set = it.next().get();
                if (set != null && set.fits(spec, arrays, columns)) {
                    it.remove();
                    return set;
                }
                if (set == null || set.capacity() < columns) {
                    it.remove();
                }
            }
        }
        return new io.sparkprop.core.WorkingSet(spec, arrays,
                io.sparkprop.core.WorkingSet.capacityFor(columns, spec.inputSize()));
    }

    /** Gives back a working set a round ended with normally. */
    static void putWorkingSet(io.sparkprop.core.WorkingSet set) {
        synchronized (WORKING_SETS) {
            if (WORKING_SETS.size() >= MAX_WORKING_SETS) {
                WORKING_SETS.removeLast();
            }
            WORKING_SETS.push(new java.lang.ref.SoftReference<>(set));
        }
    }

    /** The last evaluation broadcast whose weights were laid out for sparse blocks, and those weights, softly held. */
    private static long laidOutId = -1;
    private static java.lang.ref.SoftReference<double[]> laidOut;

    /**
     * The evaluation broadcast {@code id}'s weights in another layout, made by {@code make} once per
     * executor (the tasks of one evaluation share it: a 2^20 x 64 layer is 537 MB a copy). One
     * entry, softly held, replaced by the next evaluation's.
     */
    static synchronized double[] laidOut(long id, java.util.function.Supplier<double[]> make) {
        double[] kept = laidOutId == id && laidOut != null ? laidOut.get() : null;
        if (kept == null) {
            laidOut = null; // the old one may go before the new one is made
            kept = make.get();
            laidOut = new java.lang.ref.SoftReference<>(kept);
            laidOutId = id;
        }
        return kept;
    }

    /** Forgets broadcast {@code id}'s laid-out weights (the evaluation is over). */
    static synchronized void dropLaidOut(long id) {
        if (laidOutId == id) {
            laidOut = null;
            laidOutId = -1;
        }
    }

    /** Drops every idle working set (at the end of a run, and in tests). */
    static void clearWorkingSets() {
        synchronized (WORKING_SETS) {
            WORKING_SETS.clear();
        }
    }

    /** Empties the shuffle buffer (tests: a run that must decode every window). */
    static void clearWindows() {
        synchronized (WINDOWS) {
            WINDOWS.clear();
            windowBytes = 0;
        }
    }

    /** A workspace for {@code spec} with room for {@code capacity} rows; give it back with {@link #release}. */
    static Workspace borrow(NetworkSpec spec, int rows) {
        int capacity = Math.max(1, rows);
        WorkspaceKey key = new WorkspaceKey(Objects.requireNonNull(spec), capacity);
        synchronized (POOLS) {
            Deque<Workspace> pool = POOLS.get(key);
            if (pool != null && !pool.isEmpty()) {
                return pool.pop();
            }
            if (POOLS.size() > 16 && pool == null) {
                POOLS.clear(); // a different network or batch size: drop the old pools
            }
        }
        return new Workspace(spec, capacity);
    }

    static void release(Workspace ws) {
        WorkspaceKey key = new WorkspaceKey(ws.spec(), ws.capacity());
        synchronized (POOLS) {
            POOLS.computeIfAbsent(key, k -> new ArrayDeque<>()).push(ws);
        }
    }
}
