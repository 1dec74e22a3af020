package io.sparkprop.spark.ml;

import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.Param;

/**
 * The estimators' setters of {@link MlpParams}: one per param, each returning the estimator so
 * that they chain, with MLlib's names where MLPC has the param.
 *
 * @param <S> the estimator, so that setters chain
 */
public interface MlpEstimatorParams<S extends MlpEstimatorParams<S>> extends MlpParams {

    /** Dropout while training: one rate for every hidden layer, or one per hidden layer ({@code model.dropout}). */
    default S setDropout(double... rates) {
        return with(dropout(), rates);
    }

    default S setLayers(int[] value) {
        return with(layers(), value);
    }

    default S setHiddenActivation(String value) {
        return with(hiddenActivation(), value);
    }

    default S setOptimizer(String value) {
        return with(optimizer(), value);
    }

    default S setStepSize(double value) {
        return with(stepSize(), value);
    }

    default S setBatchSize(int value) {
        return with(batchSize(), value);
    }

    default S setMaxIter(int value) {
        return with(maxIter(), value);
    }

    default S setSeed(long value) {
        return with(seed(), value);
    }

    default S setRegParam(double value) {
        return with(regParam(), value);
    }

    default S setSparse(boolean value) {
        return with(sparse(), value);
    }

    default S setNumPartitions(int value) {
        return with(numPartitions(), value);
    }

    default S setReportDir(String value) {
        return with(reportDir(), value);
    }

    default S setPrecision(String value) {
        return with(precision(), value);
    }

    default S setSparseUpdate(String value) {
        return with(sparseUpdate(), value);
    }

    default S setShuffle(String value) {
        return with(shuffle(), value);
    }

    default S setShuffleBuffer(int value) {
        return with(shuffleBuffer(), value);
    }

    default S setChunkBytes(long value) {
        return with(chunkBytes(), value);
    }

    default S setLocalSteps(int value) {
        return with(localSteps(), value);
    }

    default S setValidationFraction(double value) {
        return with(validationFraction(), value);
    }

    default S setWeightCol(String value) {
        return with(weightCol(), value);
    }

    default S setValidationIndicatorCol(String value) {
        return with(validationIndicatorCol(), value);
    }

    default S setEarlyStoppingMetric(String value) {
        return with(earlyStoppingMetric(), value);
    }

    default S setEarlyStoppingPatience(int value) {
        return with(earlyStoppingPatience(), value);
    }

    default S setEarlyStoppingMinDelta(double value) {
        return with(earlyStoppingMinDelta(), value);
    }

    default S setInitialWeights(Vector value) {
        return with(initialWeights(), value);
    }

    default S setMomentum(double value) {
        return with(momentum(), value);
    }

    default S setAdamBeta1(double value) {
        return with(adamBeta1(), value);
    }

    default S setAdamBeta2(double value) {
        return with(adamBeta2(), value);
    }

    default S setAdamEpsilon(double value) {
        return with(adamEpsilon(), value);
    }

    default S setWeightDecay(double value) {
        return with(weightDecay(), value);
    }

    default S setClipNorm(double value) {
        return with(clipNorm(), value);
    }

    default S setSchedule(String value) {
        return with(schedule(), value);
    }

    default S setScheduleGamma(double value) {
        return with(scheduleGamma(), value);
    }

    default S setScheduleStepEpochs(int value) {
        return with(scheduleStepEpochs(), value);
    }

    default S setMinStepSize(double value) {
        return with(minStepSize(), value);
    }

    default S setWarmupSteps(int value) {
        return with(warmupSteps(), value);
    }

    default S setCheckpointDir(String value) {
        return with(checkpointDir(), value);
    }

    default S setCheckpointInterval(int value) {
        return with(checkpointInterval(), value);
    }

    default S setMaxJobRetries(int value) {
        return with(maxJobRetries(), value);
    }

    default S setInitialModel(String value) {
        return with(initialModel(), value);
    }

    default S setSolver(String value) {
        return with(solver(), value);
    }

    default S setBlockSize(int value) {
        return with(blockSize(), value);
    }

    default S setTol(double value) {
        return with(tol(), value);
    }

    @SuppressWarnings("unchecked")
    private <T> S with(Param<T> param, T value) {
        set(param, value);
        return (S) this;
    }
}
