package io.sparkprop.spark.train;

import io.sparkprop.core.EpochPlan;
import io.sparkprop.core.LocalRound;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.Workspace;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Per-executor JVM caches for the step tasks, so a step allocates almost nothing: the epoch's
 * permutation of each partition's rows (computed once per epoch, not once per step) and pools of
 * workspaces per network and capacity (a task borrows one and returns it; concurrent tasks on one
 * executor get different workspaces). Everything here can be recomputed, so losing it (a new
 * executor) changes nothing but speed.
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
