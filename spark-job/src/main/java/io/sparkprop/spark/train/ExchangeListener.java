package io.sparkprop.spark.train;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.executor.TaskMetrics;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerBlockUpdated;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.apache.spark.scheduler.StageInfo;
import org.apache.spark.scheduler.TaskInfo;
import org.apache.spark.storage.BlockUpdatedInfo;
import org.apache.spark.storage.BroadcastBlockId;
import scala.jdk.javaapi.CollectionConverters;

/**
 * A {@code SparkListener} that adds up, per exchange of one trainer, what Spark's scheduler events
 * say: stages, tasks, result bytes into the driver, the broadcast bytes out of it, shuffle bytes,
 * and the tasks' split of their time ({@link Figures}; {@link ExchangeCosts} says what each means).
 * It is not the exchange's clock ({@link StepTimes}) and not a general job monitor: it sees only
 * the jobs of exchanges it {@link #open}ed. The trainer registers one while it trains; the
 * benchmarks' exchange-only rounds use it too, so both measure the same figures the same way.
 *
 * <p>How events find their exchange: the trainer sets the local property {@link #PROPERTY} to the
 * exchange's id before the exchange's jobs; {@code onJobStart} carries the property and the job's
 * stages, so stage ids map to the exchange, and task events carry their stage id. Bytes out of the
 * driver come from {@code onBlockUpdated} of the driver's block manager: a broadcast's pieces
 * are stored there, serialized (and compressed), when it is created. The weights' broadcast is
 * named by its id ({@link #broadcast}); a stage's task binary is the broadcast the scheduler
 * creates right after posting the stage's {@code onStageSubmitted}, so it is the first broadcast
 * piece after that event (a broadcast another driver thread created in that instant would be taken
 * for it).
 *
 * <p>The listener bus delivers asynchronously: an exchange's events may arrive after it ended.
 * Every event of an exchange is posted before its last job returns (Spark posts
 * {@code onJobEnd} before it hands the last result to the waiting job), so once the listener has
 * seen {@code onJobEnd} for every job an exchange started, its figures are complete; {@link #await}
 * waits for that with a time limit. An exchange whose events did not all arrive has no figures;
 * nothing here throws into the listener bus or the trainer. Callbacks run on the bus's thread, the
 * other methods on the trainer's; both lock this object.
 */
public final class ExchangeListener extends SparkListener {

    /** The local property that names the exchange of a job: its id, as a decimal. */
    public static final String PROPERTY = "sparkprop.exchange";

    /** Exchange ids, unique within the driver's JVM, so two trainers in one SparkContext never mix. */
    private static final AtomicLong IDS = new AtomicLong();

    /**
     * One exchange's figures: bytes, counts, and (per stage, the largest over its tasks; summed
     * over the stages) milliseconds. A byte count that is not known is -1.
     *
     * @param driverOutBytes the weights' broadcast plus the stages' task binaries; -1 unless all are known
     * @param broadcastBytes the weights' broadcast; -1 when its pieces were not seen
     */
    public record Figures(long driverInBytes, long driverOutBytes, long broadcastBytes, long shuffleWriteBytes,
                   long shuffleReadBytes, int stages, int tasks, long schedulerDelayMs, long deserializeMs,
                   long resultMs, long shuffleWaitMs) {
    }

    /** What the events of one exchange added up to so far. */
    private static final class Exchange {
        /** The broadcasts that carried its weights (a lazy round: a new base and its update). */
        final java.util.List<Long> broadcastIds = new java.util.ArrayList<>();
        int jobsStarted;
        int jobsEnded;
        int stageAttempts;
        int tasks;
        long resultBytes;
        long shuffleWriteBytes;
        long shuffleReadBytes;
        /** Task binaries: how many stage attempts had one, their pieces and bytes. */
        int binaries;
        final Set<String> binaryPieces = new HashSet<>();
        long binaryBytes;
        /** Per stage: the largest scheduler delay, deserialize, result and shuffle wait of its tasks. */
        final Map<Integer, long[]> slowest = new HashMap<>();
    }

    private final Map<Long, Exchange> exchanges = new HashMap<>();
    private final Map<Integer, Exchange> jobs = new HashMap<>();
    private final Map<Integer, Exchange> stages = new HashMap<>();
    /** Broadcast id -> piece name -> bytes, of the pieces the driver's block manager stored. */
    private final Map<Long, Map<String, Long>> driverPieces = new HashMap<>();
    /** The exchange whose stage was just submitted and whose task binary comes next; null when none. */
    private Exchange binaryOf;
    private int binaryStage;
    private long binaryId = -1;

    /** A new exchange: the id to set as {@link #PROPERTY} before its jobs. */
    public synchronized long open() {
        long id = IDS.incrementAndGet();
        exchanges.put(id, new Exchange());
        return id;
    }

    /**
     * Exchange {@code exchange}'s weights went out as (or also as) broadcast {@code broadcastId};
     * its broadcast bytes are those of every broadcast so named.
     */
    public synchronized void broadcast(long exchange, long broadcastId) {
        Exchange e = exchanges.get(exchange);
        if (e != null) {
            e.broadcastIds.add(broadcastId);
        }
    }

    /**
     * Waits until every job of the exchanges {@code ids} has been seen to end, at most
     * {@code timeoutMillis}; returns whether they all were (false also when interrupted, with the
     * interrupt kept).
     */
    public synchronized boolean await(long[] ids, long timeoutMillis) {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (!delivered(ids)) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            try {
                wait(Math.max(1, left / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    private boolean delivered(long[] ids) {
        for (long id : ids) {
            Exchange e = exchanges.get(id);
            if (e != null && (e.jobsStarted == 0 || e.jobsEnded < e.jobsStarted)) {
                return false;
            }
        }
        return true;
    }

    /** The figures of exchange {@code id}, or {@code null} when not all of its events were seen. */
    public synchronized Figures figures(long id) {
        Exchange e = exchanges.get(id);
        if (e == null || e.jobsStarted == 0 || e.jobsEnded < e.jobsStarted) {
            return null;
        }
        long[] split = new long[4];
        for (long[] stage : e.slowest.values()) {
            for (int i = 0; i < split.length; i++) {
                split[i] += stage[i];
            }
        }
        long broadcast = e.broadcastIds.isEmpty() ? -1 : 0;
        for (long broadcastId : e.broadcastIds) {
            Map<String, Long> pieces = driverPieces.get(broadcastId);
            if (pieces == null) {
                broadcast = -1;
                break;
            }
            broadcast += pieces.values().stream().mapToLong(Long::longValue).sum();
        }
        long out = broadcast >= 0 && e.binaries == e.stageAttempts ? broadcast + e.binaryBytes : -1;
        return new Figures(e.resultBytes, out, broadcast, e.shuffleWriteBytes, e.shuffleReadBytes, e.stageAttempts,
                e.tasks, split[0], split[1], split[2], split[3]);
    }

    /**
     * Forgets every exchange opened so far and every broadcast piece seen, once their figures are
     * taken: an epoch's end, when none of this trainer's jobs runs. Later events of a forgotten
     * exchange are ignored.
     */
    public synchronized void clear() {
        exchanges.clear();
        jobs.clear();
        stages.clear();
        driverPieces.clear();
        binaryOf = null;
    }

    @Override
    public synchronized void onJobStart(SparkListenerJobStart jobStart) {
        Exchange e = exchangeOf(jobStart.properties());
        if (e == null) {
            return;
        }
        e.jobsStarted++;
        jobs.put(jobStart.jobId(), e);
        for (StageInfo stage : CollectionConverters.asJava(jobStart.stageInfos())) {
            stages.put(stage.stageId(), e);
        }
    }

    @Override
    public synchronized void onStageSubmitted(SparkListenerStageSubmitted submitted) {
        int stageId = submitted.stageInfo().stageId();
        Exchange e = stages.get(stageId);
        binaryOf = e;
        binaryStage = stageId;
        binaryId = -1;
        if (e != null) {
            e.stageAttempts++;
        }
    }

    @Override
    public synchronized void onBlockUpdated(SparkListenerBlockUpdated blockUpdated) {
        BlockUpdatedInfo info = blockUpdated.blockUpdatedInfo();
        if (!(info.blockId() instanceof BroadcastBlockId block) || !block.field().startsWith("piece")
                || !info.blockManagerId().isDriver() || !info.storageLevel().isValid()) {
            return; // executors' copies, removals, and the driver's deserialized values
        }
        long bytes = info.memSize() + info.diskSize();
        if (binaryOf != null && (binaryId < 0 || binaryId == block.broadcastId())) {
            if (binaryId < 0) {
                binaryId = block.broadcastId();
                binaryOf.binaries++;
            }
            if (binaryOf.binaryPieces.add(block.name())) {
                binaryOf.binaryBytes += bytes;
            }
            return;
        }
        // A piece moving from memory to disk is reported again: the first report is its size.
        driverPieces.computeIfAbsent(block.broadcastId(), id -> new HashMap<>()).putIfAbsent(block.field(), bytes);
    }

    @Override
    public synchronized void onTaskStart(SparkListenerTaskStart taskStart) {
        if (binaryOf != null && taskStart.stageId() == binaryStage) {
            binaryOf = null; // the binary comes before the stage's first task
        }
        Exchange e = stages.get(taskStart.stageId());
        if (e != null) {
            e.tasks++;
        }
    }

    @Override
    public synchronized void onTaskEnd(SparkListenerTaskEnd taskEnd) {
        Exchange e = stages.get(taskEnd.stageId());
        TaskMetrics m = taskEnd.taskMetrics();
        if (e == null || m == null) {
            return;
        }
        e.resultBytes += m.resultSize();
        e.shuffleWriteBytes += m.shuffleWriteMetrics().bytesWritten();
        e.shuffleReadBytes += m.shuffleReadMetrics().totalBytesRead();
        TaskInfo task = taskEnd.taskInfo();
        if (task == null || !task.successful() || task.finishTime() <= 0) {
            return;
        }
        // Spark UI's split of a task's duration (AppStatusUtils.schedulerDelay).
        long duration = task.finishTime() - task.launchTime();
        long gettingResult = task.gettingResultTime() > 0 ? task.finishTime() - task.gettingResultTime() : 0;
        long deserialize = m.executorDeserializeTime();
        long result = m.resultSerializationTime() + gettingResult;
        long delay = Math.max(0, duration - m.executorRunTime() - deserialize - result);
        long[] slowest = e.slowest.computeIfAbsent(taskEnd.stageId(), s -> new long[4]);
        slowest[0] = Math.max(slowest[0], delay);
        slowest[1] = Math.max(slowest[1], deserialize);
        slowest[2] = Math.max(slowest[2], result);
        slowest[3] = Math.max(slowest[3], m.shuffleReadMetrics().fetchWaitTime());
    }

    @Override
    public synchronized void onJobEnd(SparkListenerJobEnd jobEnd) {
        Exchange e = jobs.remove(jobEnd.jobId());
        if (e != null) {
            e.jobsEnded++;
            notifyAll();
        }
    }

    /** The open exchange a job's properties name, or null (not ours, or not an exchange's job). */
    private Exchange exchangeOf(Properties properties) {
        String value = properties == null ? null : properties.getProperty(PROPERTY);
        if (value == null) {
            return null;
        }
        try {
            return exchanges.get(Long.parseLong(value));
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
