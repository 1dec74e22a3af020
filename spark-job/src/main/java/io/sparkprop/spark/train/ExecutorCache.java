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
 * its chunks again; and for lazy local SGD each partition's replica of the model and optimizer
 * state ({@link Replica}), kept between rounds so a round ships and copies only the rows that
 * changed. Everything here can be recomputed, so losing it (a new executor, a collected soft
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
     * A partition's copy of the weights and optimizer slots (training layout) on this executor,
     * for lazy local SGD: built from the base broadcast {@code baseId}, then brought to each
     * round's start by the round's row update, and changed by the partition's own steps in
     * {@code dirty} rows (which the next round restores from the base unless its update holds them).
     */
    static final class Replica {
        /** The application and the base broadcast it was built from (broadcast ids restart with each app). */
        final String app;
        final long baseId;
        final double[][] values;
        io.sparkprop.core.TouchedRows dirty;
        /** The rounds' step sums, tracking rows: reused, so a round does not allocate a model-sized gradient. */
        io.sparkprop.core.GradientAccumulator sums;

        Replica(String app, long baseId, double[][] values) {
            this.app = app;
            this.baseId = baseId;
            this.values = values;
        }

        /** Whether this replica was built from base {@code baseId} of this application. */
        boolean of(long baseId) {
            return this.baseId == baseId && app.equals(appId());
        }

        /**
         * A replica of base {@code baseId} holding {@code base}'s values, in this replica's arrays
         * when they have the same shapes (a new base must not double a wide model's memory on the
         * executor), else in new ones; this replica is not used after.
         */
        Replica rebuiltFrom(long baseId, WireArrays base) {
            boolean fits = values.length == base.arrays();
            double[][] source = base.shared();
            for (int a = 0; fits && a < values.length; a++) {
                fits = values[a].length == source[a].length;
            }
            if (!fits) {
                return fresh(baseId, base);
            }
            for (int a = 0; a < values.length; a++) {
                System.arraycopy(source[a], 0, values[a], 0, values[a].length);
            }
            // The step sums are not carried over: another base may be another network of the same size.
            return new Replica(appId(), baseId, values);
        }

        /** A replica of base {@code baseId}: a copy of its values. */
        static Replica fresh(long baseId, WireArrays base) {
            double[][] copy = new double[base.arrays()][];
            for (int a = 0; a < copy.length; a++) {
                copy[a] = base.copy(a);
            }
            return new Replica(appId(), baseId, copy);
        }
    }

    /** This JVM's Spark application id ({@code spark.app.id}), or "" outside Spark. */
    static String appId() {
        org.apache.spark.SparkEnv env = org.apache.spark.SparkEnv.get();
        return env == null ? "" : env.conf().get("spark.app.id", "");
    }

    /** Test hook: a JVM system property that makes every lazy round build its replicas afresh. */
    static final String NO_REPLICAS_PROPERTY = io.sparkprop.spark.config.JobConfig.TEST_HOOK_PREFIX + "noReplicas";

    /** At most one replica per partition, softly held: under memory pressure the GC may drop them. */
    private static final Map<Integer, java.lang.ref.SoftReference<Replica>> REPLICAS = new java.util.HashMap<>();

    /**
     * Takes partition {@code partition}'s replica out of the cache (so only the calling task holds
     * it: a concurrent attempt builds its own), or null when there is none. It may be of another
     * base or application ({@link Replica#of}): then only its arrays are worth having.
     */
    static Replica takeReplica(int partition) {
        if (Boolean.getBoolean(NO_REPLICAS_PROPERTY)) {
            return null;
        }
        synchronized (REPLICAS) {
            java.lang.ref.SoftReference<Replica> ref = REPLICAS.remove(partition);
            return ref == null ? null : ref.get();
        }
    }

    /** Leaves {@code replica} for partition {@code partition}'s next round (replacing another). */
    static void putReplica(int partition, Replica replica) {
        synchronized (REPLICAS) {
            REPLICAS.put(partition, new java.lang.ref.SoftReference<>(replica));
        }
    }

    /** Drops every replica (tests; and the replicas of a base that will not come back). */
    static void clearReplicas() {
        synchronized (REPLICAS) {
            REPLICAS.clear();
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
