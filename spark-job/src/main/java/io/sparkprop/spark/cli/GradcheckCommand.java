package io.sparkprop.spark.cli;

import io.sparkprop.core.DataBlock;
import io.sparkprop.core.GradientCheck;
import io.sparkprop.core.Network;
import io.sparkprop.core.WeightInit;
import io.sparkprop.spark.config.JobConfig;
import io.sparkprop.spark.config.TrainingConfig;
import io.sparkprop.spark.data.DataLoader;
import io.sparkprop.spark.data.LoadedData;
import io.sparkprop.spark.train.BlockOps;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code gradcheck}: the core's gradient check on the config's network, at its seeded initial
 * weights, over the first rows of the training data (read and scaled as training would), with the
 * config's L2. Large networks are checked on a seeded sample of parameters.
 */
public final class GradcheckCommand {

    private static final Logger LOG = LoggerFactory.getLogger(GradcheckCommand.class);

    private GradcheckCommand() {
    }

    public static GradientCheck.Result run(SparkSession spark, JobConfig config, int rows, int maxParams) {
        if (rows < 1 || maxParams < 1) {
            throw new IllegalArgumentException("gradcheck needs --rows and --params of at least 1 but got " + rows + " and "
                    + maxParams);
        }
        TrainingConfig settings = TrainingConfig.from(config);
        LoadedData data = DataLoader.load(spark, settings.trainData(), 1);
        List<DataBlock> first = data.blocks().map(b -> head(b, rows)).take(1);
        DataBlock sample = first.get(0);
        if (settings.data().scaling() == TrainingConfig.Scaling.STANDARDIZE) {
            sample = BlockOps.scaleBlock(sample, BlockOps.fitStandardization(data.blocks(), sample.numFeatures(),
                    data.featureNames()));
        }
        data.blocks().unpersist(false);
        double[] params = WeightInit.initialize(settings.spec(), settings.optimization().seed());
        GradientCheck.Result result = GradientCheck.check(new Network(settings.spec()), params, sample, settings.optimization().l2(),
                GradientCheck.Options.defaults().withMaxParams(maxParams, settings.optimization().seed()));
        LOG.info("Gradient check of {} on {} rows: {}", settings.spec(), sample.rows(), result);
        return result;
    }

    private static DataBlock head(DataBlock block, int rows) {
        int n = Math.min(rows, block.rows());
        int[] first = new int[n];
        Arrays.setAll(first, i -> i);
        return block.select(first, 0, n);
    }
}
