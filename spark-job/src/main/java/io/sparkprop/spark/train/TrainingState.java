package io.sparkprop.spark.train;

import io.sparkprop.core.optim.OptimizerState;
import java.util.List;

/**
 * Everything the driver's loop needs to continue a run bit-exactly, besides the data and the
 * config: where it is (epoch, next step, updates applied), the weights, the optimizer state, the
 * current epoch's running loss sums, the fault-handling counters and the metrics so far. Every
 * random choice derives from the seed and these positions, so no generator state is needed.
 *
 * @param epoch               the epoch in progress (0-based); equal to the epoch count when done
 * @param step                the next step within {@code epoch}
 * @param globalStep          steps taken since the start (the schedule's position)
 * @param params              the weights; owned by the state, not copied
 * @param optimizer           the optimizer's state after {@code globalStep} steps
 * @param epochObjectiveSum   Σ objective·weight over the epoch's steps so far
 * @param epochWeightSum      Σ weight over the epoch's steps so far
 * @param learningRateScale   product of the rollback factors applied so far (1 without rollbacks)
 * @param consecutiveSkips    non-finite steps skipped in a row
 * @param rollbacks           rollbacks in a row without reaching a new checkpoint
 * @param elapsedSeconds      training time spent before this state was saved
 * @param history             the metrics of the completed epochs, in epoch order (what
 *                            {@code metrics.jsonl} holds; immutable)
 * @param bestParams          early stopping: the weights of the best epoch so far (empty without
 *                            early stopping, or before the first epoch ends); owned, not copied
 */
public record TrainingState(int epoch, int step, long globalStep, double[] params, OptimizerState optimizer,
                            double epochObjectiveSum, double epochWeightSum, double learningRateScale,
                            int consecutiveSkips, int rollbacks, double elapsedSeconds, List<EpochMetrics> history,
                            double[] bestParams) {

    public TrainingState {
        history = List.copyOf(history);
        if (bestParams == null) {
            throw new IllegalArgumentException("bestParams must be given (empty when there are none) but got null");
        }
    }

    /** A deep copy (weights and optimizer slots cloned). */
    public TrainingState copy() {
        double[][] slots = new double[optimizer.slots().length][];
        for (int i = 0; i < slots.length; i++) {
            slots[i] = optimizer.slots()[i].clone();
        }
        return new TrainingState(epoch, step, globalStep, params.clone(),
                new OptimizerState(optimizer.kind(), optimizer.steps(), slots), epochObjectiveSum, epochWeightSum,
                learningRateScale, consecutiveSkips, rollbacks, elapsedSeconds, history, bestParams.clone());
    }
}
